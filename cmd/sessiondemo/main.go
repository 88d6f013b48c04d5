// Command sessiondemo is a small web application that shows sessionkit at
// work: a page counter that survives reloads, log in and out (the session
// ID is renewed on login), a flash message shown once, "your devices" with
// "log out my other devices", and the raw stored record of the current
// session.
//
// Usage:
//
//	go run ./cmd/sessiondemo [-addr 127.0.0.1:8080] [-store URL] [-secure] [-metrics]
//
// With no flags it serves http://127.0.0.1:8080 and keeps sessions in the
// SQLite file ./sessiondemo.db. -store (or the SESSIONDEMO_STORE environment
// variable) selects another store by URL, for example
// mysql://root@127.0.0.1:3306/sessionkit, redis://127.0.0.1:6379/0 or
// file:///tmp/sessions; see the cmd module's README for every form. -metrics
// serves Prometheus metrics (through OpenTelemetry) on /metrics.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sessionkit/session/cmd/internal/storeurl"
)

// defaultStore is where the demo keeps sessions when nothing else is said.
const defaultStore = "sqlite:./sessiondemo.db"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program: it serves until ctx ends (Ctrl-C) and returns
// the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sessiondemo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	storeDefault := defaultStore
	if env := os.Getenv("SESSIONDEMO_STORE"); env != "" {
		storeDefault = env
	}
	addr := fs.String("addr", "127.0.0.1:8080", "`address` to listen on")
	storeURL := fs.String("store", storeDefault, "session store `URL` (env SESSIONDEMO_STORE)")
	secure := fs.Bool("secure", false, "set the Secure attribute on the session cookie (needs HTTPS in most browsers)")
	withMetricsFlag := fs.Bool("metrics", false, "serve Prometheus metrics of the sessions and store calls on /metrics")
	maxSessions := fs.Int("max-sessions", 0, "log a user out of the least recently used device beyond this many sessions (0: no limit)")
	gcEvery := fs.Duration("gc-interval", 5*time.Minute, "how often to remove expired sessions, for stores that need it (0: never)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sessiondemo [flags]\n\nA demo web application of sessionkit. With no flags it serves http://127.0.0.1:8080\nand keeps sessions in the SQLite file %s.\n\nFlags:\n", defaultStore)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nStore URLs: %s\n(for example sqlite:///var/lib/demo.db, mysql://user:pass@127.0.0.1:3306/db,\npostgres://user@127.0.0.1:5432/db?sslmode=disable, mongodb://127.0.0.1:27017/db,\nredis://127.0.0.1:6379/0, memcache://127.0.0.1:11211, file:///tmp/sessions, memory:)\n", "sqlite, mysql, postgres, mongodb, redis, memcache, file, memory")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sessiondemo: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	target, err := storeurl.Open(openCtx, *storeURL, storeurl.Options{Setup: true})
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "sessiondemo: %v\n", err)
		if errors.Is(err, storeurl.ErrUsage) {
			return 2
		}
		return 1
	}
	defer func() {
		if err := target.Close(); err != nil {
			fmt.Fprintf(stderr, "sessiondemo: closing the store: %v\n", err)
		}
	}()

	a := newApp(target, config{Secure: *secure, Logger: logger, MaxSessions: *maxSessions})
	handler := a.handler()
	if *withMetricsFlag {
		mt, err := newMetrics(a)
		if err != nil {
			fmt.Fprintf(stderr, "sessiondemo: %v\n", err)
			return 1
		}
		defer mt.provider.Shutdown(context.Background())
		handler = withMetrics(handler, mt)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "sessiondemo: %v\n", err)
		return 1
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "sessiondemo: listening on http://%s\n", ln.Addr())
	fmt.Fprintf(stdout, "sessiondemo: sessions stored in %s\n", target.Where)
	if *withMetricsFlag {
		fmt.Fprintf(stdout, "sessiondemo: metrics on http://%s/metrics\n", ln.Addr())
	}
	if !*secure {
		fmt.Fprintln(stdout, "sessiondemo: session cookie without Secure (plain HTTP on loopback); use -secure behind HTTPS")
	}
	fmt.Fprintln(stdout, "sessiondemo: press Ctrl-C to stop")

	gcCtx, stopGC := context.WithCancel(context.Background())
	gcDone := make(chan struct{})
	go func() { defer close(gcDone); a.collect(gcCtx, *gcEvery) }()
	defer func() { stopGC(); <-gcDone }()

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		fmt.Fprintf(stderr, "sessiondemo: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "sessiondemo: shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		fmt.Fprintf(stderr, "sessiondemo: shutdown: %v\n", err)
		return 1
	}
	<-serveErr // http.ErrServerClosed
	return 0
}
