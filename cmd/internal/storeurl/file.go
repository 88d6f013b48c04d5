package storeurl

import (
	"context"
	"fmt"
	"net/url"

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
	return p.finish(t)
}
