package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/paotui/paotui/internal/pii"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Status is whether a user may sign in.
type Status string

const (
	StatusActive   Status = "active"
	StatusDisabled Status = "disabled"
)

// MaxNameLength is the longest name accepted, in characters.
const MaxNameLength = 64

// Personal-data field names: part of every ciphertext and blind index, never to change.
const (
	fieldPhone = "users.phone"
	fieldName  = "users.name"
)

// User is a tenant user with personal data decrypted. Phone is in clear: callers show it only
// to the user themself or to staff allowed pii:read (and audit that read); others get
// pii.MaskPhone(u.Phone).
type User struct {
	ID          string     `json:"id"`
	Phone       string     `json:"phone"`
	Name        string     `json:"name"`
	Status      Status     `json:"status"`
	HasPassword bool       `json:"hasPassword"`
	CreatedAt   time.Time  `json:"createdAt"`
	LastLoginAt *time.Time `json:"lastLoginAt,omitempty"`
}

// userRow is a row of the tenant's users table, as stored: ciphertexts and a blind index.
type userRow struct {
	ID           string
	PhoneEnc     []byte
	PhoneBidx    []byte
	NameEnc      []byte
	PasswordHash *string
	Status       Status
	CreatedAt    time.Time
	UpdatedAt    time.Time
	LastLoginAt  *time.Time
}

func (userRow) TableName() string { return "users" }

func (r *userRow) passwordHash() string {
	if r.PasswordHash == nil {
		return ""
	}
	return *r.PasswordHash
}

func (r *userRow) view(c *pii.Cipher) (*User, error) {
	phone, err := c.Decrypt(fieldPhone, r.PhoneEnc)
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", r.ID, err)
	}
	var name string
	if len(r.NameEnc) > 0 {
		if name, err = c.Decrypt(fieldName, r.NameEnc); err != nil {
			return nil, fmt.Errorf("user %s: %w", r.ID, err)
		}
	}
	return &User{
		ID: r.ID, Phone: phone, Name: name, Status: r.Status, HasPassword: r.passwordHash() != "",
		CreatedAt: r.CreatedAt, LastLoginAt: r.LastLoginAt,
	}, nil
}

// findUser loads a user by id, or by blind index when id is "". forUpdate locks the row for
// the rest of the transaction. A missing user is ErrUserNotFound.
func findUser(tx *gorm.DB, id string, bidx []byte, forUpdate bool) (*userRow, error) {
	q := tx.Model(&userRow{})
	if id != "" {
		if _, err := uuid.Parse(id); err != nil {
			return nil, ErrUserNotFound
		}
		q = q.Where("id = ?", id)
	} else {
		q = q.Where("phone_bidx = ?", bidx)
	}
	if forUpdate {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var r userRow
	err := q.Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrUserNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return &r, nil
}

// cleanName trims a display name and checks it.
func cleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxNameLength ||
		strings.ContainsFunc(name, unicode.IsControl) {
		return "", ErrInvalidName
	}
	return name, nil
}

// FindOrCreateUser returns the user with phone, creating an active user without password or
// roles when there is none (created reports which). name is stored only on creation. It runs
// inside the caller's tenant transaction tx (store.InTenant for t), so provisioning can create
// the owner and grant roles atomically; the caller grants roles. Safe against a concurrent
// creation of the same phone: the loser of the race gets the winner's user.
func (s *Service) FindOrCreateUser(ctx context.Context, tx *gorm.DB, t *tenancy.Tenant, phone, name string) (u *User, created bool, err error) {
	p, err := pii.NormalizePhone(phone)
	if err != nil {
		return nil, false, err
	}
	if name, err = cleanName(name); err != nil {
		return nil, false, err
	}
	c, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, false, fmt.Errorf("keys of tenant %d: %w", t.ID, err)
	}
	bidx := c.BlindIndex(fieldPhone, p)
	row, err := findUser(tx, "", bidx, false)
	if err == nil {
		u, err := row.view(c)
		return u, false, err
	}
	if !errors.Is(err, ErrUserNotFound) {
		return nil, false, err
	}
	phoneEnc, err := c.Encrypt(fieldPhone, p)
	if err != nil {
		return nil, false, err
	}
	var nameEnc []byte
	if name != "" {
		if nameEnc, err = c.Encrypt(fieldName, name); err != nil {
			return nil, false, err
		}
	}
	now := s.now()
	res := tx.Exec(`INSERT INTO users (id, phone_enc, phone_bidx, name_enc, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (phone_bidx) DO NOTHING`,
		uuid.NewString(), phoneEnc, bidx, nameEnc, StatusActive, now, now)
	if res.Error != nil {
		return nil, false, fmt.Errorf("create user: %w", res.Error)
	}
	// Zero rows: a concurrent transaction created the phone first and has committed (the
	// INSERT waited for it); this statement's successor sees its row.
	if row, err = findUser(tx, "", bidx, false); err != nil {
		return nil, false, err
	}
	u, err = row.view(c)
	return u, res.RowsAffected == 1, err
}

// User returns the user with id, decrypted; ErrUserNotFound when there is none.
func (s *Service) User(ctx context.Context, t *tenancy.Tenant, id string) (*User, error) {
	c, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, fmt.Errorf("keys of tenant %d: %w", t.ID, err)
	}
	var row *userRow
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		row, err = findUser(tx, id, nil, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return row.view(c)
}

// SetName sets the user's display name; "" clears it.
func (s *Service) SetName(ctx context.Context, t *tenancy.Tenant, userID, name string) error {
	name, err := cleanName(name)
	if err != nil {
		return err
	}
	var enc []byte
	if name != "" {
		c, err := s.keys.For(ctx, t.ID)
		if err != nil {
			return fmt.Errorf("keys of tenant %d: %w", t.ID, err)
		}
		if enc, err = c.Encrypt(fieldName, name); err != nil {
			return err
		}
	}
	return s.updateUser(ctx, t, userID, map[string]any{"name_enc": enc})
}

// SetPassword sets or replaces the user's password (at least MinPasswordLength characters),
// which lets them use LoginWithPassword. Existing sessions stay signed in.
func (s *Service) SetPassword(ctx context.Context, t *tenancy.Tenant, userID, password string) error {
	// Hash before opening the transaction: argon2id takes tens of milliseconds, which should
	// not hold a pooled connection.
	h, err := hashPassword(password)
	if err != nil {
		return err
	}
	return s.updateUser(ctx, t, userID, map[string]any{"password_hash": h})
}

// SetStatus enables or disables a user. Disabling also revokes every refresh token, so the
// user is out once their access token expires (at most cfg.AccessTTL).
func (s *Service) SetStatus(ctx context.Context, t *tenancy.Tenant, userID string, status Status) error {
	if status != StatusActive && status != StatusDisabled {
		return fmt.Errorf("identity: unknown user status %q", status)
	}
	return s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		if err := updateUser(tx, userID, map[string]any{"status": status}, s.now()); err != nil {
			return err
		}
		if status == StatusDisabled {
			return tenantRefresh(t.ID).revokeOwner(tx, userID, s.now())
		}
		return nil
	})
}

func (s *Service) updateUser(ctx context.Context, t *tenancy.Tenant, userID string, set map[string]any) error {
	return s.db.InTenant(ctx, t, func(tx *gorm.DB) error { return updateUser(tx, userID, set, s.now()) })
}

func updateUser(tx *gorm.DB, userID string, set map[string]any, now time.Time) error {
	if _, err := uuid.Parse(userID); err != nil {
		return ErrUserNotFound
	}
	set["updated_at"] = now
	res := tx.Model(&userRow{}).Where("id = ?", userID).Updates(set)
	if res.Error != nil {
		return fmt.Errorf("update user %s: %w", userID, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrUserNotFound
	}
	return nil
}
