package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// BoundCodec is implemented by codecs whose output is bound to the store
// key it is saved under. The manager calls EncodeFor and DecodeFor instead
// of Encode and Decode when the codec implements them.
type BoundCodec interface {
	Codec
	EncodeFor(key string, values map[string]any) ([]byte, error)
	DecodeFor(key string, data []byte) (map[string]any, error)
}

// ErrDecrypt means encrypted data failed authentication: wrong key, data
// tampered with, or copied from another record.
var ErrDecrypt = errors.New("session: cannot decrypt data")

// EncryptedCodec encrypts the output of another codec with AES-256-GCM.
// The store key is bound as associated data, so a record copied under
// another ID does not decrypt. Records are encrypted with the first key and
// decrypted with whichever listed key made them, which allows key rotation:
// put the new key first, keep the old ones until their sessions expired.
type EncryptedCodec struct {
	inner Codec
	keys  []aeadKey
}

type aeadKey struct {
	id   [4]byte
	aead cipher.AEAD
}

const encryptedFormat = 1

// NewEncryptedCodec wraps inner with AES-256-GCM encryption. Each key must
// be 32 random bytes; the first one encrypts.
func NewEncryptedCodec(inner Codec, keys ...[]byte) (*EncryptedCodec, error) {
	if inner == nil {
		return nil, errors.New("session: encrypted codec needs an inner codec")
	}
	if len(keys) == 0 {
		return nil, errors.New("session: encrypted codec needs at least one key")
	}
	c := &EncryptedCodec{inner: inner}
	for i, k := range keys {
		if len(k) != 32 {
			return nil, fmt.Errorf("session: encryption key %d has %d bytes, want 32 (AES-256)", i, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("session: encryption key %d: %w", i, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("session: encryption key %d: %w", i, err)
		}
		sum := sha256.Sum256(k)
		var id [4]byte
		copy(id[:], sum[:4])
		c.keys = append(c.keys, aeadKey{id: id, aead: aead})
	}
	return c, nil
}

// Encode implements [Codec], binding to no store key. The manager uses
// EncodeFor.
func (c *EncryptedCodec) Encode(values map[string]any) ([]byte, error) {
	return c.EncodeFor("", values)
}

// Decode implements [Codec] for data encoded without a store key.
func (c *EncryptedCodec) Decode(data []byte) (map[string]any, error) {
	return c.DecodeFor("", data)
}

// EncodeFor encodes values with the inner codec and encrypts the result,
// bound to key: format byte, key id (4 bytes), nonce (12), ciphertext.
func (c *EncryptedCodec) EncodeFor(key string, values map[string]any) ([]byte, error) {
	plain, err := c.inner.Encode(values)
	if err != nil {
		return nil, err
	}
	k := c.keys[0]
	out := make([]byte, 1+4+k.aead.NonceSize(), 1+4+k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	out[0] = encryptedFormat
	copy(out[1:5], k.id[:])
	nonce := out[5:]
	_, _ = rand.Read(nonce)
	return k.aead.Seal(out, nonce, plain, []byte(key)), nil
}

// DecodeFor decrypts data saved under key and decodes it with the inner
// codec. It fails with ErrDecrypt when no listed key authenticates it.
func (c *EncryptedCodec) DecodeFor(key string, data []byte) (map[string]any, error) {
	const head = 1 + 4 + 12
	if len(data) < head+16 || data[0] != encryptedFormat {
		return nil, fmt.Errorf("%w: %w: not an encrypted record", ErrDecode, ErrDecrypt)
	}
	for _, k := range c.keys {
		if [4]byte(data[1:5]) != k.id {
			continue
		}
		plain, err := k.aead.Open(nil, data[5:head], data[head:], []byte(key))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrDecode, ErrDecrypt)
		}
		return c.inner.Decode(plain)
	}
	return nil, fmt.Errorf("%w: %w: encrypted with a key that is not listed", ErrDecode, ErrDecrypt)
}

// encode and decode use the store key when the codec binds to it.
func (m *Manager) encode(key string, values map[string]any) ([]byte, error) {
	if b, ok := m.Codec.(BoundCodec); ok {
		return b.EncodeFor(key, values)
	}
	return m.Codec.Encode(values)
}

func (m *Manager) decode(key string, data []byte) (map[string]any, error) {
	if b, ok := m.Codec.(BoundCodec); ok {
		return b.DecodeFor(key, data)
	}
	return m.Codec.Decode(data)
}
