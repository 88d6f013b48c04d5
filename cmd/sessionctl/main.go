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
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
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

// runContext is run with a context that Ctrl-C cancels.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{ctx: ctx, stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("sessionctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.store, "store", "", "session store `URL` (default: env SESSIONCTL_STORE)")
	fs.Usage = func() { c.mainUsage(fs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if c.store == "" {
		c.store = os.Getenv("SESSIONCTL_STORE")
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "sessionctl: no command given")
		c.mainUsage(fs)
		return exitUsage
	}
	name := fs.Arg(0)
	if name == "help" {
		if fs.NArg() > 1 {
			return c.dispatch(fs.Arg(1), []string{"--help"}, fs)
		}
		c.mainUsage(fs)
		return exitOK
	}
	return c.dispatch(name, fs.Args()[1:], fs)
}

// dispatch runs the command called name.
func (c *cli) dispatch(name string, args []string, fs *flag.FlagSet) int {
	for _, cmd := range commands {
		if cmd.name == name {
			c.cmd = cmd
			return cmd.run(c, args)
		}
	}
	fmt.Fprintf(c.stderr, "sessionctl: unknown command %q\n", name)
	c.mainUsage(fs)
	return exitUsage
}

// mainUsage prints the program's help.
func (c *cli) mainUsage(fs *flag.FlagSet) {
	w := c.stderr
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
Options: ?layout=native|compat &table=NAME &codec=gob|json|php|php_binary|php_serialize
         &raw_ids=true &prefix=PREFIX &max_lifetime=1440s`
