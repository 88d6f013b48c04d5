package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cmd/internal/storeurl"
)

const statsHelp = `Counts the live sessions of the store, the expired records still stored
(what "sessionctl gc" would remove), the distinct owners, and the total,
average and largest size of the encoded data. It reads every record once.

Examples:
  sessionctl --store sqlite:///var/lib/app/sessions.db stats
  sessionctl --store redis://127.0.0.1:6379/0 stats --json`

// statsJSON is the --json form of the statistics. Expired is null when the
// store cannot count expired records.
type statsJSON struct {
	Store    string `json:"store"`
	Sessions int    `json:"sessions"`
	Expired  *int   `json:"expired"`
	Owners   int    `json:"owners"`
	Total    int64  `json:"total_bytes"`
	Average  int64  `json:"avg_bytes"`
	Max      int    `json:"max_bytes"`
}

// runStats implements "sessionctl stats".
func runStats(c *cli, args []string) int {
	var cf cmdFlags
	fs := c.flagSet(statsHelp, &cf)
	asJSON := fs.Bool("json", false, "print one JSON object")
	if code := c.parse(fs, args, 0, 0); code >= 0 {
		return code
	}
	ctx, cancel := c.context(&cf)
	defer cancel()
	t, err := c.open(ctx, &cf, storeurl.Options{ReadOnly: true})
	if err != nil {
		return c.fail(err)
	}
	defer c.closeTarget(t)
	if err := iterable(t); err != nil {
		return c.fail(err)
	}
	m := session.New(t.Store)

	s := statsJSON{Store: t.Where}
	owners := map[string]bool{}
	err = m.Iterate(ctx, func(in session.Info) bool {
		s.Sessions++
		s.Total += int64(in.Size)
		s.Max = max(s.Max, in.Size)
		if in.Owner != "" {
			owners[in.Owner] = true
		}
		return true
	})
	if err != nil {
		return c.fail(err)
	}
	s.Owners = len(owners)
	if s.Sessions > 0 {
		s.Average = s.Total / int64(s.Sessions)
	}
	expired, err := t.CountExpired(ctx)
	switch {
	case err == nil:
		s.Expired = &expired
	case !errors.Is(err, session.ErrUnsupported):
		return c.fail(fmt.Errorf("count expired records: %w", err))
	}
	if *asJSON {
		if err := json.NewEncoder(c.stdout).Encode(s); err != nil {
			return c.fail(err)
		}
		return exitOK
	}
	exp := "unknown"
	if s.Expired != nil {
		exp = fmt.Sprint(*s.Expired)
		if t.SelfExpiring() {
			exp += " (the server removes expired records itself)"
		}
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "store:\t%s\n", s.Store)
	fmt.Fprintf(tw, "sessions:\t%d\n", s.Sessions)
	fmt.Fprintf(tw, "expired:\t%s\n", exp)
	fmt.Fprintf(tw, "owners:\t%d\n", s.Owners)
	fmt.Fprintf(tw, "total size:\t%d bytes\n", s.Total)
	fmt.Fprintf(tw, "average size:\t%d bytes\n", s.Average)
	fmt.Fprintf(tw, "largest:\t%d bytes\n", s.Max)
	if err := tw.Flush(); err != nil {
		return c.fail(err)
	}
	return exitOK
}
