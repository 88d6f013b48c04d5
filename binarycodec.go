package session

import (
	"fmt"

	"github.com/sessionkit/session/internal/binarycodec"
)

// BinaryCodec encodes values in a compact, versioned binary format.
//
// The types sessions usually hold are encoded by BinaryCodec itself, without
// reflection: nil, string, bool, int, int8 to int64, uint, uint8 to uint64,
// float32, float64, time.Time, time.Duration, []byte, []string, []any and
// map[string]any, nested up to 100 levels. They decode to exactly the Go type
// they had ([Get] asks for that type), nil slices and maps stay nil, NaNs
// keep their bits. A time.Time keeps its instant and zone offset (not the
// location's name) and loses its monotonic reading, as with encoding/gob.
//
// A value of any other type is encoded with encoding/gob, which needs the
// type registered with gob.Register; encoding an unregistered type fails
// with an error that names the key and the type. Such values, and records
// in GobCodec's format, are decoded by encoding/gob and are as robust as it
// is against forged data (Go 1.26.8 and older trust gob's map sizes, Go
// issue 79539); BinaryCodec checks every length of its own format against
// the bytes left before it allocates.
//
// Records start with a 3-byte prefix (0x00 'S' version). Decode reads data
// without that prefix as a [GobCodec] record, so sessions saved with
// GobCodec stay readable after switching to BinaryCodec. Decode never
// panics; the errors it returns wrap [ErrDecode]. Decode copies the bytes
// of each decoded string and byte slice once (small ones share a few
// allocations; a byte slice's capacity is its length) and never aliases the
// data passed to it.
type BinaryCodec struct{}

// Encode implements [Codec]. Map keys are written in sorted order, so equal
// values give equal bytes (values encoded with gob excepted).
func (BinaryCodec) Encode(values map[string]any) ([]byte, error) {
	return binarycodec.Encode(values)
}

// Decode implements [Codec]. Data without BinaryCodec's prefix is decoded
// as a [GobCodec] record.
func (BinaryCodec) Decode(data []byte) (map[string]any, error) {
	if !binarycodec.Is(data) {
		return GobCodec{}.Decode(data)
	}
	values, err := binarycodec.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	return values, nil
}
