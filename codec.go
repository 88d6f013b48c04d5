package session

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
)

// Codec turns a session's values into bytes for the store and back.
//
// Decode must not panic on any input: data that it cannot decode is an
// error, which the manager logs before starting a fresh session.
//
// The codecs here: [BinaryCodec] (compact, types come back exactly, reads
// GobCodec records too), [GobCodec] and [JSONCodec].
type Codec interface {
	// Encode turns values into bytes, or fails with an error naming what
	// it cannot encode.
	Encode(values map[string]any) ([]byte, error)
	// Decode turns bytes from Encode back into values; errors wrap
	// [ErrDecode].
	Decode(data []byte) (map[string]any, error)
}

// GobCodec encodes values with encoding/gob. Values of your own types must be
// registered with gob.Register. [BinaryCodec] decodes GobCodec's records, so
// a deployment can switch from GobCodec to BinaryCodec without losing
// sessions. encoding/gob trusts map sizes read from its input (Go issue
// 79539, fixed after Go 1.26.8): a forged record can exhaust memory.
type GobCodec struct{}

// Encode implements [Codec].
func (GobCodec) Encode(values map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	if values == nil {
		values = map[string]any{}
	}
	if err := gob.NewEncoder(&buf).Encode(values); err != nil {
		return nil, fmt.Errorf("session: gob encode: %w", err)
	}
	return buf.Bytes(), nil
}

// Decode implements [Codec].
func (GobCodec) Decode(data []byte) (values map[string]any, err error) {
	defer func() {
		// encoding/gob documents that it may panic on hostile input in
		// old releases; never let that reach the request.
		if r := recover(); r != nil {
			values, err = nil, fmt.Errorf("%w: gob: %v", ErrDecode, r)
		}
	}()
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&values); err != nil {
		return nil, fmt.Errorf("%w: gob: %w", ErrDecode, err)
	}
	if values == nil {
		values = map[string]any{}
	}
	return values, nil
}

// JSONCodec encodes values as a JSON object. Numbers decode as json.Number;
// [Get] converts them to the numeric type asked for.
type JSONCodec struct{}

// Encode implements [Codec].
func (JSONCodec) Encode(values map[string]any) ([]byte, error) {
	if values == nil {
		values = map[string]any{}
	}
	b, err := json.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("session: json encode: %w", err)
	}
	return b, nil
}

// Decode implements [Codec].
func (JSONCodec) Decode(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var values map[string]any
	if err := dec.Decode(&values); err != nil {
		return nil, fmt.Errorf("%w: json: %w", ErrDecode, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: json: trailing data", ErrDecode)
	}
	if values == nil {
		values = map[string]any{}
	}
	return values, nil
}
