package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// refreshTable is one of the two refresh token tables: the tenant's refresh_tokens (resolved
// through the tenant transaction's search_path) or public.platform_refresh_tokens. Table and
// column names are constants from this file, never input.
type refreshTable struct {
	table    string
	owner    string // column holding the user or admin id
	audience string // stored in the tenant table; "" for the platform table, which has none
}

func tenantRefresh(tenantID int64) refreshTable {
	return refreshTable{table: "refresh_tokens", owner: "user_id", audience: tenantAudience(tenantID)}
}

var platformRefresh = refreshTable{table: "public.platform_refresh_tokens", owner: "admin_id"}

// refreshRow is a stored refresh token.
type refreshRow struct {
	ID        string
	OwnerID   string
	FamilyID  string
	ExpiresAt time.Time
	RotatedAt *time.Time
	RevokedAt *time.Time
}

// newRefreshToken returns a token for the client and the hash to store. Only the hash is
// stored, so a leaked table cannot be replayed.
func newRefreshToken() (token string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashRefresh(token)
}

func hashRefresh(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// issue stores a new token of family for owner, valid for ttl from now.
func (r refreshTable) issue(tx *gorm.DB, ownerID, familyID string, now time.Time, ttl time.Duration) (string, time.Time, error) {
	token, hash := newRefreshToken()
	exp := now.Add(ttl)
	row := map[string]any{
		"id": uuid.NewString(), r.owner: ownerID, "family_id": familyID,
		"token_hash": hash, "expires_at": exp, "created_at": now,
	}
	if r.audience != "" {
		row["audience"] = r.audience
	}
	if err := tx.Table(r.table).Create(row).Error; err != nil {
		return "", time.Time{}, fmt.Errorf("store refresh token: %w", err)
	}
	return token, exp, nil
}

// lock finds token's row and locks it until the transaction ends, so two uses of the same
// token are serialised and the second one sees it rotated. Unknown tokens give
// ErrRefreshInvalid.
func (r refreshTable) lock(tx *gorm.DB, token string) (*refreshRow, error) {
	var row refreshRow
	q := tx.Table(r.table).
		Select("id, "+r.owner+" AS owner_id, family_id, expires_at, rotated_at, revoked_at").
		Where("token_hash = ?", hashRefresh(token))
	if r.audience != "" {
		q = q.Where("audience = ?", r.audience)
	}
	err := q.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrRefreshInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("find refresh token: %w", err)
	}
	return &row, nil
}

// refreshOutcome is what presenting a token means.
type refreshOutcome int

const (
	refreshUsable refreshOutcome = iota
	refreshDead                  // revoked or expired: refuse, change nothing
	refreshReplay                // already rotated: someone kept a copy; revoke the family
)

func (row *refreshRow) outcome(now time.Time) refreshOutcome {
	switch {
	case row.RevokedAt != nil:
		return refreshDead
	case row.RotatedAt != nil:
		return refreshReplay
	case !now.Before(row.ExpiresAt):
		return refreshDead
	}
	return refreshUsable
}

// rotate marks row used and issues its successor in the same family.
func (r refreshTable) rotate(tx *gorm.DB, row *refreshRow, now time.Time, ttl time.Duration) (string, time.Time, error) {
	if err := tx.Table(r.table).Where("id = ?", row.ID).Update("rotated_at", now).Error; err != nil {
		return "", time.Time{}, fmt.Errorf("rotate refresh token: %w", err)
	}
	return r.issue(tx, row.OwnerID, row.FamilyID, now, ttl)
}

// revokeFamily ends every token of a login: the one presented and all its successors.
func (r refreshTable) revokeFamily(tx *gorm.DB, familyID string, now time.Time) error {
	err := tx.Table(r.table).Where("family_id = ? AND revoked_at IS NULL", familyID).Update("revoked_at", now).Error
	if err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	return nil
}

// revokeOwner ends every session of a user or admin.
func (r refreshTable) revokeOwner(tx *gorm.DB, ownerID string, now time.Time) error {
	err := tx.Table(r.table).Where(r.owner+" = ? AND revoked_at IS NULL", ownerID).Update("revoked_at", now).Error
	if err != nil {
		return fmt.Errorf("revoke refresh tokens: %w", err)
	}
	return nil
}

// newFamily starts the refresh family of a new login.
func newFamily() string { return uuid.NewString() }
