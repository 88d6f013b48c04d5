// Package phpcodec reads and writes PHP's session serialization so that a
// Go service and a PHP service can share session data.
//
// [PHP], [PHPBinary] and [PHPSerialize] are ready-to-use values of [Codec]
// for PHP's three session.serialize_handler settings ("php", the default,
// "php_binary" and "php_serialize"); they satisfy the session package's
// Codec interface. [Marshal] and [Unmarshal] handle single values in the
// format of PHP's serialize() and unserialize().
//
// # Go mapping
//
// Decoding gives, for each PHP value:
//
//	null                     nil
//	bool                     bool
//	int                      int64
//	float                    float64 (NAN, INF, -INF and -0 included)
//	string                   string (PHP strings are bytes: any byte sequence, not only UTF-8)
//	array                    *Array, ordered, keys int64 or string
//	object (O:)              *Object{Class, Props}; property names keep PHP's
//	                         "\x00*\x00" (protected) and "\x00Class\x00" (private) prefixes
//	Serializable object (C:) *Custom{Class, Data}, Data being the raw payload
//	enum case (E:)           Enum{Class, Case}
//	reference (&, R:)        *Ref, the same pointer in every place sharing the variable
//	object back-ref (r:)     the same *Object (or *Custom, or Enum) as its first occurrence
//
// An array key that is a canonical decimal integer ("5", but not "05" or
// "5.0") is an integer key in PHP; [Array] follows that rule. Sessions
// decode to map[string]any (the entries of $_SESSION); under
// "php_serialize", integer keys of the session array are given in decimal.
//
// Encoding accepts those types plus the usual Go ones:
//
//	nil                                  N;
//	bool                                 b:0; b:1;
//	int, int8 ... int64, uint ... uint64 i: (a uint above math.MaxInt64 is an error wrapping ErrRange)
//	float32, float64                     d:, written as PHP writes floats (see FormatFloat)
//	string, []byte                       s:
//	[]any and other slices, Go arrays    a list array (keys 0, 1, 2...)
//	map[string]T, map[<integer>]T        an array sorted by key; canonical integer strings become integer keys
//	*Array, *Object, *Custom, Enum       as decoded
//	*Ref (or a Ref value)                a PHP reference
//	nil *Array, *Object, *Custom, *Ref   N;
//	nil slice or map                     a:0:{}
//
// Named types are encoded by their kind (a type Role string is a string).
// Any other type (structs, pointers, channels...) is an error wrapping
// [ErrUnsupportedType] that names the Go type and where it was found.
//
// # References
//
// PHP numbers every value it writes, array elements and object properties
// included (array keys and R: entries take no number, r: entries do), with
// one numbering across a whole "php" or "php_binary" session string.
// R:<n>; makes a value a reference to value n, r:<n>; is a second
// occurrence of object n. This package decodes them into shared Go values
// and numbers them again when encoding, following PHP's serializer: the
// same *Ref, *Object, *Custom or Enum met twice is written once and then
// as R:/r:. So Decode then Encode gives back PHP's bytes, and keys can be
// reordered freely. A value shared without a *Ref (the same *Array stored
// twice) is written twice, as PHP arrays are values; a cycle without a
// *Ref or an *Object fails with [ErrDepth].
//
// The values that a Serializable class's serialize() method wrote with
// serialize() in its C: payload take numbers in PHP too. When a payload is
// a sequence of serialized values this package counts them; it cannot
// know about other payload formats, and a back-reference to a value inside
// a payload is an error wrapping [ErrReference].
//
// # Session handlers
//
// "php" writes key|value for each key; a key containing '|' cannot be
// written ([ErrInvalidKey]). A key starting with '!' was PHP 5's marker of
// an undefined variable; PHP 7 and 8 treat '!' as an ordinary character in
// both directions, and so does this package. "php_binary" writes the key
// length as one byte, then the key and the value; keys are limited to 127
// bytes (the byte's high bit was PHP 5's undefined flag, which PHP 7+ and
// this package ignore when reading). "php_serialize" writes the session as
// one array.
//
// [Codec.Encode] writes keys in sorted order; [Codec.DecodeArray] and
// [Codec.EncodeArray] keep the order of a session string, so that decoding
// and encoding again gives identical bytes.
//
// # Untrusted input
//
// Decoding never panics. Nesting is limited by [Codec.MaxDepth] (default
// [DefaultMaxDepth]); counts and lengths are checked against the bytes
// left before anything is allocated for them; every error is a
// *[SyntaxError] carrying the byte offset of the problem.
//
// Decoding is as lenient as PHP's unserialize() where that is harmless
// (i:+5;, d:.5;, the old S: escaped strings, duplicate keys where the last
// value wins) and stricter in one respect: data after the last value is an
// error (PHP ignores it in unserialize() before 8.3 and under
// "php_serialize").
package phpcodec
