package authz

import (
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/platform/tenancy"
)

// GrantTx gives the user role in tenant t. tx must be t's transaction (store.InTenant); write
// the audit entry in the same tx, and call Invalidate after it commits:
//
//	err := db.InTenant(ctx, t, func(tx *gorm.DB) error {
//		if err := az.GrantTx(tx, t, userID, authz.RoleDispatcher); err != nil {
//			return err
//		}
//		return audit.Record(tx, audit.Entry{Actor: authz.Subject(actorID), Action: "roles.grant", ...})
//	})
//	if err == nil {
//		err = az.Invalidate(ctx, t)
//	}
//
// Granting a role the user already holds does nothing. The role must be built in or a custom
// role of t (one with a p or g line in t's domain), else ErrUnknownRole. Whether the caller
// may grant it is the caller's check ("roles:manage").
func (a *Authorizer) GrantTx(tx *gorm.DB, t *tenancy.Tenant, userID, role string) error {
	if err := checkTarget(t, userID); err != nil {
		return err
	}
	domain := t.Domain()
	if !isBuiltin(role) {
		ok, err := customRoleExists(tx, role, domain)
		if err != nil {
			return fmt.Errorf("look up role %q: %w", role, err)
		}
		if !ok {
			return fmt.Errorf("%w: %q", ErrUnknownRole, role)
		}
	}
	err := tx.Exec(`INSERT INTO casbin_rules (ptype, v0, v1, v2) VALUES ('g', ?, ?, ?) ON CONFLICT DO NOTHING`,
		Subject(userID), role, domain).Error
	if err != nil {
		return fmt.Errorf("grant %q to user %s: %w", role, userID, err)
	}
	return nil
}

// RevokeTx takes role from the user in tenant t, in the caller's transaction like GrantTx
// (audit in the same tx, Invalidate after commit). Revoking a role the user does not hold
// does nothing. Revoking "owner" from the tenant's only owner fails with ErrLastOwner; only
// direct owner assignments count, not custom roles that inherit owner.
//
// The owner lines are locked (FOR UPDATE) before counting, so two owners revoking each other
// at the same time cannot both succeed: the second waits for the first and then counts one.
func (a *Authorizer) RevokeTx(tx *gorm.DB, t *tenancy.Tenant, userID, role string) error {
	if err := checkTarget(t, userID); err != nil {
		return err
	}
	domain, sub := t.Domain(), Subject(userID)
	if role == RoleOwner {
		var owners []string
		err := tx.Raw(`SELECT v0 FROM casbin_rules
			WHERE ptype = 'g' AND v1 = ? AND v2 = ? AND v3 = '' AND v4 = '' AND v5 = '' AND v0 LIKE 'user:%'
			FOR UPDATE`, RoleOwner, domain).Scan(&owners).Error
		if err != nil {
			return fmt.Errorf("lock owners: %w", err)
		}
		if len(owners) == 1 && slices.Contains(owners, sub) {
			return ErrLastOwner
		}
	}
	err := tx.Exec(`DELETE FROM casbin_rules WHERE ptype = 'g' AND v0 = ? AND v1 = ? AND v2 = ?`,
		sub, role, domain).Error
	if err != nil {
		return fmt.Errorf("revoke %q from user %s: %w", role, userID, err)
	}
	return nil
}

// customRoleExists reports whether role is defined in domain by a p line (its permissions) or
// a g line (it inherits another role).
func customRoleExists(tx *gorm.DB, role, domain string) (bool, error) {
	if role == "" || strings.HasPrefix(role, subjectPrefix) {
		return false, nil
	}
	var ok bool
	err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM casbin_rules
		WHERE v0 = ? AND ((ptype = 'p' AND v1 = ?) OR (ptype = 'g' AND v2 = ?)))`,
		role, domain, domain).Scan(&ok).Error
	return ok, err
}

func checkTarget(t *tenancy.Tenant, userID string) error {
	if t == nil {
		return errNoTenant
	}
	if userID == "" {
		return errNoUser
	}
	return nil
}
