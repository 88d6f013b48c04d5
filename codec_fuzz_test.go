package session_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

// FuzzBinaryCodec decodes arbitrary bytes in BinaryCodec's format: Decode
// never panics, every error wraps ErrDecode, and what decodes encodes again
// and decodes to equal values.
//
// Data without the format's prefix goes to encoding/gob, whose decoder
// trusts map sizes from its input (Go issue 79539, fixed after Go 1.26.8):
// a 64-byte forged gob record exhausts memory. The fuzzer is kept off that
// known bug; BinaryCodec's own format checks every length.
func FuzzBinaryCodec(f *testing.F) {
	for _, values := range []map[string]any{allTypes(), typicalSession(), {}, {"k": nest(100)}} {
		data, err := session.BinaryCodec{}.Encode(values)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
		f.Add(data[:len(data)-1])
	}
	for k, v := range allTypes() {
		data, err := session.BinaryCodec{}.Encode(map[string]any{k: v})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	gobData, err := session.GobCodec{}.Encode(typicalSession())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(gobData) // skipped by the target, kept so the corpus has one
	f.Add([]byte{})
	f.Add([]byte{0x00})
	f.Add([]byte{0x00, 'S'})
	f.Add([]byte{0x00, 'S', 1, 0})
	f.Add([]byte{0x00, 'S', 2, 0})
	f.Add(binary.AppendUvarint([]byte{0x00, 'S', 1}, math.MaxUint64))
	f.Add(binary.AppendUvarint([]byte{0x00, 'S', 1, 1, 1, 'k', 21}, 1<<40))
	f.Add([]byte{0x00, 'S', 1, 1, 1, 'k', 22, 3, 1, 2, 3})
	f.Add([]byte{0x00, 'S', 1, 1, 1, 'k', 16, 15, 1, 0, 0, 0, 14, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		if !bytes.HasPrefix(data, []byte{0x00, 'S'}) {
			t.Skip("a GobCodec record: encoding/gob's decoder")
		}
		values, err := session.BinaryCodec{}.Decode(data)
		if err != nil {
			if !errors.Is(err, session.ErrDecode) {
				t.Fatalf("error does not wrap ErrDecode: %v", err)
			}
			return
		}
		if values == nil {
			t.Fatal("nil map without an error")
		}
		again, err := session.BinaryCodec{}.Encode(values)
		if err != nil {
			t.Fatalf("decoded values do not encode: %v", err)
		}
		back, err := session.BinaryCodec{}.Decode(again)
		if err != nil {
			t.Fatalf("re-encoded values do not decode: %v", err)
		}
		if !codecEqual(back, values) {
			t.Fatalf("round trip changed the values:\n got %#v\nwant %#v", back, values)
		}
	})
}

// FuzzBinaryCodecRoundTrip builds session values of every supported type
// from the fuzzer's bytes: Encode takes them and Decode gives them back
// equal, with the same Go types.
func FuzzBinaryCodecRoundTrip(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x01k\x03\x05hello\x02n\x04\x01\x02\x03\x04\x05\x06\x07\x08"))
	f.Add([]byte("\x03abc\x14\x03\x01x\x10\x01y\x11\x01z\x12\x02\x02"))
	f.Add([]byte("\x02tt\x0f\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12"))
	f.Add([]byte("\x01g\x16\x07\x00\x00\x00\x00\x00\x00\x00\x09\x00\x00\x00\x00\x00\x00\x00\x02id"))
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &valueGen{b: data}
		values := map[string]any{}
		for n := g.byte() % 8; n > 0; n-- {
			values[g.str()] = g.value(0)
		}
		enc, err := session.BinaryCodec{}.Encode(values)
		if err != nil {
			t.Fatalf("Encode(%#v): %v", values, err)
		}
		got, err := session.BinaryCodec{}.Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(%#v)): %v", values, err)
		}
		if !codecEqual(got, values) {
			t.Fatalf("round trip:\n got %#v\nwant %#v", got, values)
		}
	})
}

// valueGen turns fuzzer bytes into session values; past the end of its
// input it reads zeros, which give nil and empty values.
type valueGen struct{ b []byte }

func (g *valueGen) byte() byte {
	if len(g.b) == 0 {
		return 0
	}
	c := g.b[0]
	g.b = g.b[1:]
	return c
}

func (g *valueGen) u64() uint64 {
	var x uint64
	for i := range 8 {
		x |= uint64(g.byte()) << (8 * i)
	}
	return x
}

func (g *valueGen) str() string {
	n := min(int(g.byte()%32), len(g.b))
	s := string(g.b[:n])
	g.b = g.b[n:]
	return s
}

func (g *valueGen) time() time.Time {
	sec := int64(g.u64()%200_000_000_000) - 100_000_000_000 // about ±3000 years
	t := time.Unix(sec, int64(g.u64()%1_000_000_000))
	switch g.byte() % 3 {
	case 0:
		return t.UTC()
	case 1:
		return t
	default:
		off := int(g.u64()%(36*3600)) - 18*3600
		return t.In(time.FixedZone("", off))
	}
}

func (g *valueGen) value(depth int) any {
	const kinds = 25
	k := g.byte() % kinds
	if depth > 6 && k >= 19 && k <= 21 {
		k = 0 // containers stop nesting here
	}
	switch k {
	case 0:
		return nil
	case 1:
		return g.byte()%2 == 1
	case 2:
		return g.str()
	case 3:
		return int(g.u64())
	case 4:
		return int8(g.byte())
	case 5:
		return int16(g.u64())
	case 6:
		return int32(g.u64())
	case 7:
		return int64(g.u64())
	case 8:
		return uint(g.u64())
	case 9:
		return g.byte()
	case 10:
		return uint16(g.u64())
	case 11:
		return uint32(g.u64())
	case 12:
		return g.u64()
	case 13:
		return math.Float32frombits(uint32(g.u64()))
	case 14:
		return math.Float64frombits(g.u64())
	case 15:
		return g.time()
	case 16:
		return time.Duration(g.u64())
	case 17:
		if g.byte()%4 == 0 {
			return []byte(nil)
		}
		return []byte(g.str())
	case 18:
		n := int(g.byte() % 5)
		if n == 0 && g.byte()%2 == 0 {
			return []string(nil)
		}
		ss := make([]string, n)
		for i := range ss {
			ss[i] = g.str()
		}
		return ss
	case 19:
		n := int(g.byte() % 5)
		if n == 0 && g.byte()%2 == 0 {
			return map[string]any(nil)
		}
		m := make(map[string]any, n)
		for range n {
			m[g.str()] = g.value(depth + 1)
		}
		return m
	case 20, 21:
		n := int(g.byte() % 5)
		if n == 0 && g.byte()%2 == 0 {
			return []any(nil)
		}
		list := make([]any, n)
		for i := range list {
			list[i] = g.value(depth + 1)
		}
		return list
	case 22:
		return gobPoint{X: int(g.u64()), Y: int(g.u64()), Tag: g.str()}
	case 23:
		return []gobPoint{{X: int(g.u64()), Tag: g.str()}}
	default:
		return []int{int(g.u64()), int(g.byte())}
	}
}
