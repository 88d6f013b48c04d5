// Command mongotest runs a MongoDB-wire-compatible test server: FerretDB v1
// embedded (github.com/FerretDB/FerretDB/ferretdb) with its SQLite backend.
//
// It exists only for the test servers started by scripts/services.sh; it is a
// separate module so that FerretDB's dependencies never enter the library's
// own go.mod. Build it from this directory with
//
//	GOWORK=off go build -o <repo>/.services/bin/mongotest .
//
// and run it as
//
//	mongotest -listen-addr 127.0.0.1:27017 -data-dir <repo>/.services/mongo/data [-pid-file FILE]
//
// It serves until SIGINT or SIGTERM, then removes its pid file. Note that FerretDB v1 does not implement
// TTL indexes, so nothing under test may rely on them.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data-dir", "", "directory for the SQLite database files (required)")
	pidFile := flag.String("pid-file", "", "write the process id to this file while serving")
	debug := flag.Bool("debug", false, "log at debug level")
	flag.Parse()

	if err := run(*listenAddr, *dataDir, *pidFile, *debug); err != nil {
		fmt.Fprintln(os.Stderr, "mongotest:", err)
		os.Exit(1)
	}
}

func run(listenAddr, dataDir, pidFile string, debug bool) error {
	if dataDir == "" {
		return fmt.Errorf("-data-dir is required")
	}
	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: listenAddr},
		Logger:   logger,
		Handler:  "sqlite",
		// The SQLite backend takes a directory URI, which must end with a slash.
		SQLiteURL: "file:" + dir + "/",
	})
	if err != nil {
		return err
	}

	if pidFile != "" {
		if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return err
		}
		defer os.Remove(pidFile)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logger.Info("mongotest: serving", "addr", listenAddr, "data", dir)
	if err := f.Run(ctx); err != nil {
		return err
	}
	logger.Info("mongotest: stopped")
	return nil
}
