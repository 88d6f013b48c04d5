package phpcodec

import (
	"fmt"
	"math"
)

// DefaultMaxDepth is the nesting limit used when a [Codec]'s MaxDepth is
// zero, and by [Marshal] and [Unmarshal]. It counts non-empty arrays and
// objects, as PHP's unserialize_max_depth does (whose default is 4096).
const DefaultMaxDepth = 512

// minElemBytes is the smallest size of one array element (key and value,
// "i:0;N;"); capacities taken from the input never exceed what the
// remaining bytes could hold.
const minElemBytes = 6

// loc is where a decoded value lives: an entry of an Array (a slot of
// PHP's var_hash points into a hash bucket), or a standalone variable. The
// zero loc is an opaque slot: one that was counted inside a C: payload and
// cannot be the target of a reference.
type loc struct {
	arr *Array
	idx int
	ptr *any
}

func (l loc) valid() bool { return l.arr != nil || l.ptr != nil }

func (l loc) get() any {
	switch {
	case l.arr != nil:
		return l.arr.entries[l.idx].Value
	case l.ptr != nil:
		return *l.ptr
	}
	return nil
}

func (l loc) set(v any) {
	switch {
	case l.arr != nil:
		l.arr.entries[l.idx].Value = v
	case l.ptr != nil:
		*l.ptr = v
	}
}

// decoder parses PHP's serialize format. One decoder parses a whole
// session string so that back-references number their targets across all
// top-level values, as PHP's shared var_hash does.
type decoder struct {
	data     []byte
	pos      int
	end      int // parsing stops here (the end of a C: payload when dry)
	maxDepth int
	depth    int

	// slots are the targets of R:<n>; and r:<n>;, in order: every value
	// except R: takes one (array and object keys take none).
	slots []loc
	// dry is set while counting the slots of a C: payload: PHP runs the
	// class's unserialize() method, whose nested unserialize() calls share
	// the slot table, so the values inside a payload that is itself
	// serialized data take slots. Dry parsing builds no values.
	dry   bool
	extra int // slots counted while dry (beyond len(slots))
}

func newDecoder(data []byte, maxDepth int) *decoder {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	return &decoder{data: data, end: len(data), maxDepth: maxDepth}
}

func (d *decoder) nslots() int { return len(d.slots) + d.extra }

func (d *decoder) push(l loc) {
	if d.dry {
		d.extra++
		return
	}
	d.slots = append(d.slots, l)
}

func (d *decoder) errAt(off int, sentinel error, format string, args ...any) error {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}

// describe names the byte at off for error messages.
func (d *decoder) describe(off int) string {
	if off >= d.end {
		return "end of data"
	}
	c := d.data[off]
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// expect consumes lit or fails at the first byte that differs.
func (d *decoder) expect(lit string) error {
	for i := 0; i < len(lit); i++ {
		if d.pos >= d.end || d.data[d.pos] != lit[i] {
			return d.errAt(d.pos, nil, "expected %q, found %s", lit[i], d.describe(d.pos))
		}
		d.pos++
	}
	return nil
}

// uiv reads an unsigned decimal number (one digit at least, leading zeros
// allowed) used as a length, a count or a slot number.
func (d *decoder) uiv() (int, error) {
	start := d.pos
	n := 0
	for d.pos < d.end && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		if n > (math.MaxInt32-9)/10 {
			return 0, d.errAt(start, nil, "number too large")
		}
		n = n*10 + int(d.data[d.pos]-'0')
		d.pos++
	}
	if d.pos == start {
		return 0, d.errAt(d.pos, nil, "expected a digit, found %s", d.describe(d.pos))
	}
	return n, nil
}

// iv reads a signed decimal integer ([+-]?[0-9]+) within the int64 range.
func (d *decoder) iv() (int64, error) {
	start := d.pos
	neg := false
	if d.pos < d.end && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
		neg = d.data[d.pos] == '-'
		d.pos++
	}
	digits := d.pos
	var u uint64
	overflow := false
	for d.pos < d.end && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		c := uint64(d.data[d.pos] - '0')
		if u > (math.MaxUint64-c)/10 {
			overflow = true
		} else {
			u = u*10 + c
		}
		d.pos++
	}
	if d.pos == digits {
		return 0, d.errAt(d.pos, nil, "expected a digit, found %s", d.describe(d.pos))
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	if overflow || u > limit {
		return 0, d.errAt(start, ErrRange, "integer %s does not fit 64 bits", d.data[start:d.pos])
	}
	if neg {
		return int64(-u), nil // -u wraps correctly for MinInt64
	}
	return int64(u), nil
}

// quoted reads `<len>:"<len bytes>"` and returns the bytes (not copied).
func (d *decoder) quoted() ([]byte, error) {
	lenOff := d.pos
	n, err := d.uiv()
	if err != nil {
		return nil, err
	}
	if err := d.expect(`:"`); err != nil {
		return nil, err
	}
	if n > d.end-d.pos {
		return nil, d.errAt(lenOff, nil, "length %d exceeds the %d bytes left", n, d.end-d.pos)
	}
	b := d.data[d.pos : d.pos+n]
	d.pos += n
	if err := d.expect(`"`); err != nil {
		return nil, err
	}
	return b, nil
}

// escaped reads the body of the old S: format: `<len>:"<chars>"` where a
// char is a byte other than '\' or a backslash and two hex digits.
func (d *decoder) escaped() (string, error) {
	lenOff := d.pos
	n, err := d.uiv()
	if err != nil {
		return "", err
	}
	if err := d.expect(`:"`); err != nil {
		return "", err
	}
	if n > d.end-d.pos {
		return "", d.errAt(lenOff, nil, "length %d exceeds the %d bytes left", n, d.end-d.pos)
	}
	var out []byte
	if !d.dry {
		out = make([]byte, 0, n)
	}
	for i := 0; i < n; i++ {
		if d.pos >= d.end {
			return "", d.errAt(d.pos, nil, "unexpected end of escaped string")
		}
		c := d.data[d.pos]
		if c == '\\' {
			if d.end-d.pos < 3 {
				return "", d.errAt(d.pos, nil, "unexpected end of escaped string")
			}
			h, ok1 := unhex(d.data[d.pos+1])
			l, ok2 := unhex(d.data[d.pos+2])
			if !ok1 || !ok2 {
				return "", d.errAt(d.pos, nil, "invalid escape in S: string")
			}
			c = h<<4 | l
			d.pos += 2
		}
		out = append(out, c)
		d.pos++
	}
	if err := d.expect(`"`); err != nil {
		return "", err
	}
	return string(out), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// key reads an array or object key: i:<int>; or s:/S: strings. It returns
// the key as read (int64 or string; nil when dry).
func (d *decoder) key() (any, error) {
	start := d.pos
	if d.pos >= d.end {
		return nil, d.errAt(d.pos, nil, "unexpected end of data, expected a key")
	}
	switch d.data[d.pos] {
	case 'i':
		d.pos++
		if err := d.expect(":"); err != nil {
			return nil, err
		}
		i, err := d.iv()
		if err != nil {
			return nil, err
		}
		if err := d.expect(";"); err != nil {
			return nil, err
		}
		return i, nil
	case 's':
		d.pos++
		if err := d.expect(":"); err != nil {
			return nil, err
		}
		b, err := d.quoted()
		if err != nil {
			return nil, err
		}
		if err := d.expect(";"); err != nil {
			return nil, err
		}
		if d.dry {
			return nil, nil
		}
		return string(b), nil
	case 'S':
		d.pos++
		if err := d.expect(":"); err != nil {
			return nil, err
		}
		s, err := d.escaped()
		if err != nil {
			return nil, err
		}
		if err := d.expect(";"); err != nil {
			return nil, err
		}
		return s, nil
	}
	if d.data[start] == '}' {
		return nil, d.errAt(start, nil, "unexpected '}', fewer elements than the count announced")
	}
	return nil, d.errAt(start, nil, "invalid key: found %s, want an integer (i:) or a string (s:)", d.describe(start))
}

// count reads `<n>:{` and checks n against the bytes left, as PHP does.
func (d *decoder) count() (int, error) {
	off := d.pos
	n, err := d.uiv()
	if err != nil {
		return 0, err
	}
	if err := d.expect(":{"); err != nil {
		return 0, err
	}
	if n > (d.end-d.pos)/2 {
		return 0, d.errAt(off, nil, "count %d exceeds what the %d bytes left can hold", n, d.end-d.pos)
	}
	return n, nil
}

// capFor bounds a capacity taken from the input by the bytes left.
func (d *decoder) capFor(n int) int {
	return min(n, (d.end-d.pos)/minElemBytes, 1024)
}

// enter checks and increments the nesting depth.
func (d *decoder) enter(off int) error {
	if d.depth >= d.maxDepth {
		return d.errAt(off, ErrDepth, "more than %d nested arrays and objects", d.maxDepth)
	}
	d.depth++
	return nil
}

// value parses one value at d.pos and stores it at dst.
func (d *decoder) value(dst loc) error {
	start := d.pos
	if start >= d.end {
		return d.errAt(start, nil, "unexpected end of data, expected a value")
	}
	c := d.data[start]
	self := -1
	if c != 'R' {
		self = d.nslots()
		d.push(dst)
	}
	switch c {
	case 'N':
		if err := d.expect("N;"); err != nil {
			return err
		}
		dst.set(nil)
		return nil
	case 'b':
		if err := d.expect("b:"); err != nil {
			return err
		}
		if d.pos < d.end && (d.data[d.pos] == '0' || d.data[d.pos] == '1') {
			v := d.data[d.pos] == '1'
			d.pos++
			if err := d.expect(";"); err != nil {
				return err
			}
			dst.set(v)
			return nil
		}
		return d.errAt(d.pos, nil, "expected 0 or 1, found %s", d.describe(d.pos))
	case 'i':
		if err := d.expect("i:"); err != nil {
			return err
		}
		i, err := d.iv()
		if err != nil {
			return err
		}
		if err := d.expect(";"); err != nil {
			return err
		}
		dst.set(i)
		return nil
	case 'd':
		if err := d.expect("d:"); err != nil {
			return err
		}
		numOff := d.pos
		for d.pos < d.end && d.data[d.pos] != ';' {
			d.pos++
		}
		f, ok := parseFloatText(d.data[numOff:d.pos])
		if !ok {
			return d.errAt(numOff, nil, "invalid float %q", truncate(d.data[numOff:d.pos]))
		}
		if err := d.expect(";"); err != nil {
			return err
		}
		dst.set(f)
		return nil
	case 's':
		if err := d.expect("s:"); err != nil {
			return err
		}
		b, err := d.quoted()
		if err != nil {
			return err
		}
		if err := d.expect(";"); err != nil {
			return err
		}
		if !d.dry {
			dst.set(string(b))
		}
		return nil
	case 'S':
		if err := d.expect("S:"); err != nil {
			return err
		}
		s, err := d.escaped()
		if err != nil {
			return err
		}
		if err := d.expect(";"); err != nil {
			return err
		}
		dst.set(s)
		return nil
	case 'a':
		return d.array(dst)
	case 'O':
		return d.object(dst)
	case 'C':
		return d.custom(dst)
	case 'E':
		return d.enum(dst)
	case 'r':
		return d.backref(dst, self)
	case 'R':
		return d.reference(dst)
	case '}':
		return d.errAt(start, nil, "unexpected '}', fewer elements than the count announced")
	}
	return d.errAt(start, nil, "unexpected %s, expected a value", d.describe(start))
}

func truncate(b []byte) string {
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}

func (d *decoder) array(dst loc) error {
	start := d.pos
	if err := d.expect("a:"); err != nil {
		return err
	}
	n, err := d.count()
	if err != nil {
		return err
	}
	if n == 0 { // PHP returns before its depth check for empty arrays
		if err := d.expect("}"); err != nil {
			return err
		}
		if !d.dry {
			dst.set(&Array{})
		}
		return nil
	}
	if err := d.enter(start); err != nil {
		return err
	}
	var arr *Array
	if !d.dry {
		arr = &Array{entries: make([]Entry, 0, d.capFor(n))}
		dst.set(arr)
	}
	for range n {
		k, err := d.key()
		if err != nil {
			return err
		}
		elem := loc{}
		if !d.dry {
			nk, _ := normalizeKey(k) // canonical numeric strings become ints
			elem = loc{arr: arr, idx: arr.lookupOrAdd(nk.entryKey(), nk)}
		}
		if err := d.value(elem); err != nil {
			return err
		}
	}
	d.depth--
	return d.expect("}")
}

func (d *decoder) className(b []byte, off int) (string, error) {
	name := string(b)
	if !validClassName(name) {
		return "", d.errAt(off, ErrInvalidName, "invalid class name %q", truncate(b))
	}
	return name, nil
}

func (d *decoder) object(dst loc) error {
	start := d.pos
	if err := d.expect("O:"); err != nil {
		return err
	}
	nameOff := d.pos
	b, err := d.quoted()
	if err != nil {
		return err
	}
	class, err := d.className(b, nameOff)
	if err != nil {
		return err
	}
	if err := d.expect(":"); err != nil {
		return err
	}
	n, err := d.count()
	if err != nil {
		return err
	}
	if err := d.enter(start); err != nil {
		return err
	}
	var obj *Object
	if !d.dry {
		obj = &Object{Class: class, Props: &Array{entries: make([]Entry, 0, d.capFor(n))}}
		dst.set(obj)
	}
	for range n {
		k, err := d.key()
		if err != nil {
			return err
		}
		elem := loc{}
		if !d.dry {
			// Property names keep the form they were written in (a
			// __serialize array may use int keys; a property named "5" is
			// a string); "5" and 5 are still the same property.
			nk, _ := normalizeKey(k)
			elem = loc{arr: obj.Props, idx: obj.Props.lookupOrAdd(k, nk)}
		}
		if err := d.value(elem); err != nil {
			return err
		}
	}
	d.depth--
	return d.expect("}")
}

func (d *decoder) custom(dst loc) error {
	if err := d.expect("C:"); err != nil {
		return err
	}
	nameOff := d.pos
	b, err := d.quoted()
	if err != nil {
		return err
	}
	class, err := d.className(b, nameOff)
	if err != nil {
		return err
	}
	if err := d.expect(":"); err != nil {
		return err
	}
	lenOff := d.pos
	n, err := d.uiv()
	if err != nil {
		return err
	}
	if err := d.expect(":{"); err != nil {
		return err
	}
	if n >= d.end-d.pos {
		return d.errAt(lenOff, nil, "length %d exceeds the %d bytes left", n, d.end-d.pos)
	}
	payload := d.pos
	if d.data[payload+n] != '}' {
		return d.errAt(payload+n, nil, "expected '}' after %d bytes of custom data, found %s", n, d.describe(payload+n))
	}
	if !d.dry {
		dst.set(&Custom{Class: class, Data: append([]byte{}, d.data[payload:payload+n]...)})
	}
	d.countPayload(payload, payload+n)
	d.pos = payload + n + 1
	return nil
}

// countPayload adds the slots taken by a C: payload that is a sequence of
// serialized values (what a Serializable class gets from calling
// serialize() in its serialize method); any other payload takes none.
func (d *decoder) countPayload(from, to int) {
	savedPos, savedEnd, savedDry, savedExtra, savedDepth := d.pos, d.end, d.dry, d.extra, d.depth
	d.pos, d.end, d.dry = from, to, true
	ok := true
	for d.pos < d.end {
		if d.value(loc{}) != nil {
			ok = false
			break
		}
	}
	counted := d.extra - savedExtra
	d.pos, d.end, d.dry, d.extra, d.depth = savedPos, savedEnd, savedDry, savedExtra, savedDepth
	if !ok {
		return
	}
	if d.dry {
		d.extra += counted
		return
	}
	for range counted {
		d.slots = append(d.slots, loc{})
	}
}

// countSlots returns the slots a C: payload takes when it is written after
// base slots at nesting depth depth (see decoder.countPayload).
func countSlots(payload []byte, base, depth, maxDepth int) int {
	d := newDecoder(payload, maxDepth)
	d.dry, d.extra, d.depth = true, base, depth
	for d.pos < d.end {
		if d.value(loc{}) != nil {
			return 0
		}
	}
	return d.extra - base
}

func (d *decoder) enum(dst loc) error {
	if err := d.expect("E:"); err != nil {
		return err
	}
	nameOff := d.pos
	b, err := d.quoted()
	if err != nil {
		return err
	}
	if err := d.expect(";"); err != nil {
		return err
	}
	s := string(b)
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			if !validClassName(s[:i]) || !validCaseName(s[i+1:]) {
				break
			}
			dst.set(Enum{Class: s[:i], Case: s[i+1:]})
			return nil
		}
	}
	return d.errAt(nameOff, ErrInvalidName, "invalid enum case %q, want \"Class:Case\"", truncate(b))
}

// slotTarget reads `<n>;` after r: or R: and returns the slot index.
func (d *decoder) slotTarget(start int) (int, error) {
	n, err := d.uiv()
	if err != nil {
		return 0, err
	}
	if err := d.expect(";"); err != nil {
		return 0, err
	}
	if n == 0 || n > d.nslots() {
		return 0, d.errAt(start, ErrReference, "reference to slot %d, %d slots defined so far", n, d.nslots())
	}
	return n - 1, nil
}

// backref decodes r:<n>;, a second occurrence of an object.
func (d *decoder) backref(dst loc, self int) error {
	start := d.pos
	if err := d.expect("r:"); err != nil {
		return err
	}
	id, err := d.slotTarget(start)
	if err != nil {
		return err
	}
	if id == self {
		return d.errAt(start, ErrReference, "r: refers to itself")
	}
	if d.dry {
		return nil
	}
	target := d.slots[id]
	if !target.valid() {
		return d.errAt(start, ErrReference, "reference to slot %d inside custom (C:) data is not supported", id+1)
	}
	switch v := Deref(target.get()).(type) {
	case *Object, *Custom, Enum:
		dst.set(v)
		return nil
	default:
		return d.errAt(start, ErrReference, "r:%d; refers to %s, not an object", id+1, kindName(v))
	}
}

// reference decodes R:<n>;, a PHP reference (&) to an earlier value: the
// target becomes a *Ref shared with dst.
func (d *decoder) reference(dst loc) error {
	start := d.pos
	if err := d.expect("R:"); err != nil {
		return err
	}
	id, err := d.slotTarget(start)
	if err != nil {
		return err
	}
	if d.dry {
		return nil
	}
	target := d.slots[id]
	if !target.valid() {
		return d.errAt(start, ErrReference, "reference to slot %d inside custom (C:) data is not supported", id+1)
	}
	if target == dst {
		return d.errAt(start, ErrReference, "R: refers to itself")
	}
	cur := target.get()
	r, ok := cur.(*Ref)
	if !ok {
		r = &Ref{Value: cur}
		target.set(r)
	}
	dst.set(r)
	return nil
}

// kindName names a decoded value's PHP type for error messages.
func kindName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a bool"
	case int64:
		return "an int"
	case float64:
		return "a float"
	case string:
		return "a string"
	case *Array:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}

// unmarshal decodes exactly one value filling data.
func unmarshal(data []byte, maxDepth int) (any, error) {
	d := newDecoder(data, maxDepth)
	var root any
	if err := d.value(loc{ptr: &root}); err != nil {
		return nil, err
	}
	if d.pos != d.end {
		return nil, d.errAt(d.pos, nil, "unexpected data after the value: %s", d.describe(d.pos))
	}
	return root, nil
}

// Unmarshal decodes one value in PHP's serialize format (what PHP's
// serialize() returns) with [DefaultMaxDepth]. The whole input must be one
// value. See the package documentation for the Go types it returns.
// Errors are *[SyntaxError].
func Unmarshal(data []byte) (any, error) {
	return unmarshal(data, DefaultMaxDepth)
}
