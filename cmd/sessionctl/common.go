package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cmd/internal/storeurl"
)

// cli is one run of the program: where output goes and the global flags.
type cli struct {
	ctx            context.Context
	stdout, stderr io.Writer
	store          string        // the global --store
	timeout        time.Duration // the global --timeout
	global         *flag.FlagSet
	cmd            command
	flags          *cmdFlags // the current subcommand's common flags
}

// cmdFlags are the flags every subcommand has, besides its own.
type cmdFlags struct {
	store   string
	timeout time.Duration
}

// flagSet returns the flag set of the current subcommand, with the common
// flags and a usage text made of help (a paragraph or two, with examples).
func (c *cli) flagSet(help string, cf *cmdFlags) *flag.FlagSet {
	c.flags = cf
	fs := flag.NewFlagSet("sessionctl "+c.cmd.name, flag.ContinueOnError)
	fs.StringVar(&cf.store, "store", "", "session store `URL` (default: the global --store, else env SESSIONCTL_STORE)")
	fs.DurationVar(&cf.timeout, "timeout", c.timeout, "give up after this long (0: no limit); the default is the global --timeout")
	fs.Usage = func() {
		w := c.stderr
		args := ""
		if c.cmd.args != "" {
			args = " " + c.cmd.args
		}
		fmt.Fprintf(w, "Usage: sessionctl %s [flags]%s\n\n%s\n\nFlags:\n", c.cmd.name, args, help)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fmt.Fprint(w, "\nExit codes: 0 success, 1 the operation failed, 2 usage error.\n")
	}
	return fs
}

// parseFlags parses args with fs. The flag package's own messages (and
// its habit of printing the whole help after them) are replaced by one
// line; --help prints usage. It returns the exit code to stop with, or -1
// to go on.
func (c *cli) parseFlags(fs *flag.FlagSet, args []string, usage func()) int {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case err == nil:
		return -1
	case errors.Is(err, flag.ErrHelp):
		usage()
		return exitOK
	}
	return c.usageError("%v", err)
}

// parse parses args with fs and checks the number of positional arguments
// (min, and max < 0 for no limit). It returns the exit code to stop with,
// or -1 to go on.
func (c *cli) parse(fs *flag.FlagSet, args []string, minArgs, maxArgs int) int {
	if code := c.parseFlags(fs, args, fs.Usage); code >= 0 {
		return code
	}
	cf := c.flags
	if cf != nil && cf.store == "" {
		cf.store = c.store
	}
	if cf != nil && cf.timeout < 0 {
		return c.usageError("--timeout must not be negative")
	}
	n := fs.NArg()
	switch {
	case n < minArgs:
		return c.usageError("missing argument %s", c.cmd.args)
	case maxArgs >= 0 && n > maxArgs:
		return c.usageError("unexpected argument %q", fs.Arg(maxArgs))
	}
	return -1
}

// prefix is how messages of the current command start: "sessionctl: ls: ".
func (c *cli) prefix() string {
	if c.cmd.name == "" {
		return "sessionctl: "
	}
	return "sessionctl: " + c.cmd.name + ": "
}

// usageError reports a usage error on one line, with where to read the
// usage, and returns exitUsage.
func (c *cli) usageError(format string, a ...any) int {
	see := "sessionctl help"
	if c.cmd.name != "" {
		see += " " + c.cmd.name
	}
	fmt.Fprintf(c.stderr, "%s%s (see '%s')\n", c.prefix(), oneLine(fmt.Sprintf(format, a...)), see)
	return exitUsage
}

// fail reports a failed operation on one line and returns its exit code:
// exitUsage for a bad store URL, exitFail otherwise.
func (c *cli) fail(err error) int {
	msg := err.Error()
	if errors.Is(err, context.DeadlineExceeded) && c.flags != nil && c.flags.timeout > 0 {
		msg += fmt.Sprintf(" (gave up after %s; see --timeout)", c.flags.timeout)
	}
	if errors.Is(err, storeurl.ErrUsage) {
		return c.usageError("%s", msg)
	}
	fmt.Fprintf(c.stderr, "%s%s\n", c.prefix(), oneLine(msg))
	return exitFail
}

// oneLine joins the lines of a message (some drivers' errors span several).
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// context returns the command's context, with the --timeout applied.
func (c *cli) context(cf *cmdFlags) (context.Context, context.CancelFunc) {
	if cf.timeout > 0 {
		return context.WithTimeout(c.ctx, cf.timeout)
	}
	return context.WithCancel(c.ctx)
}

// open opens the store of cf. The caller closes the target.
func (c *cli) open(ctx context.Context, cf *cmdFlags, o storeurl.Options) (*storeurl.Target, error) {
	if cf.store == "" {
		return nil, fmt.Errorf("%w: no store: give --store URL or set SESSIONCTL_STORE", storeurl.ErrUsage)
	}
	return storeurl.Open(ctx, cf.store, o)
}

// closeTarget closes t, reporting an error on stderr.
func (c *cli) closeTarget(t *storeurl.Target) {
	if err := t.Close(); err != nil {
		fmt.Fprintf(c.stderr, "%sclosing the store: %s\n", c.prefix(), oneLine(err.Error()))
	}
}

// cleanError is an error whose message is written for people, wrapping a
// sentinel (such as session.ErrUnsupported) without repeating its text.
type cleanError struct {
	msg string
	err error
}

func (e *cleanError) Error() string { return e.msg }
func (e *cleanError) Unwrap() error { return e.err }

// errorf returns an error with the formatted message that wraps err.
func errorf(err error, format string, a ...any) error {
	return &cleanError{msg: fmt.Sprintf(format, a...), err: err}
}

// iterable checks that t's store can list its sessions.
func iterable(t *storeurl.Target) error {
	if _, ok := t.Store.(session.Iterator); ok {
		return nil
	}
	return errorf(session.ErrUnsupported, "%s: cannot list sessions (the server keeps no index of its keys)", t.Where)
}

// codecFlags are the flags of the commands that decode values or turn IDs
// into keys.
type codecFlags struct {
	codec  string
	rawIDs bool
}

// add registers the flags on fs.
func (k *codecFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&k.codec, "codec", "", "codec of the stored values: binary, gob, json, php, php_binary or php_serialize (default: the URL's codec parameter, else binary, which reads gob too)")
	fs.BoolVar(&k.rawIDs, "raw-ids", false, "records are stored under raw session IDs, not their SHA-256 (default: the URL's raw_ids or layout=compat)")
}

// manager returns a session manager over t configured by the URL and k.
func (k *codecFlags) manager(t *storeurl.Target) (*session.Manager, error) {
	m := session.New(t.Store)
	m.Codec = t.Codec
	if k.codec != "" {
		codec, err := storeurl.Codec(k.codec)
		if err != nil {
			return nil, err
		}
		m.Codec = codec
	}
	if m.Codec == nil {
		m.Codec = session.BinaryCodec{} // the manager's default; reads gob records too
	}
	m.RawIDs = t.RawIDs || k.rawIDs
	return m, nil
}

// resolve finds the store key of arg, which is a store key or a session
// ID (hashed to its key unless the manager uses raw IDs): it returns the
// first of the two under which a live record is stored.
func resolve(ctx context.Context, m *session.Manager, arg string) (string, session.Record, error) {
	candidates := []string{arg}
	if k := m.KeyOf(arg); k != arg {
		candidates = append(candidates, k)
	}
	for _, k := range candidates {
		rec, err := m.Store.Load(ctx, k)
		if err == nil {
			return k, rec, nil
		}
		if !errors.Is(err, session.ErrNotFound) && !errors.Is(err, session.ErrInvalidKey) {
			return "", session.Record{}, err
		}
	}
	return "", session.Record{}, fmt.Errorf("no live session with ID or key %q: %w", arg, session.ErrNotFound)
}

// isTerminal reports whether w is a terminal, for progress output.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// timeText formats t for tables, or "-" when zero.
func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
