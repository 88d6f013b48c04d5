package storeurl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/sessionkit/session/filestore"
)

func init() { register(openFile, []string{"prefix"}, "file") }

// openFile opens a directory of session files: file:///abs/dir or
// file:./rel/dir, with prefix=sess_ for PHP's files handler naming.
func openFile(_ context.Context, u *url.URL, p *params, _ Options) (*Target, error) {
	dir, err := pathOf(u)
	if err != nil {
		return nil, err
	}
	if len(u.Query()) > 0 {
		return nil, fmt.Errorf("%w: file: unknown parameter(s) %s", ErrUsage, u.RawQuery)
	}
	s, err := filestore.New(filestore.Options{Dir: dir, Prefix: p.get("prefix")})
	if err != nil {
		return nil, fmt.Errorf("open file store %s: %w", dir, err)
	}
	t := &Target{Store: s, Where: "directory " + s.Dir()}
	prefix := p.values.Get("prefix")
	t.countExpired = func(ctx context.Context) (int, error) {
		expired, entries, err := countExpiredFiles(ctx, s.Dir(), prefix)
		// filestore's GC examines DefaultGCBatch entries a call.
		t.gcIdleCalls = entries/filestore.DefaultGCBatch + 2
		return expired, err
	}
	return p.finish(t)
}

// countExpiredFiles counts the session files of dir whose modification
// time, which filestore sets to the record's expiry, has passed. Hidden
// entries (lock and owner directories, temporary files) are not sessions.
func countExpiredFiles(ctx context.Context, dir, prefix string) (expired, entries int, err error) {
	f, err := os.Open(dir)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	now := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return expired, entries, err
		}
		list, err := f.ReadDir(1000)
		entries += len(list)
		for _, e := range list {
			name := e.Name()
			if strings.HasPrefix(name, ".") || !strings.HasPrefix(name, prefix) || !e.Type().IsRegular() {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				continue // removed meanwhile
			}
			if !fi.ModTime().After(now) {
				expired++
			}
		}
		if errors.Is(err, io.EOF) {
			return expired, entries, nil
		}
		if err != nil {
			return expired, entries, err
		}
	}
}
