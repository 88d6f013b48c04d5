package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
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

func newIDPolicy(alphabet string, length, minLen int) (*idPolicy, error) {
	if len(alphabet) < 2 || len(alphabet) > 256 {
		return nil, fmt.Errorf("session: ID alphabet must have 2 to 256 characters, has %d", len(alphabet))
	}
	p := &idPolicy{alphabet: alphabet, length: length, minLen: minLen}
	for i := 0; i < len(alphabet); i++ {
		c := alphabet[i]
		if p.allowed[c] {
			return nil, fmt.Errorf("session: ID alphabet repeats %q", c)
		}
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`";\=`, c) >= 0 {
			return nil, fmt.Errorf("session: ID alphabet has %q, which cannot travel in a cookie", c)
		}
		p.allowed[c] = true
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
// alphabet with crypto/rand (rejection sampling: no modulo bias).
func (p *idPolicy) generate() string {
	n := len(p.alphabet)
	limit := 256 - 256%n
	out := make([]byte, 0, p.length)
	buf := make([]byte, p.length+p.length/4+8)
	for len(out) < p.length {
		_, _ = rand.Read(buf) // crypto/rand.Read never fails (Go 1.24+).
		for _, b := range buf {
			if int(b) < limit {
				out = append(out, p.alphabet[int(b)%n])
				if len(out) == p.length {
					break
				}
			}
		}
	}
	return string(out)
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
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}
