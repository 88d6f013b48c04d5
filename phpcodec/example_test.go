package phpcodec_test

import (
	"errors"
	"fmt"

	"github.com/sessionkit/session/phpcodec"
)

// Encode a session the way PHP's default "php" handler stores it.
func ExampleCodec_Encode() {
	data, err := phpcodec.PHP.Encode(map[string]any{
		"user_id": 42,
		"cart":    []any{"apple", "pear"},
		"flash":   map[string]string{"notice": "Saved"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(data))
	// Output:
	// cart|a:2:{i:0;s:5:"apple";i:1;s:4:"pear";}flash|a:1:{s:6:"notice";s:5:"Saved";}user_id|i:42;
}

// Decode a session written by PHP.
func ExampleCodec_Decode() {
	values, err := phpcodec.PHP.Decode([]byte(`user_id|i:42;roles|a:2:{i:0;s:5:"admin";i:1;s:3:"dev";}ratio|d:0.5;`))
	if err != nil {
		panic(err)
	}
	roles := values["roles"].(*phpcodec.Array)
	fmt.Println(values["user_id"].(int64), roles.List(), values["ratio"].(float64))
	// Output:
	// 42 [admin dev] 0.5
}

// The other handlers are values of the same type.
func ExampleCodec_handlers() {
	values := map[string]any{"a": 1}
	for _, c := range []phpcodec.Codec{phpcodec.PHP, phpcodec.PHPBinary, phpcodec.PHPSerialize} {
		data, _ := c.Encode(values)
		fmt.Printf("%-13s %q\n", c.Handler, data)
	}
	// Output:
	// php           "a|i:1;"
	// php_binary    "\x01ai:1;"
	// php_serialize "a:1:{s:1:\"a\";i:1;}"
}

// DecodeArray and EncodeArray keep the order of the keys, so a session
// from PHP is written back byte for byte.
func ExampleCodec_DecodeArray() {
	in := []byte(`zebra|i:1;apple|i:2;`)
	session, _ := phpcodec.PHP.DecodeArray(in)
	session.Set("mango", 3)
	out, _ := phpcodec.PHP.EncodeArray(session)
	fmt.Println(string(out))
	// Output:
	// zebra|i:1;apple|i:2;mango|i:3;
}

func ExampleMarshal() {
	data, _ := phpcodec.Marshal([]any{nil, true, 7, 0.1, 1e25, "é"})
	fmt.Println(string(data))
	// Output:
	// a:6:{i:0;N;i:1;b:1;i:2;i:7;i:3;d:0.1;i:4;d:1.0E+25;i:5;s:2:"é";}
}

// Objects keep their class and raw property names.
func ExampleUnmarshal() {
	v, _ := phpcodec.Unmarshal([]byte("O:4:\"User\":2:{s:4:\"name\";s:3:\"bob\";s:7:\"\x00*\x00role\";s:5:\"admin\";}"))
	user := v.(*phpcodec.Object)
	role, _ := user.Get("role") // finds the protected property
	fmt.Println(user.Class, role)
	// Output:
	// User admin
}

// PHP references decode to one shared *Ref.
func ExampleRef() {
	v, _ := phpcodec.Unmarshal([]byte(`a:2:{s:1:"x";i:1;s:1:"y";R:2;}`))
	a := v.(*phpcodec.Array)
	x, _ := a.Get("x")
	y, _ := a.Get("y")
	x.(*phpcodec.Ref).Value = int64(5)
	fmt.Println(x == y, phpcodec.Deref(y))
	// Output:
	// true 5
}

func ExampleArray() {
	a := phpcodec.NewList("a", "b")
	a.Set("5", "five") // "5" is the integer key 5, as in PHP
	a.Set("05", "string key")
	_ = a.Append("next") // key 6
	for k, v := range a.All() {
		fmt.Printf("%T %v => %v\n", k, k, v)
	}
	// Output:
	// int64 0 => a
	// int64 1 => b
	// int64 5 => five
	// string 05 => string key
	// int64 6 => next
}

func ExampleFormatFloat() {
	for _, f := range []float64{0.1, 1e15, 1e17, 0.0001, 0.00001, 1.0 / 3} {
		fmt.Println(phpcodec.FormatFloat(f))
	}
	// Output:
	// 0.1
	// 1000000000000000
	// 1.0E+17
	// 0.0001
	// 1.0E-5
	// 0.3333333333333333
}

// Decoding errors carry the byte offset.
func ExampleSyntaxError() {
	_, err := phpcodec.PHP.Decode([]byte(`a|i:1;b|a:1:{i:0;b:7;}`))
	var se *phpcodec.SyntaxError
	if errors.As(err, &se) {
		fmt.Println(se.Offset, se.Msg)
	}
	// Output:
	// 19 expected 0 or 1, found '7'
}
