package phpcodec

import (
	"errors"
	"strings"
	"testing"
)

// The codecs satisfy the session package's Codec interface (declared here
// structurally so that this package does not import it).
var _ interface {
	Encode(values map[string]any) ([]byte, error)
	Decode(data []byte) (map[string]any, error)
} = PHP

func TestHandlerNames(t *testing.T) {
	for _, c := range []Codec{PHP, PHPBinary, PHPSerialize} {
		h, err := ParseHandler(c.Handler.String())
		if err != nil || h != c.Handler {
			t.Errorf("ParseHandler(%q) = %v, %v", c.Handler, h, err)
		}
	}
	if _, err := ParseHandler("wddx"); err == nil {
		t.Errorf("ParseHandler(wddx) succeeded")
	}
}

// Outputs checked against PHP 8.2's session_encode() (see php_test.go).
func TestSessionEncode(t *testing.T) {
	values := map[string]any{"a": 1, "b!c": "x", "!d": []any{1, 2}, "e": nil}
	tests := []struct {
		codec Codec
		want  string
	}{
		{PHP, `!d|a:2:{i:0;i:1;i:1;i:2;}a|i:1;b!c|s:1:"x";e|N;`},
		{PHPBinary, "\x02!da:2:{i:0;i:1;i:1;i:2;}\x01ai:1;\x03b!cs:1:\"x\";\x01eN;"},
		{PHPSerialize, `a:4:{s:2:"!d";a:2:{i:0;i:1;i:1;i:2;}s:1:"a";i:1;s:3:"b!c";s:1:"x";s:1:"e";N;}`},
	}
	for _, tt := range tests {
		got, err := tt.codec.Encode(values)
		if err != nil || string(got) != tt.want {
			t.Errorf("%v: Encode = %q, %v; want %q", tt.codec.Handler, got, err, tt.want)
			continue
		}
		back, err := tt.codec.Decode(got)
		if err != nil {
			t.Errorf("%v: Decode: %v", tt.codec.Handler, err)
			continue
		}
		want := map[string]any{"a": int64(1), "b!c": "x", "!d": NewList(int64(1), int64(2)), "e": nil}
		if !equal(back, want) {
			t.Errorf("%v: Decode = %s", tt.codec.Handler, dump(back))
		}
	}
}

func TestSessionEmpty(t *testing.T) {
	for _, c := range []Codec{PHP, PHPBinary, PHPSerialize} {
		m, err := c.Decode(nil)
		if err != nil || m == nil || len(m) != 0 {
			t.Errorf("%v: Decode(empty) = %v, %v", c.Handler, m, err)
		}
		b, err := c.Encode(nil)
		want := ""
		if c.Handler == HandlerPHPSerialize {
			want = "a:0:{}"
		}
		if err != nil || string(b) != want {
			t.Errorf("%v: Encode(nil) = %q, %v", c.Handler, b, err)
		}
	}
	if m, err := PHPSerialize.Decode([]byte("N;")); err != nil || len(m) != 0 {
		t.Errorf("php_serialize N;: %v, %v", m, err)
	}
}

func TestSessionReferencesAcrossKeys(t *testing.T) {
	// From PHP: $x = [1]; $_SESSION['r1'] = &$x; $_SESSION['r2'] = &$x;
	in := `a|i:1;r1|a:1:{i:0;i:1;}r2|R:2;o1|O:8:"stdClass":0:{}o2|r:4;`
	m, err := PHP.Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if m["r1"] != m["r2"] || m["o1"] != m["o2"] {
		t.Fatalf("references not shared: %s", dump(m))
	}
	a, err := PHP.DecodeArray([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := PHP.EncodeArray(a); err != nil || string(b) != in {
		t.Errorf("EncodeArray = %q, %v; want %q", b, err, in)
	}
	// Encode sorts the keys and numbers the references again.
	b, err := PHP.Encode(m)
	want := `a|i:1;o1|O:8:"stdClass":0:{}o2|r:2;r1|a:1:{i:0;i:1;}r2|R:4;`
	if err != nil || string(b) != want {
		t.Errorf("Encode = %q, %v; want %q", b, err, want)
	}
}

func TestSessionDecodeQuirks(t *testing.T) {
	tests := []struct {
		codec Codec
		in    string
		want  map[string]any
	}{
		// Behaviour of PHP 8.2's session_decode (see php_test.go).
		{PHP, "!d|i:1;", map[string]any{"!d": int64(1)}},
		{PHP, "|i:1;", map[string]any{"": int64(1)}},
		{PHP, "a|i:1;a|i:2;", map[string]any{"a": int64(2)}},
		{PHP, "a|i:1;;b|i:2;", map[string]any{"a": int64(1), ";b": int64(2)}},
		{PHP, "5|i:1;", map[string]any{"5": int64(1)}},
		{PHPBinary, "\x81ai:1;", map[string]any{"a": int64(1)}}, // old undefined flag ignored
		{PHPBinary, "\x00i:1;", map[string]any{"": int64(1)}},
		{PHPSerialize, `a:1:{i:5;i:1;}`, map[string]any{"5": int64(1)}},
		{PHPSerialize, `a:1:{s:1:"5";i:1;}`, map[string]any{"5": int64(1)}},
	}
	for _, tt := range tests {
		got, err := tt.codec.Decode([]byte(tt.in))
		if err != nil || !equal(got, tt.want) {
			t.Errorf("%v: Decode(%q) = %s, %v; want %s", tt.codec.Handler, tt.in, dump(got), err, dump(tt.want))
		}
	}
}

func TestSessionDecodeErrors(t *testing.T) {
	tests := []struct {
		codec  Codec
		in     string
		offset int
		err    error
	}{
		{PHP, "a|i:1;garbage", 6, nil},
		{PHP, "a|i:1;b|i:x;", 10, nil},
		{PHP, "a|i:1;|", 7, nil},
		{PHP, "a|r:1;", 2, ErrReference},
		{PHP, `a|s:5:"abc";`, 12, nil},
		{PHP, `a|s:6:"abc";`, 4, nil},
		{PHPBinary, "\x01ai:1;\x01", 6, nil},
		{PHPBinary, "\x01a", 2, nil},
		{PHPBinary, "\x05ab", 0, nil},
		{PHPBinary, "\x01ai:1;garbage", 6, nil},
		{PHPSerialize, `i:5;`, 0, ErrNotArray},
		{PHPSerialize, `b:0;`, 0, ErrNotArray},
		{PHPSerialize, `a:1:{i:0;R:1;}`, 0, ErrNotArray},
		{PHPSerialize, `a:0:{}junk`, 6, nil},
		{PHPSerialize, `garbage`, 0, nil},
	}
	for _, tt := range tests {
		_, err := tt.codec.Decode([]byte(tt.in))
		var se *SyntaxError
		if !errors.As(err, &se) || se.Offset != tt.offset || tt.err != nil && !errors.Is(err, tt.err) {
			t.Errorf("%v: Decode(%q) = %v; want a SyntaxError at %d (%v)", tt.codec.Handler, tt.in, err, tt.offset, tt.err)
		}
	}
}

func TestSessionInvalidKeys(t *testing.T) {
	if _, err := PHP.Encode(map[string]any{"a|b": 1}); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("php key with '|': %v", err)
	}
	long := strings.Repeat("k", 128)
	if _, err := PHPBinary.Encode(map[string]any{long: 1}); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("php_binary 128-byte key: %v", err)
	}
	if b, err := PHPBinary.Encode(map[string]any{long[:127]: 1}); err != nil || b[0] != 127 {
		t.Errorf("php_binary 127-byte key: %v", err)
	}
	for _, c := range []Codec{PHPBinary, PHPSerialize} {
		if _, err := c.Encode(map[string]any{"a|b": 1}); err != nil {
			t.Errorf("%v: key with '|': %v", c.Handler, err)
		}
	}
	_, err := PHP.Encode(map[string]any{"cart": []any{struct{}{}}})
	if !errors.Is(err, ErrUnsupportedType) || !strings.Contains(err.Error(), `["cart"][0]`) {
		t.Errorf("unsupported value: %v", err)
	}
}

func TestSessionOffsetsAcrossKeys(t *testing.T) {
	// Offsets count from the start of the session string.
	_, err := PHP.Decode([]byte(`first|i:1;second|a:1:{i:0;b:7;}`))
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != 28 {
		t.Fatalf("err = %v, want offset 28", err)
	}
}
