package phpcodec

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// Handler is one of PHP's session.serialize_handler formats.
type Handler uint8

const (
	// HandlerPHP is PHP's default "php" handler: key|value pairs, one after
	// the other (a|i:1;b|s:1:"x";). Keys cannot contain '|'.
	HandlerPHP Handler = iota
	// HandlerPHPBinary is the "php_binary" handler: for each pair, one
	// byte holding the key length (0 to 127), the key, then the value.
	HandlerPHPBinary
	// HandlerPHPSerialize is the "php_serialize" handler (PHP 5.5.4+): the
	// whole session is one serialized array, a:<n>:{...}.
	HandlerPHPSerialize
)

// String returns the handler's name as PHP's ini setting spells it.
func (h Handler) String() string {
	switch h {
	case HandlerPHP:
		return "php"
	case HandlerPHPBinary:
		return "php_binary"
	case HandlerPHPSerialize:
		return "php_serialize"
	}
	return fmt.Sprintf("Handler(%d)", uint8(h))
}

// ParseHandler returns the handler called name ("php", "php_binary" or
// "php_serialize"), as in PHP's session.serialize_handler setting.
func ParseHandler(name string) (Handler, error) {
	for _, h := range []Handler{HandlerPHP, HandlerPHPBinary, HandlerPHPSerialize} {
		if h.String() == name {
			return h, nil
		}
	}
	return 0, fmt.Errorf("phpcodec: unknown session serialize handler %q (want php, php_binary or php_serialize)", name)
}

// maxBinaryKey is the longest key php_binary can write: the length byte's
// high bit was PHP 5's "undefined variable" flag.
const maxBinaryKey = 127

// Codec encodes and decodes whole sessions in one of PHP's session
// serialization formats. It satisfies the session package's Codec
// interface (Encode(map[string]any) ([]byte, error) and Decode([]byte)
// (map[string]any, error)). The zero value uses the "php" handler and
// [DefaultMaxDepth]. A Codec is safe for concurrent use.
type Codec struct {
	// Handler is the session.serialize_handler format.
	Handler Handler
	// MaxDepth limits the nesting of non-empty arrays and objects when
	// decoding and encoding; 0 means DefaultMaxDepth. PHP's own limit is
	// the unserialize_max_depth setting, 4096 by default.
	MaxDepth int
}

// Ready-to-use codecs for the three handlers, with [DefaultMaxDepth].
var (
	// PHP is the "php" handler, PHP's default.
	PHP = Codec{Handler: HandlerPHP}
	// PHPBinary is the "php_binary" handler.
	PHPBinary = Codec{Handler: HandlerPHPBinary}
	// PHPSerialize is the "php_serialize" handler.
	PHPSerialize = Codec{Handler: HandlerPHPSerialize}
)

// Encode writes values as PHP's session_encode() would with the codec's
// handler, in the byte order of the keys (PHP keeps insertion order; the
// order does not matter to PHP when it reads the session). Use
// [Codec.EncodeArray] to choose the order.
//
// It fails with an error wrapping [ErrInvalidKey] for a key that the
// handler cannot write (PHP refuses a key containing '|' under "php" and
// skips keys longer than 127 bytes under "php_binary"), and with the errors
// of [Marshal] for values.
func (c Codec) Encode(values map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	entries := make([]Entry, len(keys))
	for i, k := range keys {
		entries[i] = Entry{Key: k, Value: values[k]}
		if c.Handler == HandlerPHPSerialize {
			nk, _ := normalizeKey(k)
			entries[i].Key = nk.entryKey()
		}
	}
	return c.encode(entries)
}

// EncodeArray is like [Codec.Encode] but writes the entries of values in
// their order. Integer keys are written in decimal under the "php" and
// "php_binary" handlers.
func (c Codec) EncodeArray(values *Array) ([]byte, error) {
	return c.encode(values.entriesOrNil())
}

func (c Codec) encode(entries []Entry) ([]byte, error) {
	e := newEncoder(c.MaxDepth)
	switch c.Handler {
	case HandlerPHP, HandlerPHPBinary:
		e.buf = make([]byte, 0, 64)
		for _, en := range entries {
			k := keyString(en.Key)
			if c.Handler == HandlerPHP {
				if strings.IndexByte(k, '|') >= 0 {
					return nil, fmt.Errorf("%w: session key %q contains '|', which the php handler cannot write", ErrInvalidKey, k)
				}
				e.buf = append(e.buf, k...)
				e.buf = append(e.buf, '|')
			} else {
				if len(k) > maxBinaryKey {
					return nil, fmt.Errorf("%w: session key %q is %d bytes, php_binary allows %d", ErrInvalidKey, k, len(k), maxBinaryKey)
				}
				e.buf = append(e.buf, byte(len(k)))
				e.buf = append(e.buf, k...)
			}
			e.path.push(k)
			if err := e.value(en.Value); err != nil {
				return nil, err
			}
			e.path.pop()
		}
		return e.buf, nil
	case HandlerPHPSerialize:
		e.n++ // the session array itself is slot 1
		if err := e.array(entries); err != nil {
			return nil, err
		}
		return e.buf, nil
	}
	return nil, fmt.Errorf("phpcodec: unknown handler %v", c.Handler)
}

// Decode reads a session written by PHP's session_encode() (or by Encode)
// with the codec's handler. Empty data is an empty session. When a key
// appears twice, the last value wins, as in PHP. Under "php_serialize",
// integer keys are returned in decimal.
//
// Errors are *[SyntaxError] with the offset in data. Unlike PHP, bytes
// after the array under "php_serialize" are an error, and so is a
// "php_serialize" session that is not an array (other than N;, an empty
// session).
func (c Codec) Decode(data []byte) (map[string]any, error) {
	entries, _, err := c.decode(data)
	if err != nil {
		return nil, err
	}
	m := make(map[string]any, len(entries))
	for _, en := range entries {
		m[keyString(en.Key)] = en.Value
	}
	return m, nil
}

// DecodeArray is like [Codec.Decode] but keeps the order of the session's
// keys, so that [Codec.EncodeArray] writes back the same bytes. Under
// "php" and "php_binary" every key is a string, as in PHP's $_SESSION after
// session_decode().
func (c Codec) DecodeArray(data []byte) (*Array, error) {
	entries, root, err := c.decode(data)
	if err != nil {
		return nil, err
	}
	if c.Handler == HandlerPHPSerialize {
		if root == nil {
			root = &Array{}
		}
		return root, nil
	}
	a := &Array{entries: make([]Entry, 0, len(entries))}
	for _, en := range entries {
		nk, _ := normalizeKey(en.Key)
		i := a.lookupOrAdd(en.Key, nk)
		a.entries[i].Value = en.Value
	}
	return a, nil
}

// decode returns the session's entries in order; under php and php_binary
// a repeated key appears twice (the caller merges). Under php_serialize it
// also returns the decoded array (nil for an empty session).
func (c Codec) decode(data []byte) ([]Entry, *Array, error) {
	d := newDecoder(data, c.MaxDepth)
	switch c.Handler {
	case HandlerPHP, HandlerPHPBinary:
		// Each top-level value has its own variable (PHP decodes into a
		// temporary, then stores it in $_SESSION), which R: may target.
		top := &Array{}
		for d.pos < d.end {
			var key string
			if c.Handler == HandlerPHP {
				q := bytes.IndexByte(data[d.pos:], '|')
				if q < 0 {
					return nil, nil, d.errAt(d.pos, nil, "session key without '|' (truncated data?)")
				}
				key = string(data[d.pos : d.pos+q])
				d.pos += q + 1
			} else {
				n := int(data[d.pos] & maxBinaryKey) // PHP ignores the old undefined flag
				if d.pos+n >= d.end {
					return nil, nil, d.errAt(d.pos, nil, "session key of %d bytes runs past the end of data", n)
				}
				key = string(data[d.pos+1 : d.pos+1+n])
				d.pos += 1 + n
			}
			top.entries = append(top.entries, Entry{Key: key})
			if err := d.value(loc{arr: top, idx: len(top.entries) - 1}); err != nil {
				return nil, nil, err
			}
		}
		return top.entries, nil, nil
	case HandlerPHPSerialize:
		if len(data) == 0 {
			return nil, nil, nil
		}
		var root any
		if err := d.value(loc{ptr: &root}); err != nil {
			return nil, nil, err
		}
		if d.pos != d.end {
			return nil, nil, d.errAt(d.pos, nil, "unexpected data after the session array: %s", d.describe(d.pos))
		}
		switch r := root.(type) {
		case nil:
			return nil, nil, nil
		case *Array:
			return r.entries, r, nil
		}
		return nil, nil, d.errAt(0, ErrNotArray, "session data is %s, not an array", kindName(root))
	}
	return nil, nil, fmt.Errorf("phpcodec: unknown handler %v", c.Handler)
}

// Marshal is like the package's [Marshal] with the codec's MaxDepth; the
// handler does not matter.
func (c Codec) Marshal(v any) ([]byte, error) {
	return marshal(v, c.MaxDepth)
}

// Unmarshal is like the package's [Unmarshal] with the codec's MaxDepth;
// the handler does not matter.
func (c Codec) Unmarshal(data []byte) (any, error) {
	return unmarshal(data, c.MaxDepth)
}
