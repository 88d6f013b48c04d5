package phpcodec

import "fmt"

// Object is a PHP object serialized with its properties: O:<len>:"Class":<n>:{...}.
//
// Props holds the properties in order. Their names are the raw serialized
// keys: a public property is its name, a protected one is "\x00*\x00name"
// and a private one "\x00Class\x00name" (see [ProtectedProp] and
// [PrivateProp]). Objects whose class defines __serialize may also have
// integer keys. Decoded names keep the exact form that was read, so a
// property named "5" stays the string "5".
//
// Objects have identity: the same *Object reached twice is written once
// and then as a back-reference (r:<n>;), as PHP does, and decoding r:<n>;
// yields the same pointer again.
type Object struct {
	Class string
	Props *Array
}

// NewObject returns an object of class class whose public properties are
// the entries of props, sorted by name.
func NewObject(class string, props map[string]any) *Object {
	o := &Object{Class: class, Props: &Array{}}
	for _, e := range NewMap(props).entries {
		name := keyString(e.Key) // property names are strings, even "5"
		nk, _ := normalizeKey(name)
		o.Props.add(name, nk, e.Value)
	}
	return o
}

// Get returns the property called name, whether public, protected, or
// private to the object's own class, and whether it is present.
func (o *Object) Get(name string) (any, bool) {
	if o == nil {
		return nil, false
	}
	for _, k := range [...]string{name, ProtectedProp(name), PrivateProp(o.Class, name)} {
		if v, ok := o.Props.Get(k); ok {
			return v, true
		}
	}
	return nil, false
}

// String returns a short description, not PHP syntax.
func (o *Object) String() string {
	if o == nil {
		return "phpcodec.Object(nil)"
	}
	return fmt.Sprintf("phpcodec.Object(%s, %d props)", o.Class, o.Props.Len())
}

// ProtectedProp returns the serialized name of a protected property.
func ProtectedProp(name string) string { return "\x00*\x00" + name }

// PrivateProp returns the serialized name of a property private to class.
func PrivateProp(class, name string) string { return "\x00" + class + "\x00" + name }

// Custom is an object of a class implementing PHP's Serializable
// interface: C:<len>:"Class":<len>:{Data}. Data is whatever the class's
// serialize() method returned, kept as raw bytes. Like [Object], a
// *Custom has identity.
type Custom struct {
	Class string
	Data  []byte
}

// Enum is a case of a PHP 8.1+ enumeration: E:<len>:"Class:Case";. Enum
// cases are singletons in PHP, so the second time the same case is
// written it becomes a back-reference (r:<n>;), as PHP does.
type Enum struct {
	Class string
	Case  string
}

// Ref is a PHP reference (&): a variable shared between several places.
// Decoding gives every place that shares the variable the same *Ref; the
// first place is written with the value, the others as R:<n>;. Build one
// *Ref and store it in several places to encode a PHP reference.
//
// A *Ref that wraps an *Object, *Custom or Enum shares the identity of that
// object, as in PHP. A *Ref cannot hold another *Ref.
type Ref struct {
	Value any
}

// Deref returns v.Value when v is a non-nil *Ref, and v otherwise.
func Deref(v any) any {
	if r, ok := v.(*Ref); ok && r != nil {
		return r.Value
	}
	return v
}

// validClassName reports whether PHP accepts name as a class name in
// serialized data: non-empty, made of ASCII letters, digits, '_', '\\' and
// bytes >= 0x80, not starting with '\\'.
func validClassName(name string) bool {
	if name == "" || name[0] == '\\' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '\\' || c >= 0x80) {
			return false
		}
	}
	return true
}

// validCaseName reports whether name can be an enum case: a non-empty PHP
// label (letters, digits, '_', bytes >= 0x80).
func validCaseName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80) {
			return false
		}
	}
	return true
}
