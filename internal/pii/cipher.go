package pii

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/tink-crypto/tink-go/v2/tink"
)

// ErrDecrypt is returned when a ciphertext does not open: tampered, truncated, sealed for
// another field or another tenant, or not a ciphertext at all.
var ErrDecrypt = errors.New("ciphertext does not open")

// Cipher seals and opens one tenant's personal data. Field names ("users.phone") are part of
// every operation so that a value cannot be moved between columns unnoticed. Safe for
// concurrent use.
type Cipher struct {
	tenantID int64
	aead     tink.AEAD
	mac      tink.MAC
}

// TenantID is the tenant whose keys the Cipher holds.
func (c *Cipher) TenantID() int64 { return c.tenantID }

// fieldAD is the associated data of a field. The tenant id is in it as well as in the key
// choice, so that even a mistakenly shared keyset cannot open another tenant's values.
func (c *Cipher) fieldAD(field string) []byte {
	return fmt.Appendf(nil, "paotui/pii/v1/tenant=%d/field=%s", c.tenantID, field)
}

// Encrypt seals plaintext for field. The result is randomised: the same value encrypted twice
// gives different bytes, so ciphertexts cannot be compared; use BlindIndex for lookups.
func (c *Cipher) Encrypt(field, plaintext string) ([]byte, error) {
	ct, err := c.aead.Encrypt([]byte(plaintext), c.fieldAD(field))
	if err != nil {
		return nil, fmt.Errorf("encrypt %s: %w", field, err)
	}
	return ct, nil
}

// Decrypt opens a ciphertext sealed by Encrypt for the same tenant and field; anything else
// yields ErrDecrypt.
func (c *Cipher) Decrypt(field string, ciphertext []byte) (string, error) {
	pt, err := c.aead.Decrypt(ciphertext, c.fieldAD(field))
	if err != nil {
		// Tink's error says no more than "decryption failed"; the sentinel is what callers test.
		return "", fmt.Errorf("decrypt %s: %w", field, ErrDecrypt)
	}
	return string(pt), nil
}

// BlindIndex is the tenant's keyed HMAC-SHA256 of a normalised value for field: equal inputs
// give equal indexes within a tenant and field, and nothing comparable across tenants or
// fields. Callers must normalise first (NormalizePhone), or "+86 138..." and "138..." will
// not meet. The result carries Tink's 5-byte key-id prefix, so rotating the MAC keyset would
// require reindexing.
func (c *Cipher) BlindIndex(field, normalized string) []byte {
	// Length-prefix the field so ("ab", "c") and ("a", "bc") cannot collide.
	data := binary.AppendUvarint(nil, uint64(len(field)))
	data = append(data, field...)
	data = append(data, normalized...)
	tag, err := c.mac.ComputeMAC(data)
	if err != nil {
		// HMAC over a keyset that mac.New accepted cannot fail; returning a nil or shared
		// value instead would make unrelated rows match.
		panic(fmt.Sprintf("pii: blind index for tenant %d: %v", c.tenantID, err))
	}
	return tag
}
