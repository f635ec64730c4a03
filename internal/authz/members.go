package authz

import (
	"context"
	"strings"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Members maps each user of t with a role to their roles, limited to roles when not empty.
// It reads the tenant's own rule lines directly (one query), for directories and staff lists.
func (a *Authorizer) Members(ctx context.Context, t *tenancy.Tenant, roles []string) (map[string][]string, error) {
	type line struct{ V0, V1 string }
	var lines []line
	err := a.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		q := tx.Table("casbin_rules").Select("v0, v1").
			Where("ptype = 'g' AND v2 = ? AND v0 LIKE ?", t.Domain(), subjectPrefix+"%").Order("v0, v1")
		if len(roles) > 0 {
			q = q.Where("v1 IN ?", roles)
		}
		return q.Scan(&lines).Error
	})
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, l := range lines {
		id := strings.TrimPrefix(l.V0, subjectPrefix)
		out[id] = append(out[id], l.V1)
	}
	return out, nil
}
