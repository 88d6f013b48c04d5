package main

import (
	"errors"
	"fmt"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cmd/internal/storeurl"
)

const migrateHelp = `Creates the session table of a SQL store when it is missing, or upgrades
it, and creates the indexes of a Mongo collection. It looks at the table's
columns first and refuses to change a table that is not what the upgrade
was written for. It is idempotent: run it at every deployment ("already up
to date"). Other stores need no schema; for them it says so and succeeds.

  --layout native   the native table (binary data, expiry, version, owner);
                    a compat or incubator 3.4 table is upgraded to it
  --layout compat   the session_data table of Phalcon's incubator Database
                    adapter, shared with PHP; an incubator 3.4 table is
                    upgraded to it
  --upgrade incubator34   only the upgrade of an incubator 3.4 table
                          (integer Unix seconds) to the compat layout
  --upgrade native        only the upgrade of a compat table to native

Examples:
  sessionctl --store sqlite:///var/lib/app/sessions.db migrate
  sessionctl --store 'mysql://root@127.0.0.1:3306/app?table=session_data' migrate --layout compat
  sessionctl --store 'postgres://app@db/app' migrate --upgrade native
  sessionctl --store mongodb://127.0.0.1:27017/app migrate`

// runMigrate implements "sessionctl migrate".
func runMigrate(c *cli, args []string) int {
	var cf cmdFlags
	var mo storeurl.MigrateOptions
	fs := c.flagSet(migrateHelp, &cf)
	fs.StringVar(&mo.Layout, "layout", "", "table layout: native or compat (default: the URL's layout parameter, else native)")
	fs.StringVar(&mo.Upgrade, "upgrade", "", "run one upgrade only: incubator34 or native")
	if code := c.parse(fs, args, 0, 0); code >= 0 {
		return code
	}
	switch mo.Layout {
	case "", "native", "compat", "compatibility":
	default:
		return c.usageError("--layout %q: want native or compat", mo.Layout)
	}
	switch mo.Upgrade {
	case "", "incubator34", "native":
	default:
		return c.usageError("--upgrade %q: want incubator34 or native", mo.Upgrade)
	}
	if mo.Upgrade == "native" && (mo.Layout == "compat" || mo.Layout == "compatibility") {
		return c.usageError("--upgrade native contradicts --layout compat")
	}
	ctx, cancel := c.context(&cf)
	defer cancel()
	t, err := c.open(ctx, &cf, storeurl.Options{SchemaOnly: true})
	if err != nil {
		return c.fail(err)
	}
	defer c.closeTarget(t)
	msg, err := t.Migrate(ctx, mo)
	if errors.Is(err, session.ErrUnsupported) && mo.Layout == "" && mo.Upgrade == "" {
		fmt.Fprintf(c.stdout, "%s: nothing to migrate (%s stores have no schema)\n", t.Where, t.Scheme)
		return exitOK
	}
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintln(c.stdout, msg)
	return exitOK
}
