package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cmd/internal/storeurl"
)

const lsHelp = `Lists the live sessions of the store: store key, owner, created, last
modified, expiry and size of the encoded data. --owner lists one user's
sessions (through the store's owner index when it has one). --json prints
one JSON object per line. Expired records that are still stored are not
listed (see "sessionctl stats" and "sessionctl gc").

Examples:
  sessionctl --store sqlite:///var/lib/app/sessions.db ls
  sessionctl --store redis://127.0.0.1:6379/0 ls --owner alice
  sessionctl --store mongodb://127.0.0.1:27017/app ls --json | jq .key`

// lsJSON is one line of "ls --json".
type lsJSON struct {
	Key      string    `json:"key"`
	Owner    string    `json:"owner"`
	Created  time.Time `json:"created"`
	Modified time.Time `json:"modified"`
	Expires  time.Time `json:"expires"`
	Size     int       `json:"size"`
}

// runLs implements "sessionctl ls".
func runLs(c *cli, args []string) int {
	var cf cmdFlags
	fs := c.flagSet(lsHelp, &cf)
	owner := fs.String("owner", "", "list only the sessions of this `owner` (user)")
	asJSON := fs.Bool("json", false, "print one JSON object per line")
	limit := fs.Int("limit", 0, "stop after this many sessions (0: all)")
	if code := c.parse(fs, args, 0, 0); code >= 0 {
		return code
	}
	if *limit < 0 {
		return c.usageError("--limit must not be negative")
	}
	ctx, cancel := c.context(&cf)
	defer cancel()
	t, err := c.open(ctx, &cf, storeurl.Options{ReadOnly: true})
	if err != nil {
		return c.fail(err)
	}
	defer c.closeTarget(t)
	if err := iterable(t); err != nil && *owner == "" {
		return c.fail(err)
	}
	m := session.New(t.Store)

	var tw *tabwriter.Writer
	enc := json.NewEncoder(c.stdout)
	if !*asJSON {
		tw = tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tOWNER\tCREATED\tMODIFIED\tEXPIRES\tSIZE")
	}
	n := 0
	var writeErr error
	emit := func(in session.Info) bool {
		if *owner != "" && in.Owner != *owner {
			return true
		}
		if *asJSON {
			writeErr = enc.Encode(lsJSON{in.Key, in.Owner, in.Created, in.Modified, in.Expiry, in.Size})
		} else {
			_, writeErr = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", in.Key, orDash(in.Owner), timeText(in.Created), timeText(in.Modified), timeText(in.Expiry), in.Size)
		}
		n++
		return writeErr == nil && (*limit == 0 || n < *limit)
	}
	if *owner != "" {
		infos, err := m.OwnerSessions(ctx, *owner)
		switch {
		case errors.Is(err, session.ErrUnsupported):
			// No owner index: scan.
			if err = iterable(t); err == nil {
				err = m.Iterate(ctx, emit)
			}
		case err == nil:
			for _, in := range infos {
				if !emit(in) {
					break
				}
			}
		}
		if err != nil {
			return c.fail(err)
		}
	} else if err := m.Iterate(ctx, emit); err != nil {
		return c.fail(err)
	}
	if tw != nil {
		if err := tw.Flush(); err != nil && writeErr == nil {
			writeErr = err
		}
		fmt.Fprintf(c.stderr, "%d session(s)\n", n)
	}
	if writeErr != nil {
		return c.fail(writeErr)
	}
	return exitOK
}

// orDash returns s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
