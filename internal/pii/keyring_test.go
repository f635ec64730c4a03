package pii_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/pii"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

const (
	phoneField = "users.phone"
	phone      = "13812341234"
)

func masterKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, pii.MasterKeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func newKeyring(t *testing.T, db *gorm.DB, key []byte) *pii.Keyring {
	t.Helper()
	kr, err := pii.NewKeyring(db, key)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// newTenant registers a tenant row the way provisioning does, without the schema.
func newTenant(t *testing.T, db *store.DB, slug string) int64 {
	t.Helper()
	var id int64
	err := db.Gorm.Raw(`INSERT INTO public.tenants (slug, name, schema_name) VALUES (?, ?, ?) RETURNING id`,
		slug, slug, "tenant_"+slug).Scan(&id).Error
	if err != nil || id == 0 {
		t.Fatalf("insert tenant %s: id %d, %v", slug, id, err)
	}
	return id
}

func createKeys(t *testing.T, db *store.DB, kr *pii.Keyring, tenantID int64) {
	t.Helper()
	if err := db.Gorm.Transaction(func(tx *gorm.DB) error { return kr.CreateKeys(tx, tenantID) }); err != nil {
		t.Fatalf("CreateKeys(%d): %v", tenantID, err)
	}
}

func cipherFor(t *testing.T, kr *pii.Keyring, tenantID int64) *pii.Cipher {
	t.Helper()
	c, err := kr.For(context.Background(), tenantID)
	if err != nil {
		t.Fatalf("For(%d): %v", tenantID, err)
	}
	return c
}

func storedKeys(t *testing.T, db *store.DB, tenantID int64) (aeadKS, macKS []byte) {
	t.Helper()
	err := db.SQL.QueryRow(`SELECT aead_keyset, mac_keyset FROM public.tenant_keys WHERE tenant_id = $1`, tenantID).
		Scan(&aeadKS, &macKS)
	if err != nil {
		t.Fatal(err)
	}
	return aeadKS, macKS
}

func TestNewKeyringMasterKeyLength(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 31, 33, 64} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			_, err := pii.NewKeyring(&gorm.DB{}, make([]byte, n))
			if !errors.Is(err, pii.ErrMasterKey) {
				t.Errorf("NewKeyring with a %d-byte key: %v, want ErrMasterKey", n, err)
			}
		})
	}
}

func TestKeyring(t *testing.T) {
	t.Parallel()
	db, _ := storetest.New(t)
	ctx := context.Background()
	key := masterKey(t)
	kr := newKeyring(t, db.Gorm, key)
	a, b := newTenant(t, db, "alpha"), newTenant(t, db, "beta")
	createKeys(t, db, kr, a)
	createKeys(t, db, kr, b)
	ca, cb := cipherFor(t, kr, a), cipherFor(t, kr, b)

	t.Run("round trip", func(t *testing.T) {
		for _, v := range []string{phone, "", "欧阳娜娜", "北京市海淀区 5号楼 302"} {
			ct, err := ca.Encrypt("users.real_name", v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ca.Decrypt("users.real_name", ct)
			if err != nil || got != v {
				t.Errorf("Decrypt(Encrypt(%q)) = %q, %v", v, got, err)
			}
		}
	})

	t.Run("randomised ciphertexts", func(t *testing.T) {
		c1, _ := ca.Encrypt(phoneField, phone)
		c2, _ := ca.Encrypt(phoneField, phone)
		if bytes.Equal(c1, c2) {
			t.Error("the same phone encrypted twice gave the same ciphertext")
		}
	})

	t.Run("survives a restart", func(t *testing.T) {
		ct, _ := ca.Encrypt(phoneField, phone)
		fresh := newKeyring(t, db.Gorm, key)
		got, err := cipherFor(t, fresh, a).Decrypt(phoneField, ct)
		if err != nil || got != phone {
			t.Errorf("fresh keyring: %q, %v", got, err)
		}
	})

	t.Run("CreateKeys twice keeps the first keys", func(t *testing.T) {
		ct, _ := ca.Encrypt(phoneField, phone)
		idx := ca.BlindIndex(phoneField, phone)
		aeadBefore, macBefore := storedKeys(t, db, a)
		createKeys(t, db, kr, a)
		createKeys(t, db, newKeyring(t, db.Gorm, key), a)
		aeadAfter, macAfter := storedKeys(t, db, a)
		if !bytes.Equal(aeadBefore, aeadAfter) || !bytes.Equal(macBefore, macAfter) {
			t.Fatal("second CreateKeys replaced the stored keysets")
		}
		c := cipherFor(t, newKeyring(t, db.Gorm, key), a)
		if got, err := c.Decrypt(phoneField, ct); err != nil || got != phone {
			t.Errorf("old ciphertext after second CreateKeys: %q, %v", got, err)
		}
		if !bytes.Equal(c.BlindIndex(phoneField, phone), idx) {
			t.Error("blind index changed after second CreateKeys")
		}
	})

	t.Run("tenants are isolated", func(t *testing.T) {
		ct, _ := ca.Encrypt(phoneField, phone)
		if got, err := cb.Decrypt(phoneField, ct); !errors.Is(err, pii.ErrDecrypt) {
			t.Errorf("tenant B opened tenant A's ciphertext: %q, %v", got, err)
		}
		if bytes.Equal(ca.BlindIndex(phoneField, phone), cb.BlindIndex(phoneField, phone)) {
			t.Error("blind indexes of two tenants are equal")
		}
	})

	t.Run("blind index", func(t *testing.T) {
		idx := ca.BlindIndex(phoneField, phone)
		tests := []struct {
			name         string
			field, value string
			equal        bool
		}{
			{"same field and value", phoneField, phone, true},
			{"other value", phoneField, "13812341235", false},
			{"other field", "users.student_no", phone, false},
			{"field and value split differently", "users.phone1", phone[1:], false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if got := bytes.Equal(ca.BlindIndex(tc.field, tc.value), idx); got != tc.equal {
					t.Errorf("equal = %v, want %v", got, tc.equal)
				}
			})
		}
	})

	t.Run("ciphertexts that must not open", func(t *testing.T) {
		ct, _ := ca.Encrypt(phoneField, phone)
		flip := func(i int) []byte {
			c := bytes.Clone(ct)
			c[i] ^= 0x01
			return c
		}
		tests := []struct {
			name  string
			field string
			ct    []byte
		}{
			{"wrong field", "users.real_name", ct},
			{"flipped first byte", phoneField, flip(0)},
			{"flipped middle byte", phoneField, flip(len(ct) / 2)},
			{"flipped last byte", phoneField, flip(len(ct) - 1)},
			{"truncated", phoneField, ct[:len(ct)-1]},
			{"empty", phoneField, nil},
			{"plaintext", phoneField, []byte(phone)},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if got, err := ca.Decrypt(tc.field, tc.ct); !errors.Is(err, pii.ErrDecrypt) {
					t.Errorf("Decrypt = %q, %v; want ErrDecrypt", got, err)
				}
			})
		}
	})

	t.Run("other master key cannot unwrap", func(t *testing.T) {
		c, err := newKeyring(t, db.Gorm, masterKey(t)).For(ctx, a)
		if err == nil || c != nil || errors.Is(err, pii.ErrNoKeys) {
			t.Errorf("For with another master key = %v, %v; want an unwrap error", c, err)
		}
	})

	t.Run("no keys", func(t *testing.T) {
		bare := newTenant(t, db, "bare")
		for _, id := range []int64{bare, 987654321} {
			if c, err := kr.For(ctx, id); !errors.Is(err, pii.ErrNoKeys) || c != nil {
				t.Errorf("For(%d) = %v, %v; want ErrNoKeys", id, c, err)
			}
		}
	})

	t.Run("a keyset copied to another tenant does not unwrap", func(t *testing.T) {
		thief := newTenant(t, db, "thief")
		aeadKS, macKS := storedKeys(t, db, a)
		if err := db.Gorm.Exec(`INSERT INTO public.tenant_keys (tenant_id, aead_keyset, mac_keyset) VALUES (?, ?, ?)`,
			thief, aeadKS, macKS).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := kr.For(ctx, thief); err == nil || errors.Is(err, pii.ErrNoKeys) {
			t.Errorf("For(copied keys) = %v; want an unwrap error", err)
		}
	})

	t.Run("rolled back CreateKeys leaves no keys", func(t *testing.T) {
		id := newTenant(t, db, "rollback")
		errAbort := errors.New("abort")
		err := db.Gorm.Transaction(func(tx *gorm.DB) error {
			if err := kr.CreateKeys(tx, id); err != nil {
				return err
			}
			return errAbort
		})
		if !errors.Is(err, errAbort) {
			t.Fatal(err)
		}
		if _, err := kr.For(ctx, id); !errors.Is(err, pii.ErrNoKeys) {
			t.Errorf("For after rollback: %v, want ErrNoKeys", err)
		}
	})

	t.Run("Forget drops the cache", func(t *testing.T) {
		id := newTenant(t, db, "gone")
		createKeys(t, db, kr, id)
		cipherFor(t, kr, id)
		if err := db.Gorm.Exec(`DELETE FROM public.tenant_keys WHERE tenant_id = ?`, id).Error; err != nil {
			t.Fatal(err)
		}
		cipherFor(t, kr, id) // still cached: For does not hit the database per call
		kr.Forget(id)
		if _, err := kr.For(ctx, id); !errors.Is(err, pii.ErrNoKeys) {
			t.Errorf("For after Forget: %v, want ErrNoKeys", err)
		}
	})

	t.Run("stored rows hold no clear phone", func(t *testing.T) {
		enc, err := ca.Encrypt("tenant_provisioning.owner_phone", phone)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := ca.Encrypt("tenant_provisioning.owner_name", "欧阳娜娜")
		if err := db.Gorm.Exec(`INSERT INTO public.tenant_provisioning (tenant_id, owner_phone_enc, owner_name_enc) VALUES (?, ?, ?)`,
			a, enc, name).Error; err != nil {
			t.Fatal(err)
		}
		var row []byte
		if err := db.SQL.QueryRow(`SELECT convert_to(p::text, 'UTF8') || coalesce(p.owner_phone_enc, '') || coalesce(p.owner_name_enc, '')
			FROM public.tenant_provisioning p WHERE tenant_id = $1`, a).Scan(&row); err != nil {
			t.Fatal(err)
		}
		aeadKS, macKS := storedKeys(t, db, a)
		for what, b := range map[string][]byte{"provisioning row": row, "aead keyset": aeadKS, "mac keyset": macKS} {
			for _, clear := range [][]byte{[]byte(phone), []byte(phone[3:]), []byte("欧阳娜娜")} {
				if bytes.Contains(b, clear) {
					t.Errorf("%s contains %q in clear", what, clear)
				}
			}
		}
		if bytes.Contains(aeadKS, key) || bytes.Contains(macKS, key) {
			t.Error("a stored keyset contains the master key")
		}
		var opened []byte
		if err := db.SQL.QueryRow(`SELECT owner_phone_enc FROM public.tenant_provisioning WHERE tenant_id = $1`, a).Scan(&opened); err != nil {
			t.Fatal(err)
		}
		if got, err := ca.Decrypt("tenant_provisioning.owner_phone", opened); err != nil || got != phone {
			t.Errorf("stored phone opens to %q, %v", got, err)
		}
	})
}

func TestKeyringConcurrentFor(t *testing.T) {
	t.Parallel()
	db, _ := storetest.New(t)
	key := masterKey(t)
	id := newTenant(t, db, "busy")
	createKeys(t, db, newKeyring(t, db.Gorm, key), id)
	kr := newKeyring(t, db.Gorm, key)

	const n = 16
	ciphers := make([]*pii.Cipher, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := kr.For(context.Background(), id)
			if err != nil {
				t.Error(err)
				return
			}
			ct, err := c.Encrypt(phoneField, phone)
			if err != nil {
				t.Error(err)
				return
			}
			if got, err := c.Decrypt(phoneField, ct); err != nil || got != phone {
				t.Errorf("goroutine %d: %q, %v", i, got, err)
			}
			ciphers[i] = c
		})
	}
	wg.Wait()
	for i, c := range ciphers {
		if c != ciphers[0] {
			t.Fatalf("goroutine %d got a different Cipher; the cache should hand out one per tenant", i)
		}
	}
}
