// Package binarycodec is the format of session.BinaryCodec: a compact,
// versioned binary encoding of session values (see its documentation).
package binarycodec

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// Binary format: the prefix, then the top-level map as a uvarint count of
// entries, each a uvarint-length-prefixed key and a value. A value is a tag
// byte and its payload. Lengths of slices and maps are written as n+1, 0
// meaning nil.
const (
	binaryMagic0   byte = 0x00 // a gob stream never starts with 0x00
	binaryMagic1   byte = 'S'
	binaryVersion  byte = 1
	binaryMaxDepth      = 100
)

// Value tags. Their numbers are part of the format: never renumber them.
const (
	tagNil      byte = iota // no payload
	tagFalse                // no payload
	tagTrue                 // no payload
	tagString               // uvarint length, bytes
	tagInt                  // zigzag varint
	tagInt8                 // zigzag varint
	tagInt16                // zigzag varint
	tagInt32                // zigzag varint
	tagInt64                // zigzag varint
	tagUint                 // uvarint
	tagUint8                // uvarint
	tagUint16               // uvarint
	tagUint32               // uvarint
	tagUint64               // uvarint
	tagFloat32              // 4 bytes, little-endian IEEE 754 bits
	tagFloat64              // 8 bytes, little-endian IEEE 754 bits
	tagTime                 // zigzag varint Unix seconds, uvarint nanoseconds, zone (see appendTime)
	tagDuration             // zigzag varint of nanoseconds
	tagBytes                // uvarint length+1, bytes
	tagStrings              // uvarint count+1, strings as tagString payloads
	tagMap                  // uvarint count+1, entries as at the top level
	tagList                 // uvarint count+1, values
	tagGob                  // uvarint length, a gob stream of one interface value
)

// Encode encodes values. Map keys are written in sorted order, so equal
// values give equal bytes (values encoded with gob excepted).
//
// The buffer is allocated once, at the size that a first pass over values
// computes (values left to encoding/gob are estimated), so that a big
// session is not copied again and again as the buffer grows.
func Encode(values map[string]any) ([]byte, error) {
	buf := make([]byte, 0, 3+binary.MaxVarintLen64+entriesSize(values, 0))
	buf = append(buf, binaryMagic0, binaryMagic1, binaryVersion)
	buf = binary.AppendUvarint(buf, uint64(len(values)))
	buf, err := appendEntries(buf, values, 0)
	if err != nil {
		return nil, err
	}
	return buf, nil
}

// gobEstimate is what entriesSize counts for a value left to encoding/gob:
// its size is only known once it is encoded.
const gobEstimate = 64

// entriesSize returns the bytes that appendEntries writes for m, values
// left to encoding/gob estimated. Past binaryMaxDepth (where Encode fails)
// it counts nothing, so that a cycle ends.
func entriesSize(m map[string]any, depth int) int {
	n := 0
	for k, v := range m {
		n += uvarintLen(uint64(len(k))) + len(k) + valueSize(v, depth)
	}
	return n
}

// valueSize returns the bytes that appendValue writes for v, or an
// estimate for values left to encoding/gob.
func valueSize(v any, depth int) int {
	switch x := v.(type) {
	case string:
		return 1 + uvarintLen(uint64(len(x))) + len(x)
	case []byte:
		return 1 + uvarintLen(uint64(len(x))+1) + len(x)
	case []string:
		n := 1 + uvarintLen(uint64(len(x))+1)
		for _, s := range x {
			n += uvarintLen(uint64(len(s))) + len(s)
		}
		return n
	case map[string]any:
		if depth >= binaryMaxDepth {
			return 0
		}
		return 1 + uvarintLen(uint64(len(x))+1) + entriesSize(x, depth+1)
	case []any:
		if depth >= binaryMaxDepth {
			return 0
		}
		n := 1 + uvarintLen(uint64(len(x))+1)
		for _, e := range x {
			n += valueSize(e, depth+1)
		}
		return n
	case nil, bool:
		return 1
	case int:
		return 1 + varintLen(int64(x))
	case int8:
		return 1 + varintLen(int64(x))
	case int16:
		return 1 + varintLen(int64(x))
	case int32:
		return 1 + varintLen(int64(x))
	case int64:
		return 1 + varintLen(x)
	case time.Duration:
		return 1 + varintLen(int64(x))
	case uint:
		return 1 + uvarintLen(uint64(x))
	case uint8:
		return 1 + uvarintLen(uint64(x))
	case uint16:
		return 1 + uvarintLen(uint64(x))
	case uint32:
		return 1 + uvarintLen(uint64(x))
	case uint64:
		return 1 + uvarintLen(x)
	case float32:
		return 5
	case float64:
		return 9
	case time.Time:
		return 2 + 2*binary.MaxVarintLen64 + binary.MaxVarintLen32
	default:
		return gobEstimate
	}
}

// varintLen returns the length of x's zigzag varint encoding.
func varintLen(x int64) int {
	ux := uint64(x) << 1
	if x < 0 {
		ux = ^ux
	}
	return uvarintLen(ux)
}

// uvarintLen returns the length of x's uvarint encoding.
func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// appendEntries appends the entries of m in key order.
func appendEntries(buf []byte, m map[string]any, depth int) ([]byte, error) {
	var stack [16]string
	keys := stack[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		buf = binary.AppendUvarint(buf, uint64(len(k)))
		buf = append(buf, k...)
		var err error
		if buf, err = appendValue(buf, m[k], depth); err != nil {
			return nil, withPathKey(err, k)
		}
	}
	return buf, nil
}

// appendValue appends v's tag and payload. depth counts the maps and lists
// v is inside, below the top-level map.
func appendValue(buf []byte, v any, depth int) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, tagNil), nil
	case string:
		buf = append(buf, tagString)
		buf = binary.AppendUvarint(buf, uint64(len(x)))
		return append(buf, x...), nil
	case bool:
		if x {
			return append(buf, tagTrue), nil
		}
		return append(buf, tagFalse), nil
	case int:
		return binary.AppendVarint(append(buf, tagInt), int64(x)), nil
	case int8:
		return binary.AppendVarint(append(buf, tagInt8), int64(x)), nil
	case int16:
		return binary.AppendVarint(append(buf, tagInt16), int64(x)), nil
	case int32:
		return binary.AppendVarint(append(buf, tagInt32), int64(x)), nil
	case int64:
		return binary.AppendVarint(append(buf, tagInt64), x), nil
	case uint:
		return binary.AppendUvarint(append(buf, tagUint), uint64(x)), nil
	case uint8:
		return binary.AppendUvarint(append(buf, tagUint8), uint64(x)), nil
	case uint16:
		return binary.AppendUvarint(append(buf, tagUint16), uint64(x)), nil
	case uint32:
		return binary.AppendUvarint(append(buf, tagUint32), uint64(x)), nil
	case uint64:
		return binary.AppendUvarint(append(buf, tagUint64), x), nil
	case float32:
		return binary.LittleEndian.AppendUint32(append(buf, tagFloat32), math.Float32bits(x)), nil
	case float64:
		return binary.LittleEndian.AppendUint64(append(buf, tagFloat64), math.Float64bits(x)), nil
	case time.Time:
		return appendTime(buf, x)
	case time.Duration:
		return binary.AppendVarint(append(buf, tagDuration), int64(x)), nil
	case []byte:
		buf = appendLength(append(buf, tagBytes), len(x), x == nil)
		return append(buf, x...), nil
	case []string:
		buf = appendLength(append(buf, tagStrings), len(x), x == nil)
		for _, s := range x {
			buf = binary.AppendUvarint(buf, uint64(len(s)))
			buf = append(buf, s...)
		}
		return buf, nil
	case map[string]any:
		if depth >= binaryMaxDepth {
			return nil, tooDeep()
		}
		buf = appendLength(append(buf, tagMap), len(x), x == nil)
		return appendEntries(buf, x, depth+1)
	case []any:
		if depth >= binaryMaxDepth {
			return nil, tooDeep()
		}
		buf = appendLength(append(buf, tagList), len(x), x == nil)
		for i, e := range x {
			var err error
			if buf, err = appendValue(buf, e, depth+1); err != nil {
				return nil, withPathIndex(err, i)
			}
		}
		return buf, nil
	default:
		return appendGob(buf, v)
	}
}

// appendLength appends n+1, or 0 for a nil slice or map.
func appendLength(buf []byte, n int, isNil bool) []byte {
	if isNil {
		return append(buf, 0)
	}
	return binary.AppendUvarint(buf, uint64(n)+1)
}

// appendTime appends t as Unix seconds, nanoseconds and zone: 0 for UTC,
// or 1 and the offset in seconds east of UTC. time's own MarshalBinary is
// not used: it decodes negative offsets with a seconds part (the local mean
// time of western zones before about 1900) to the wrong instant, Go issue
// 78528, and refuses offsets from -119 to -60 seconds.
func appendTime(buf []byte, t time.Time) ([]byte, error) {
	buf = binary.AppendVarint(append(buf, tagTime), t.Unix())
	buf = binary.AppendUvarint(buf, uint64(t.Nanosecond()))
	if t.Location() == time.UTC {
		return append(buf, 0), nil
	}
	_, offset := t.Zone()
	if int64(offset) != int64(int32(offset)) {
		return nil, &encodeError{typ: "time.Time", err: fmt.Errorf("zone offset of %d seconds", offset)}
	}
	return binary.AppendVarint(append(buf, 1), int64(offset)), nil
}

// appendGob appends v encoded by encoding/gob as an interface value, so that
// it decodes to its own type.
func appendGob(buf []byte, v any) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(&v); err != nil {
		return nil, &encodeError{typ: fmt.Sprintf("%T", v), err: err, gob: true}
	}
	buf = append(buf, tagGob)
	buf = binary.AppendUvarint(buf, uint64(b.Len()))
	return append(buf, b.Bytes()...), nil
}

// encodeError reports a value that BinaryCodec could not encode, with the
// path of keys and list indexes that leads to it.
type encodeError struct {
	path []string // innermost first
	typ  string
	err  error
	gob  bool
}

func tooDeep() error {
	return &encodeError{err: fmt.Errorf("maps and lists nested deeper than %d levels (a cycle?)", binaryMaxDepth)}
}

func withPathKey(err error, key string) error {
	if e, ok := err.(*encodeError); ok {
		e.path = append(e.path, strconv.Quote(key))
	}
	return err
}

func withPathIndex(err error, i int) error {
	if e, ok := err.(*encodeError); ok {
		e.path = append(e.path, "["+strconv.Itoa(i)+"]")
	}
	return err
}

// Error names the key (with the nested keys and indexes below it), the type
// and, for types left to encoding/gob, what to do.
func (e *encodeError) Error() string {
	var b strings.Builder
	b.WriteString("session: binary encode: key ")
	for i := len(e.path) - 1; i >= 0; i-- {
		if i < len(e.path)-1 && e.path[i][0] == '"' {
			b.WriteByte('[')
			b.WriteString(e.path[i])
			b.WriteByte(']')
			continue
		}
		b.WriteString(e.path[i])
	}
	if e.typ != "" {
		b.WriteString(" (type ")
		b.WriteString(e.typ)
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(e.err.Error())
	if e.gob {
		b.WriteString("; BinaryCodec encodes this type with encoding/gob: call gob.Register with a value of type ")
		b.WriteString(e.typ)
		b.WriteString(" at program start")
	}
	return b.String()
}

// Unwrap returns the underlying error, from encoding/gob or time.
func (e *encodeError) Unwrap() error { return e.err }

// Is reports whether data starts with the format's prefix; data without
// it is another codec's record.
func Is(data []byte) bool {
	return len(data) >= 2 && data[0] == binaryMagic0 && data[1] == binaryMagic1
}

// Decode decodes a record that Encode wrote (Is reports true). It never
// panics, and checks every length against the bytes left before it
// allocates.
//
// Decode copies each string and byte slice of the record (map keys
// included) once, and no other bytes: strings and byte slices of less than
// 32 KiB share a few allocations, bigger ones get one each of their exact
// size. A byte slice's capacity is its length, so that a change to one, or
// an append to it, reaches no other value. The values never alias data,
// which the caller may reuse.
func Decode(data []byte) (map[string]any, error) {
	if len(data) < 3 {
		return nil, errors.New("binary: truncated header")
	}
	if data[2] != binaryVersion {
		return nil, fmt.Errorf("binary: unknown format version %d", data[2])
	}
	d := binaryDecoder{data: data, pos: 3}
	n, err := d.count(2)
	if err != nil {
		return nil, err
	}
	values, err := d.entries(n, 0)
	if err != nil {
		return nil, err
	}
	if d.pos != len(data) {
		return nil, d.fail("%d bytes of trailing data", len(data)-d.pos)
	}
	return values, nil
}

// binaryDecoder reads one record. Decoded strings and byte slices are
// copies of the record's bytes made by owned: big ones (see bigValue) each
// in an allocation of its own size, the others in chunks shared by several.
type binaryDecoder struct {
	data  []byte
	chunk []byte // the current chunk: len is used, cap its size
	pos   int
}

// bigValue is the size from which a string or byte slice gets an
// allocation of its own: beyond the runtime's largest size class (32 KiB)
// allocations are rounded up to whole 8 KiB pages, so copying a big value
// together with its neighbours could cost a page more than the value.
const bigValue = 32 << 10

// Chunk sizes for the other strings and byte slices: when at most
// maxChunk bytes of the record are left, one chunk of that size; otherwise
// the first chunk is minChunk bytes and each next one twice the last, up
// to maxChunk, so that a big value's neighbours do not cost its size.
const (
	minChunk = 512
	maxChunk = 32 << 10
)

// owned returns a copy of the n bytes at the current position, whose
// capacity is n, and moves past them. n has been checked against the
// bytes left. The copies of two calls never overlap.
func (d *binaryDecoder) owned(n int) []byte {
	src := d.data[d.pos : d.pos+n]
	left := len(d.data) - d.pos
	d.pos += n
	if n >= bigValue {
		return append(make([]byte, 0, n), src...)
	}
	if cap(d.chunk)-len(d.chunk) < n {
		size := left // a small record: one chunk holds the rest of it
		if left > maxChunk {
			size = min(max(2*cap(d.chunk), minChunk), maxChunk)
		}
		d.chunk = make([]byte, 0, max(n, size))
	}
	start := len(d.chunk)
	d.chunk = append(d.chunk, src...)
	return d.chunk[start:len(d.chunk):len(d.chunk)]
}

func (d *binaryDecoder) fail(format string, args ...any) error {
	return fmt.Errorf("binary: at byte %d: %s", d.pos, fmt.Sprintf(format, args...))
}

func (d *binaryDecoder) byte() (byte, error) {
	if d.pos >= len(d.data) {
		return 0, d.fail("unexpected end of data")
	}
	b := d.data[d.pos]
	d.pos++
	return b, nil
}

func (d *binaryDecoder) uvarint() (uint64, error) {
	v, n := binary.Uvarint(d.data[d.pos:])
	if n <= 0 {
		return 0, d.fail("bad or truncated varint")
	}
	d.pos += n
	return v, nil
}

func (d *binaryDecoder) varint() (int64, error) {
	v, n := binary.Varint(d.data[d.pos:])
	if n <= 0 {
		return 0, d.fail("bad or truncated varint")
	}
	d.pos += n
	return v, nil
}

// count reads a count of items, each taking at least minSize bytes, and
// checks it against the bytes left before anything is allocated for it.
func (d *binaryDecoder) count(minSize int) (int, error) {
	n, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	return d.check(n, minSize)
}

// nilCount reads a count written by appendLength; nil reports a nil slice
// or map.
func (d *binaryDecoder) nilCount(minSize int) (n int, isNil bool, err error) {
	v, err := d.uvarint()
	if err != nil {
		return 0, false, err
	}
	if v == 0 {
		return 0, true, nil
	}
	n, err = d.check(v-1, minSize)
	return n, false, err
}

func (d *binaryDecoder) check(n uint64, minSize int) (int, error) {
	left := uint64(len(d.data) - d.pos)
	if n > left/uint64(minSize) {
		return 0, d.fail("length %d exceeds the %d bytes left", n, left)
	}
	return int(n), nil
}

// string reads a uvarint length and that many bytes as a string.
func (d *binaryDecoder) string() (string, error) {
	n, err := d.count(1)
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "", nil
	}
	// The bytes a string covers are reachable through it alone: byte
	// slice values are other copies.
	b := d.owned(n)
	return unsafe.String(&b[0], n), nil
}

// bytes reads n bytes, aliasing the record.
func (d *binaryDecoder) bytes(n int) ([]byte, error) {
	if n > len(d.data)-d.pos {
		return nil, d.fail("length %d exceeds the %d bytes left", n, len(d.data)-d.pos)
	}
	b := d.data[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *binaryDecoder) entries(n, depth int) (map[string]any, error) {
	m := make(map[string]any, n)
	for range n {
		k, err := d.string()
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, d.fail("duplicate key %q", k)
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, nil
}

// signed reads a zigzag varint that must fit in bits bits.
func (d *binaryDecoder) signed(bits int) (int64, error) {
	v, err := d.varint()
	if err != nil {
		return 0, err
	}
	if bits < 64 && (v < -1<<(bits-1) || v > 1<<(bits-1)-1) {
		return 0, d.fail("%d out of range for a %d-bit integer", v, bits)
	}
	return v, nil
}

// unsigned reads a uvarint that must fit in bits bits.
func (d *binaryDecoder) unsigned(bits int) (uint64, error) {
	v, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if bits < 64 && v > 1<<bits-1 {
		return 0, d.fail("%d out of range for a %d-bit unsigned integer", v, bits)
	}
	return v, nil
}

// value reads one tagged value; depth counts the maps and lists it is in.
func (d *binaryDecoder) value(depth int) (any, error) {
	tag, err := d.byte()
	if err != nil {
		return nil, err
	}
	switch tag {
	case tagNil:
		return nil, nil
	case tagFalse:
		return false, nil
	case tagTrue:
		return true, nil
	case tagString:
		s, err := d.string()
		if err != nil {
			return nil, err
		}
		return s, nil
	case tagInt, tagInt8, tagInt16, tagInt32, tagInt64, tagDuration:
		return d.signedValue(tag)
	case tagUint, tagUint8, tagUint16, tagUint32, tagUint64:
		return d.unsignedValue(tag)
	case tagFloat32:
		b, err := d.bytes(4)
		if err != nil {
			return nil, err
		}
		return math.Float32frombits(binary.LittleEndian.Uint32(b)), nil
	case tagFloat64:
		b, err := d.bytes(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
	case tagTime:
		return d.time()
	case tagBytes:
		return d.byteSlice()
	case tagStrings:
		return d.strings()
	case tagMap, tagList:
		if depth >= binaryMaxDepth {
			return nil, d.fail("maps and lists nested deeper than %d levels", binaryMaxDepth)
		}
		if tag == tagMap {
			return d.nestedMap(depth + 1)
		}
		return d.list(depth + 1)
	case tagGob:
		return d.gob()
	default:
		return nil, d.fail("unknown value tag %d", tag)
	}
}

func (d *binaryDecoder) signedValue(tag byte) (any, error) {
	bits := 64
	switch tag {
	case tagInt:
		bits = strconv.IntSize
	case tagInt8:
		bits = 8
	case tagInt16:
		bits = 16
	case tagInt32:
		bits = 32
	}
	v, err := d.signed(bits)
	if err != nil {
		return nil, err
	}
	switch tag {
	case tagInt:
		return int(v), nil
	case tagInt8:
		return int8(v), nil
	case tagInt16:
		return int16(v), nil
	case tagInt32:
		return int32(v), nil
	case tagInt64:
		return v, nil
	default:
		return time.Duration(v), nil
	}
}

func (d *binaryDecoder) unsignedValue(tag byte) (any, error) {
	bits := 64
	switch tag {
	case tagUint:
		bits = strconv.IntSize
	case tagUint8:
		bits = 8
	case tagUint16:
		bits = 16
	case tagUint32:
		bits = 32
	}
	v, err := d.unsigned(bits)
	if err != nil {
		return nil, err
	}
	switch tag {
	case tagUint:
		return uint(v), nil
	case tagUint8:
		return uint8(v), nil
	case tagUint16:
		return uint16(v), nil
	case tagUint32:
		return uint32(v), nil
	default:
		return v, nil
	}
}

// time reads what appendTime wrote. As with time.UnmarshalBinary, an
// offset that is the local zone's at that instant gives time.Local, any other
// a time.FixedZone.
func (d *binaryDecoder) time() (any, error) {
	sec, err := d.varint()
	if err != nil {
		return nil, err
	}
	nsec, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if nsec >= 1e9 {
		return nil, d.fail("time: %d nanoseconds", nsec)
	}
	zone, err := d.byte()
	if err != nil {
		return nil, err
	}
	t := time.Unix(sec, int64(nsec))
	switch zone {
	case 0:
		return t.UTC(), nil
	case 1:
		offset, err := d.signed(32)
		if err != nil {
			return nil, err
		}
		if local := t.In(time.Local); zoneOffset(local) == int(offset) {
			return local, nil
		}
		return t.In(time.FixedZone("", int(offset))), nil
	default:
		return nil, d.fail("time: unknown zone kind %d", zone)
	}
}

func zoneOffset(t time.Time) int {
	_, offset := t.Zone()
	return offset
}

func (d *binaryDecoder) byteSlice() (any, error) {
	n, isNil, err := d.nilCount(1)
	if err != nil {
		return nil, err
	}
	if isNil {
		return []byte(nil), nil
	}
	if n == 0 {
		return []byte{}, nil
	}
	return d.owned(n), nil
}

func (d *binaryDecoder) nestedMap(depth int) (any, error) {
	n, isNil, err := d.nilCount(2)
	if err != nil {
		return nil, err
	}
	if isNil {
		return map[string]any(nil), nil
	}
	m, err := d.entries(n, depth)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (d *binaryDecoder) strings() (any, error) {
	n, isNil, err := d.nilCount(1)
	if err != nil {
		return nil, err
	}
	if isNil {
		return []string(nil), nil
	}
	ss := make([]string, n)
	for i := range ss {
		if ss[i], err = d.string(); err != nil {
			return nil, err
		}
	}
	return ss, nil
}

func (d *binaryDecoder) list(depth int) (any, error) {
	n, isNil, err := d.nilCount(1)
	if err != nil {
		return nil, err
	}
	if isNil {
		return []any(nil), nil
	}
	list := make([]any, n)
	for i := range list {
		if list[i], err = d.value(depth); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// gob decodes a value that appendGob wrote.
func (d *binaryDecoder) gob() (v any, err error) {
	n, err := d.count(1)
	if err != nil {
		return nil, err
	}
	start := d.pos
	b, _ := d.bytes(n)
	defer func() {
		// encoding/gob documents that it may panic on hostile input in
		// old releases; never let that reach the request.
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("binary: at byte %d: gob: %v", start, r)
		}
	}()
	r := bytes.NewReader(b)
	if err := gob.NewDecoder(r).Decode(&v); err != nil {
		return nil, fmt.Errorf("binary: at byte %d: gob: %w", start, err)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("binary: at byte %d: gob: %d bytes of trailing data", start, r.Len())
	}
	return v, nil
}
