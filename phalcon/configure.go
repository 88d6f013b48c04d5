package phalcon

import (
	"errors"
	"fmt"
	"math"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/phpcodec"
)

// PHP's session ID settings: the defaults PHP compiles in (PHP 8.2 and 8.4,
// without a php.ini) and the range PHP accepts for session.sid_length.
const (
	// DefaultSIDLength is PHP's default session.sid_length.
	DefaultSIDLength = 32
	// DefaultSIDBitsPerCharacter is PHP's default
	// session.sid_bits_per_character.
	DefaultSIDBitsPerCharacter = 4
	// MinSIDLength is the shortest session.sid_length PHP accepts, and the
	// shortest ID the preset accepts from a client.
	MinSIDLength = 22
	// MaxSIDLength is the longest session.sid_length PHP accepts.
	MaxSIDLength = 256
)

// ErrInvalidOptions means [Options] that PHP or sessionkit does not accept.
var ErrInvalidOptions = errors.New("phalcon: invalid options")

// minGeneratedBits is the least entropy sessionkit generates IDs with.
const minGeneratedBits = 128

// Options describes the PHP application's session ID settings, for
// [ConfigureWith]. The zero value is PHP's defaults.
type Options struct {
	// SIDLength is PHP's session.sid_length: the length of the IDs the Go
	// side generates (default 32). PHP accepts 22 to 256.
	SIDLength int
	// SIDBitsPerCharacter is PHP's session.sid_bits_per_character (default
	// 4): 4 gives [0-9a-f], 5 gives [0-9a-v], 6 gives [0-9a-zA-Z,-]
	// (session.AlphabetPHP).
	SIDBitsPerCharacter int
}

// SIDAlphabet returns the characters of PHP's session IDs for
// session.sid_bits_per_character bits (4, 5 or 6), in PHP's order.
func SIDAlphabet(bits int) (string, error) {
	if bits < 4 || bits > 6 {
		return "", fmt.Errorf("phalcon: session.sid_bits_per_character %d: PHP accepts 4, 5 or 6: %w", bits, ErrInvalidOptions)
	}
	return session.AlphabetPHP[:1<<bits], nil
}

// Configure sets m up to share sessions with a PHP application that keeps
// PHP's default session ID settings: see [ConfigureWith].
func Configure(m *session.Manager) {
	// The zero Options are PHP's defaults, which are always valid.
	_ = ConfigureWith(m, Options{})
}

// ConfigureWith sets m up to share sessions with PHP: cookie PHPSESSID, IDs
// of the shape PHP generates with o's session.sid_length and
// session.sid_bits_per_character (IDs of 22 to 256 characters of
// [0-9a-zA-Z,-] accepted from clients, as PHP accepts them whatever its
// php.ini generates: php.ini-production issues 26 characters at 5 bits), raw IDs as store keys, phpcodec.PHP (session.serialize_handler
// "php") as the codec, and PHP's default idle lifetime. The cookie keeps
// sessionkit's secure attributes; match Path and Domain to PHP's
// session.cookie_path and session.cookie_domain when they differ.
//
// Settings PHP does not accept, and settings giving IDs of fewer than 128
// bits (which sessionkit does not generate), are refused with an error
// wrapping [ErrInvalidOptions]; m is then left as it was.
func ConfigureWith(m *session.Manager, o Options) error {
	if o.SIDLength == 0 {
		o.SIDLength = DefaultSIDLength
	}
	if o.SIDBitsPerCharacter == 0 {
		o.SIDBitsPerCharacter = DefaultSIDBitsPerCharacter
	}
	alphabet, err := SIDAlphabet(o.SIDBitsPerCharacter)
	if err != nil {
		return err
	}
	if o.SIDLength < MinSIDLength || o.SIDLength > MaxSIDLength {
		return fmt.Errorf("phalcon: session.sid_length %d: PHP accepts %d to %d: %w", o.SIDLength, MinSIDLength, MaxSIDLength, ErrInvalidOptions)
	}
	if o.SIDLength*o.SIDBitsPerCharacter < minGeneratedBits {
		need := int(math.Ceil(float64(minGeneratedBits) / float64(o.SIDBitsPerCharacter)))
		return fmt.Errorf("phalcon: session.sid_length %d at %d bits a character gives %d bits, fewer than the %d sessionkit generates: set SIDLength to %d or more (PHP accepts the longer IDs): %w",
			o.SIDLength, o.SIDBitsPerCharacter, o.SIDLength*o.SIDBitsPerCharacter, minGeneratedBits, need, ErrInvalidOptions)
	}
	m.Cookie.Name = CookieName
	m.IDAlphabet = alphabet
	m.IDLength = o.SIDLength
	m.MinIDLength = MinSIDLength
	m.AcceptIDAlphabet = session.AlphabetPHP // every ID PHP accepts, whatever shape it generates
	m.RawIDs = true
	m.Codec = phpcodec.PHP
	m.IdleTimeout = MaxLifetime
	return nil
}
