package pii

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/aead/subtle"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"
	"github.com/tink-crypto/tink-go/v2/tink"
	"gorm.io/gorm"
)

// MasterKeySize is the length of the key-encryption key: AES-256-GCM.
const MasterKeySize = 32

// ErrNoKeys is returned by For when the tenant has no keysets (not provisioned yet, or deleted).
var ErrNoKeys = errors.New("tenant has no encryption keys")

// ErrMasterKey is returned by NewKeyring for a master key of the wrong length.
var ErrMasterKey = errors.New("master key must be 32 bytes")

// Keyring creates, stores (wrapped by the master key) and caches each tenant's keysets. It is
// safe for concurrent use; one Keyring per process.
type Keyring struct {
	db     *gorm.DB
	master tink.AEAD
	cache  sync.Map // tenant id (int64) -> *Cipher
}

// NewKeyring reads and writes public.tenant_keys through db. masterKey must be exactly 32 bytes;
// it is copied, so the caller may wipe its slice afterwards.
func NewKeyring(db *gorm.DB, masterKey []byte) (*Keyring, error) {
	if db == nil {
		return nil, errors.New("pii: nil database")
	}
	if len(masterKey) != MasterKeySize {
		return nil, fmt.Errorf("%w, got %d", ErrMasterKey, len(masterKey))
	}
	// subtle.NewAESGCM would also take a 16-byte key; the length check above keeps the
	// master key at 256 bits.
	master, err := subtle.NewAESGCM(bytes.Clone(masterKey))
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return &Keyring{db: db, master: master}, nil
}

// Purposes of the two keysets; each is part of the associated data its wrapping is bound to.
const (
	purposeAEAD = "aead"
	purposeMAC  = "mac"
)

// wrapAD binds a wrapped keyset to its tenant and purpose, so a row copied to another tenant,
// or the MAC keyset swapped into the AEAD column, fails to unwrap instead of being used.
func wrapAD(tenantID int64, purpose string) []byte {
	return fmt.Appendf(nil, "paotui/tenant_keys/v1/tenant=%d/%s", tenantID, purpose)
}

// CreateKeys generates a fresh AES256_GCM keyset and an HMAC_SHA256 keyset for tenantID,
// wraps both with the master key and inserts them through tx, the caller's transaction (in
// which the tenants row exists). It is idempotent: when the tenant already has keys it leaves
// them untouched and returns nil, so a retried provisioning step never orphans ciphertexts
// sealed under the first keys.
func (k *Keyring) CreateKeys(tx *gorm.DB, tenantID int64) error {
	aeadKS, err := k.newWrapped(tenantID, purposeAEAD)
	if err != nil {
		return err
	}
	macKS, err := k.newWrapped(tenantID, purposeMAC)
	if err != nil {
		return err
	}
	err = tx.Exec(`INSERT INTO public.tenant_keys (tenant_id, aead_keyset, mac_keyset)
		VALUES (?, ?, ?) ON CONFLICT (tenant_id) DO NOTHING`, tenantID, aeadKS, macKS).Error
	if err != nil {
		return fmt.Errorf("store keys of tenant %d: %w", tenantID, err)
	}
	return nil
}

func (k *Keyring) newWrapped(tenantID int64, purpose string) ([]byte, error) {
	tmpl := aead.AES256GCMKeyTemplate()
	if purpose == purposeMAC {
		tmpl = mac.HMACSHA256Tag256KeyTemplate()
	}
	h, err := keyset.NewHandle(tmpl)
	if err != nil {
		return nil, fmt.Errorf("new %s keyset: %w", purpose, err)
	}
	var buf bytes.Buffer
	if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&buf), k.master, wrapAD(tenantID, purpose)); err != nil {
		return nil, fmt.Errorf("wrap %s keyset: %w", purpose, err)
	}
	return buf.Bytes(), nil
}

// For returns the tenant's Cipher. Keysets are unwrapped once and cached for the life of the
// process; call Forget when a tenant is deleted. It returns ErrNoKeys when the tenant has none,
// and an error (never a Cipher) when the stored keysets do not unwrap under this master key.
func (k *Keyring) For(ctx context.Context, tenantID int64) (*Cipher, error) {
	if c, ok := k.cache.Load(tenantID); ok {
		return c.(*Cipher), nil
	}
	var aeadKS, macKS []byte
	err := k.db.WithContext(ctx).
		Raw(`SELECT aead_keyset, mac_keyset FROM public.tenant_keys WHERE tenant_id = ?`, tenantID).
		Row().Scan(&aeadKS, &macKS)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("tenant %d: %w", tenantID, ErrNoKeys)
	}
	if err != nil {
		return nil, fmt.Errorf("load keys of tenant %d: %w", tenantID, err)
	}
	ah, err := k.unwrap(aeadKS, tenantID, purposeAEAD)
	if err != nil {
		return nil, err
	}
	mh, err := k.unwrap(macKS, tenantID, purposeMAC)
	if err != nil {
		return nil, err
	}
	a, err := aead.New(ah)
	if err != nil {
		return nil, fmt.Errorf("tenant %d aead primitive: %w", tenantID, err)
	}
	m, err := mac.New(mh)
	if err != nil {
		return nil, fmt.Errorf("tenant %d mac primitive: %w", tenantID, err)
	}
	// Two goroutines may unwrap the same tenant at once; both results are equivalent and
	// LoadOrStore makes every caller share the first.
	c, _ := k.cache.LoadOrStore(tenantID, &Cipher{tenantID: tenantID, aead: a, mac: m})
	return c.(*Cipher), nil
}

func (k *Keyring) unwrap(wrapped []byte, tenantID int64, purpose string) (*keyset.Handle, error) {
	h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(wrapped)), k.master, wrapAD(tenantID, purpose))
	if err != nil {
		return nil, fmt.Errorf("unwrap %s keyset of tenant %d (wrong master key?): %w", purpose, tenantID, err)
	}
	return h, nil
}

// Forget drops a tenant's Cipher from the cache, after its keys are deleted.
func (k *Keyring) Forget(tenantID int64) { k.cache.Delete(tenantID) }
