// Command sessionctl administers the session stores of sessionkit: it
// creates and upgrades SQL schemas and Mongo indexes, removes expired
// sessions, lists, shows and removes sessions, and counts them.
//
// Usage:
//
//	sessionctl [--store URL] COMMAND [flags] [args]
//
// Commands: migrate, gc, ls, show, rm, stats. The store is chosen by URL
// (--store, or the SESSIONCTL_STORE environment variable): sqlite://,
// mysql://, postgres://, mongodb://, redis://, memcache://, file://. Run
// "sessionctl COMMAND --help" for each command's flags.
//
// Exit codes: 0 success, 1 the operation failed, 2 usage error.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// command is one subcommand.
type command struct {
	name    string
	args    string // argument synopsis, after the flags
	summary string
	run     func(c *cli, args []string) int
}

// commands lists the subcommands in the order the help shows them.
var commands = []command{
	{"migrate", "", "create or upgrade the SQL schema, or the Mongo indexes", runMigrate},
	{"gc", "", "remove expired sessions (or count them with --dry-run)", runGC},
	{"ls", "", "list live sessions", runLs},
	{"show", "ID|KEY", "show a session's metadata and decoded values", runShow},
	{"rm", "ID|KEY...", "remove sessions", runRm},
	{"stats", "", "count sessions, expired records and sizes", runStats},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runContext(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs sessionctl with args (without the program name) and returns
// the exit code. Tests call it in-process.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

// defaultTimeout bounds every command unless --timeout says otherwise.
const defaultTimeout = 30 * time.Second

// runContext is run with a context that Ctrl-C cancels.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{ctx: ctx, stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("sessionctl", flag.ContinueOnError)
	fs.StringVar(&c.store, "store", "", "session store `URL` (default: env SESSIONCTL_STORE)")
	fs.DurationVar(&c.timeout, "timeout", defaultTimeout, "give up on any command after this long (0: no limit)")
	c.global = fs
	if code := c.parseFlags(fs, args, c.mainUsage); code >= 0 {
		return code
	}
	if c.timeout < 0 {
		return c.usageError("--timeout must not be negative")
	}
	if c.store == "" {
		c.store = os.Getenv("SESSIONCTL_STORE")
	}
	if fs.NArg() == 0 {
		return c.usageError("no command given")
	}
	name := fs.Arg(0)
	if name == "help" {
		if fs.NArg() > 1 {
			return c.dispatch(fs.Arg(1), []string{"--help"})
		}
		c.mainUsage()
		return exitOK
	}
	return c.dispatch(name, fs.Args()[1:])
}

// dispatch runs the command called name.
func (c *cli) dispatch(name string, args []string) int {
	for _, cmd := range commands {
		if cmd.name == name {
			c.cmd = cmd
			return cmd.run(c, args)
		}
	}
	return c.usageError("unknown command %q", name)
}

// mainUsage prints the program's help.
func (c *cli) mainUsage() {
	w := c.stderr
	fs := c.global
	fmt.Fprint(w, `Usage: sessionctl [--store URL] COMMAND [flags] [args]

sessionctl administers sessionkit session stores.

Commands:
`)
	for _, cmd := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprint(w, `
Global flags:
`)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintf(w, `
Store URLs (--store or SESSIONCTL_STORE):
  %s

Run "sessionctl COMMAND --help" for a command's flags.
Exit codes: 0 success, 1 the operation failed, 2 usage error.
`, strings.ReplaceAll(storeURLHelp, "\n", "\n  "))
}

// storeURLHelp lists the URL forms.
const storeURLHelp = `sqlite:///path/to/file.db   sqlite:./relative.db
mysql://user:pass@host:3306/db
postgres://user:pass@host:5432/db?sslmode=disable
mongodb://host:27017/db?collection=sessions
redis://host:6379/0   rediss://...   redis-cluster://h1:7000,h2:7001
memcache://host:11211
file:///path/to/dir   memory:
Options: ?layout=native|compat &table=NAME &codec=binary|gob|json|php|php_binary|php_serialize
         &raw_ids=true &prefix=PREFIX &max_lifetime=1440s`
