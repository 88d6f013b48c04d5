package storeurl

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sessionkit/session"
)

// codecs maps codec names to codecs. The PHP codecs are added by php.go.
var codecs = map[string]session.Codec{
	"binary": session.BinaryCodec{},
	"gob":    session.GobCodec{},
	"json":   session.JSONCodec{},
}

// CodecNames returns the known codec names, sorted.
func CodecNames() []string {
	n := make([]string, 0, len(codecs))
	for k := range codecs {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Codec returns the codec called name (binary, gob, json, php, php_binary,
// php_serialize). The empty name gives nil: the manager's default, binary
// (which also reads gob records).
func Codec(name string) (session.Codec, error) {
	if name == "" {
		return nil, nil
	}
	c, ok := codecs[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("%w: unknown codec %q (known: %s)", ErrUsage, name, strings.Join(CodecNames(), ", "))
	}
	return c, nil
}

// finish fills the fields every opener shares from p.
func (p *params) finish(t *Target) (*Target, error) {
	c, err := Codec(p.codec)
	if err != nil {
		t.Close()
		return nil, err
	}
	t.Codec, t.CodecName, t.RawIDs, t.Layout = c, p.codec, p.rawIDs, p.layout
	return t, nil
}
