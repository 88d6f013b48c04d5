package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cmd/internal/storeurl"
)

const rmHelp = `Removes sessions, given by session ID (the cookie value) or by store key.
An ID is hashed to its key (SHA-256) unless the store keeps raw IDs
(--raw-ids, or raw_ids=true / layout=compat in the URL). The session is
logged out at once. A record the store cannot read (corrupt, or data that
does not decode) is removed too. A session that does not exist is an error
(exit 1); the others are still removed.

Examples:
  sessionctl --store sqlite:///var/lib/app/sessions.db rm 3f0c9d...e1
  sessionctl --store redis://127.0.0.1:6379/0 rm 'AbCdEf...session-id'`

// runRm implements "sessionctl rm".
func runRm(c *cli, args []string) int {
	var cf cmdFlags
	var kf codecFlags
	fs := c.flagSet(rmHelp, &cf)
	fs.BoolVar(&kf.rawIDs, "raw-ids", false, "records are stored under raw session IDs, not their SHA-256")
	if code := c.parse(fs, args, 1, -1); code >= 0 {
		return code
	}
	ctx, cancel := c.context(&cf)
	defer cancel()
	t, err := c.open(ctx, &cf, storeurl.Options{})
	if err != nil {
		return c.fail(err)
	}
	defer c.closeTarget(t)
	m, err := kf.manager(t)
	if err != nil {
		return c.fail(err)
	}
	code := exitOK
	for _, arg := range fs.Args() {
		key, err := resolveForRemoval(ctx, m, arg)
		if err == nil {
			err = m.DestroyKey(ctx, key)
		}
		if err != nil {
			code = c.fail(err)
			continue
		}
		fmt.Fprintf(c.stdout, "removed %s\n", key)
	}
	return code
}

// resolveForRemoval is resolve for rm: a record that the store holds but
// cannot read (an error wrapping session.ErrCorrupt or session.ErrDecode)
// is found as well, so that it can be removed.
func resolveForRemoval(ctx context.Context, m *session.Manager, arg string) (string, error) {
	candidates := []string{arg}
	if k := m.KeyOf(arg); k != arg {
		candidates = append(candidates, k)
	}
	for _, k := range candidates {
		_, err := m.Store.Load(ctx, k)
		switch {
		case err == nil, errors.Is(err, session.ErrCorrupt), errors.Is(err, session.ErrDecode):
			return k, nil
		case !errors.Is(err, session.ErrNotFound) && !errors.Is(err, session.ErrInvalidKey):
			return "", err
		}
	}
	return "", fmt.Errorf("no live session with ID or key %q: %w", arg, session.ErrNotFound)
}
