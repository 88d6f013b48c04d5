package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"unsafe"
)

// Alphabets for session IDs.
const (
	// AlphabetURL is the default alphabet: the 64 characters of unpadded
	// base64url, six bits a character.
	AlphabetURL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	// AlphabetPHP is PHP's alphabet for session.sid_bits_per_character=6:
	// [0-9a-zA-Z,-].
	AlphabetPHP = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,-"
)

// MaxIDLength is the longest session ID the manager accepts from a client.
const MaxIDLength = 256

// minIDBits is the least entropy the manager accepts for generated IDs.
const minIDBits = 128

// idPolicy generates and validates session IDs.
type idPolicy struct {
	alphabet string
	length   int
	minLen   int
	allowed  [256]bool
}

// newIDPolicy generates IDs of length characters of alphabet and accepts
// IDs of minLen to MaxIDLength characters of accept (default alphabet).
func newIDPolicy(alphabet, accept string, length, minLen int) (*idPolicy, error) {
	if len(alphabet) < 2 || len(alphabet) > 256 {
		return nil, fmt.Errorf("session: ID alphabet must have 2 to 256 characters, has %d", len(alphabet))
	}
	p := &idPolicy{alphabet: alphabet, length: length, minLen: minLen}
	for _, set := range []string{alphabet, accept} {
		var seen [256]bool
		for i := 0; i < len(set); i++ {
			c := set[i]
			if seen[c] {
				return nil, fmt.Errorf("session: ID alphabet repeats %q", c)
			}
			if c <= ' ' || c >= 0x7f || strings.IndexByte(`";\=`, c) >= 0 {
				return nil, fmt.Errorf("session: ID alphabet has %q, which cannot travel in a cookie", c)
			}
			seen[c], p.allowed[c] = true, true
		}
	}
	if length > MaxIDLength {
		return nil, fmt.Errorf("session: ID length %d is over %d", length, MaxIDLength)
	}
	if bits := float64(length) * math.Log2(float64(len(alphabet))); bits < minIDBits {
		return nil, fmt.Errorf("session: IDs of %d characters from %d give %.0f bits, fewer than %d", length, len(alphabet), bits, minIDBits)
	}
	if p.minLen <= 0 || p.minLen > length {
		p.minLen = length
	}
	return p, nil
}

// generate returns a new random ID, drawing characters uniformly from the
// alphabet with crypto/rand (rejection sampling: no modulo bias). It makes
// one allocation: the ID's bytes, which nothing changes afterwards.
func (p *idPolicy) generate() string {
	n := len(p.alphabet)
	limit := 256 - 256%n
	out := make([]byte, p.length)
	_, _ = rand.Read(out) // crypto/rand.Read never fails (Go 1.24+).
	var spare [32]byte
	used := len(spare)
	for i, b := range out {
		for int(b) >= limit {
			if used == len(spare) {
				_, _ = rand.Read(spare[:])
				used = 0
			}
			b = spare[used]
			used++
		}
		out[i] = p.alphabet[int(b)%n]
	}
	return unsafe.String(unsafe.SliceData(out), len(out))
}

// valid reports whether id has an acceptable length and only characters of
// the alphabet. It looks at every byte whatever it finds, so its time does
// not depend on where a bad character is.
func (p *idPolicy) valid(id string) bool {
	if len(id) < p.minLen || len(id) > MaxIDLength {
		return false
	}
	ok := true
	for i := 0; i < len(id); i++ {
		ok = p.allowed[id[i]] && ok
	}
	return ok
}

// hashKey is the store key of an ID when IDs are hashed: hex SHA-256.
func hashKey(id string) string {
	sum := sha256.Sum256(unsafe.Slice(unsafe.StringData(id), len(id))) // read only
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}
