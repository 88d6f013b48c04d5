package phalcon_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sessionkit/session/phalcon"
	"github.com/sessionkit/session/phpcodec"
)

// The rules of Phalcon 5's Phalcon\Session\Bag (phalcon/Session/Bag.zep,
// extending phalcon/Support/Collection.zep with insensitive keys and
// strictNull false), one test each. Sessions are seeded with what the PHP
// application would have stored; the bag is "cart" under uniqueId "app".

const bagID = "0123456789abcdef0123456789abcdef"

// bagEnv seeds a session whose bag "cart" is the serialized PHP array
// cart ("" for no bag at all) next to an unrelated key.
func bagEnv(t *testing.T, cart string) *env {
	e := newEnv(t)
	data := `app#user|s:5:"alice";`
	if cart != "" {
		data += `app#cart|` + cart
	}
	e.seed(bagID, data)
	return e
}

// storedCart returns the bag as stored after the requests, or "" when the
// session has no app#cart.
func (e *env) storedCart() string {
	e.t.Helper()
	vals, err := phpcodec.PHP.Decode([]byte(e.raw(bagID)))
	if err != nil {
		e.t.Fatalf("stored session: %v", err)
	}
	v, ok := vals["app#cart"]
	if !ok {
		return ""
	}
	out, err := phpcodec.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(out)
}

func (e *env) bag(fn func(b *phalcon.Bag)) {
	e.t.Helper()
	e.request(bagID, func(p *phalcon.Session) { fn(p.Bag("cart")) })
}

// has(): isset($this->lowerKeys[$element]), so a key whose value is null
// is there; get() gives the default for it (strictNull false).
func TestBagHasNullValue(t *testing.T) {
	e := bagEnv(t, `a:2:{s:4:"gone";N;s:3:"qty";i:3;}`)
	e.bag(func(b *phalcon.Bag) {
		if !b.Has("gone") {
			t.Error("Has on a key whose value is null = false; Phalcon's Bag answers true")
		}
		if got := b.Get("gone", "default"); got != "default" {
			t.Errorf("Get on a null value = %#v, want the default", got)
		}
		if b.Has("missing") {
			t.Error("Has on a missing key = true")
		}
	})
}

// processKey(): mb_strtolower of the element, for get, has, remove.
func TestBagKeysCaseInsensitive(t *testing.T) {
	e := bagEnv(t, `a:2:{s:3:"qty";i:3;s:8:"Discount";d:0.5;}`)
	e.bag(func(b *phalcon.Bag) {
		if got := b.Get("QTY", nil); got != int64(3) {
			t.Errorf("Get(QTY) = %#v, want the 3 under qty", got)
		}
		if !b.Has("Qty") || !b.Has("discount") || !b.Has("DISCOUNT") {
			t.Errorf("Has(Qty) %v, Has(discount) %v, Has(DISCOUNT) %v", b.Has("Qty"), b.Has("discount"), b.Has("DISCOUNT"))
		}
		b.Remove("DISCOUNT")
		if b.Has("Discount") {
			t.Error("Remove(DISCOUNT) left Discount")
		}
	})
	if got := e.storedCart(); got != `a:1:{s:3:"qty";i:3;}` {
		t.Errorf("stored %s", got)
	}
}

// setData(): a key stored under another case is evicted and the new key
// appended (as written); the same key keeps its place ($data[$k] = $v).
func TestBagSetKeyCaseAndPosition(t *testing.T) {
	e := bagEnv(t, `a:3:{s:3:"qty";i:1;s:1:"x";i:2;s:1:"y";i:3;}`)
	e.bag(func(b *phalcon.Bag) {
		b.Set("QTY", 5) // evicts qty, appended
		b.Set("x", 20)  // same key: keeps its place
		b.Set("z", 4)   // new: appended
	})
	if got, want := e.storedCart(), `a:4:{s:1:"x";i:20;s:1:"y";i:3;s:3:"QTY";i:5;s:1:"z";i:4;}`; got != want {
		t.Errorf("stored %s, want %s", got, want)
	}
}

// __construct(): $data = $session->get($name), [] when not an array, then
// init($data), which stores it back: the session then has the bag.
func TestBagConstructorStoresArray(t *testing.T) {
	for name, cart := range map[string]string{"absent": "", "scalar": `s:4:"oops";`} {
		t.Run(name, func(t *testing.T) {
			e := bagEnv(t, cart)
			e.bag(func(b *phalcon.Bag) {
				if b.Len() != 0 || b.Has("oops") {
					t.Errorf("a bag over %q: len %d", cart, b.Len())
				}
			})
			if got := e.storedCart(); got != `a:0:{}` {
				t.Errorf("after new Bag the session holds cart %q, want an empty array", got)
			}
		})
	}
	e := bagEnv(t, `a:1:{s:3:"Qty";i:1;}`)
	e.bag(func(b *phalcon.Bag) {})
	if got := e.storedCart(); got != `a:1:{s:3:"Qty";i:1;}` {
		t.Errorf("new Bag over an array changed it to %s", got)
	}
}

// Collection::init() keeps, of keys equal but for case, the last one, at
// its own place; get, count and toArray see that view.
func TestBagInitDeduplicatesCase(t *testing.T) {
	e := bagEnv(t, `a:3:{s:3:"Qty";i:1;s:1:"x";i:0;s:3:"qty";i:2;}`)
	e.bag(func(b *phalcon.Bag) {
		if got := b.Get("QTY", nil); got != int64(2) {
			t.Errorf("Get(QTY) = %#v, want the last of Qty and qty (2)", got)
		}
		if b.Len() != 2 {
			t.Errorf("Len = %d, want 2", b.Len())
		}
		if got := b.ToArray().String(); got != fmt.Sprint(phpArray(t, `a:2:{s:1:"x";i:0;s:3:"qty";i:2;}`)) {
			t.Errorf("ToArray = %s", got)
		}
	})
}

// Bag::init($data): Collection::init, then $session->set($name, $data):
// the session holds exactly $data.
func TestBagInitReplacesStored(t *testing.T) {
	e := bagEnv(t, `a:1:{s:1:"a";i:1;}`)
	e.bag(func(b *phalcon.Bag) {
		b.Init(phpcodec.NewList("p", "q"))
	})
	if got := e.storedCart(); got != `a:2:{i:0;s:1:"p";i:1;s:1:"q";}` {
		t.Errorf("stored %s after Init", got)
	}
	e.bag(func(b *phalcon.Bag) { b.Init(nil) })
	if got := e.storedCart(); got != `a:0:{}` {
		t.Errorf("stored %s after Init(nil)", got)
	}
}

// Bag::remove(): Collection::remove, then $session->set($name, $data), also
// when the key was not there.
func TestBagRemove(t *testing.T) {
	e := bagEnv(t, `a:3:{s:3:"Qty";i:1;s:3:"qty";i:2;s:1:"x";i:3;}`)
	e.bag(func(b *phalcon.Bag) { b.Remove("missing") })
	if got := e.storedCart(); got != `a:2:{s:3:"qty";i:2;s:1:"x";i:3;}` {
		t.Errorf("after removing a missing key the bag is stored as %s (want Collection's view)", got)
	}
	e.bag(func(b *phalcon.Bag) { b.Remove("QTY") })
	if got := e.storedCart(); got != `a:1:{s:1:"x";i:3;}` {
		t.Errorf("after Remove(QTY) the bag is stored as %s", got)
	}
}

// getIterator(): new ArrayIterator($data): the stored order, keys as
// stored (integer keys as integers).
func TestBagIterationOrder(t *testing.T) {
	e := bagEnv(t, `a:4:{s:1:"b";i:1;i:7;s:5:"seven";s:1:"A";N;s:1:"c";a:1:{i:0;b:1;}}`)
	e.bag(func(b *phalcon.Bag) {
		var got []string
		for k, v := range b.All() {
			got = append(got, fmt.Sprintf("%T %v=%v", k, k, v))
		}
		want := []string{"string b=1", "int64 7=seven", "string A=<nil>", "string c=phpcodec.Array(len=1)"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("iteration %q, want %q", got, want)
		}
		if v := b.Get("7", nil); v != "seven" {
			t.Errorf("Get(\"7\") = %#v (integer key)", v)
		}
	})
}

// count(): count($data), null values included.
func TestBagCount(t *testing.T) {
	e := bagEnv(t, `a:3:{s:1:"a";i:1;s:1:"b";N;s:1:"c";i:0;}`)
	e.bag(func(b *phalcon.Bag) {
		if b.Len() != 3 {
			t.Errorf("Len = %d, want 3 (nulls count)", b.Len())
		}
		b.Set("d", 4)
		b.Remove("a")
		if b.Len() != 3 {
			t.Errorf("Len after a set and a remove = %d, want 3", b.Len())
		}
	})
}

// toArray(): $data, a copy: changing it leaves the bag alone.
func TestBagToArray(t *testing.T) {
	e := bagEnv(t, `a:2:{s:3:"Qty";i:1;s:1:"x";s:1:"y";}`)
	e.bag(func(b *phalcon.Bag) {
		a := b.ToArray()
		if a.String() != phpArray(t, `a:2:{s:3:"Qty";i:1;s:1:"x";s:1:"y";}`).String() {
			t.Errorf("ToArray = %s", a)
		}
		a.Set("Qty", 99)
		if b.Get("qty", nil) != int64(1) {
			t.Error("changing ToArray's result changed the bag")
		}
	})
}

// get($element, $defaultValue): the default for a missing key, the value
// (of any type, false and 0 included) otherwise.
func TestBagGetDefault(t *testing.T) {
	e := bagEnv(t, `a:3:{s:1:"f";b:0;s:1:"z";i:0;s:1:"e";s:0:"";}`)
	e.bag(func(b *phalcon.Bag) {
		if b.Get("missing", "def") != "def" {
			t.Error("missing key: no default")
		}
		if b.Get("f", "def") != false || b.Get("z", "def") != int64(0) || b.Get("e", "def") != "" {
			t.Errorf("falsy values replaced by the default: %#v %#v %#v", b.Get("f", "def"), b.Get("z", "def"), b.Get("e", "def"))
		}
	})
}

// set() / __set(): stored at once in the session ($session->set($name,
// $data)), visible to the next request and to PHP.
func TestBagSet(t *testing.T) {
	e := bagEnv(t, "")
	e.bag(func(b *phalcon.Bag) {
		b.Set("qty", 3)
		b.Set("sku", "A-1")
		if b.Get("qty", nil) != 3 {
			t.Errorf("Get right after Set = %#v", b.Get("qty", nil))
		}
	})
	if got := e.storedCart(); got != `a:2:{s:3:"qty";i:3;s:3:"sku";s:3:"A-1";}` {
		t.Errorf("stored %s", got)
	}
}

// clear(): Collection::clear, then $session->remove($name): the session no
// longer has the bag (Phalcon 3's destroy()).
func TestBagClear(t *testing.T) {
	e := bagEnv(t, `a:1:{s:3:"qty";i:3;}`)
	e.request(bagID, func(p *phalcon.Session) {
		b := p.Bag("cart")
		b.Clear()
		if b.Len() != 0 || b.Has("qty") || p.Has("cart") || p.Session().Has("app#cart") {
			t.Errorf("after Clear: len %d, has qty %v, session has cart %v", b.Len(), b.Has("qty"), p.Session().Has("app#cart"))
		}
	})
	if got := e.storedCart(); got != "" {
		t.Errorf("after Clear the session still holds cart %s", got)
	}
	if !strings.Contains(e.raw(bagID), `app#user|s:5:"alice";`) {
		t.Error("Clear removed more than the bag")
	}
}

// The manager's has() (Phalcon\Session\Manager::has, isset on $_SESSION)
// keeps treating a stored null as absent, unlike the Bag's.
func TestManagerHasNullStaysAbsent(t *testing.T) {
	e := newEnv(t)
	e.seed(bagID, `app#gone|N;app#cart|a:1:{s:4:"gone";N;}`)
	e.request(bagID, func(p *phalcon.Session) {
		if p.Has("gone") || !p.Bag("cart").Has("gone") {
			t.Errorf("manager has(null) %v (want false), bag has(null) %v (want true)", p.Has("gone"), p.Bag("cart").Has("gone"))
		}
	})
}

func phpArray(t *testing.T, serialized string) *phpcodec.Array {
	t.Helper()
	v, err := phpcodec.Unmarshal([]byte(serialized))
	if err != nil {
		t.Fatal(err)
	}
	a, ok := v.(*phpcodec.Array)
	if !ok {
		t.Fatalf("%s is not an array", serialized)
	}
	return a
}
