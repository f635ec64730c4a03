package identity

import (
	"context"
	"errors"
	"sort"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/pii"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// errRoleNotGrantable: students sign up themselves and couriers are approved, never granted.
var errRoleNotGrantable = errors.New("student and courier roles are not granted by staff; students sign up, couriers apply")

// UserFilter narrows ListUsers.
type UserFilter struct {
	Phone  string // exact match through the blind index; "" = any
	Status Status
	Limit  int
	Offset int
}

// ListUsers returns users newest first with the total matching. Personal data is decrypted;
// callers mask it unless the viewer may see it.
func (s *Service) ListUsers(ctx context.Context, t *tenancy.Tenant, f UserFilter) ([]User, int64, error) {
	c, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, 0, err
	}
	var rows []userRow
	var total int64
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		q := tx.Model(&userRow{})
		if f.Phone != "" {
			phone, err := pii.NormalizePhone(f.Phone)
			if err != nil {
				return ErrInvalidPhone
			}
			q = q.Where("phone_bidx = ?", c.BlindIndex(fieldPhone, phone))
		}
		if f.Status != "" {
			q = q.Where("status = ?", f.Status)
		}
		if err := q.Count(&total).Error; err != nil {
			return err
		}
		return q.Order("created_at DESC, id").Limit(f.Limit).Offset(f.Offset).Find(&rows).Error
	})
	if err != nil {
		return nil, 0, err
	}
	out := make([]User, 0, len(rows))
	for i := range rows {
		u, err := rows[i].view(c)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *u)
	}
	return out, total, nil
}

// RevealUser returns a user's personal data in clear and writes the audit entry e (its
// target set to the user) in the same transaction that reads the row, so a reveal is never
// unrecorded.
func (s *Service) RevealUser(ctx context.Context, t *tenancy.Tenant, id string, e audit.Entry) (*User, error) {
	c, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	var row *userRow
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var err error
		if row, err = findUser(tx, id, nil, false); err != nil {
			return err
		}
		e.Target = "user:" + row.ID
		return audit.Record(tx, e)
	})
	if err != nil {
		return nil, err
	}
	return row.view(c)
}

func sortRows(rows []UserRow) {
	sort.Slice(rows, func(i, j int) bool { return rows[i].CreatedAt.Before(rows[j].CreatedAt) })
}
