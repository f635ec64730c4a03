package authz

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
)

// templateDomain is the domain of the built-in role templates; the model's keyMatch makes it
// match every tenant.
const templateDomain = "*"

// tenantAdapter is the persist.Adapter of one tenant's enforcer: the built-in templates plus
// the tenant's casbin_rules rows, read through store.InTenant (gorm-adapter cannot address a
// schema-qualified table). It only loads; role changes go through GrantTx and RevokeTx, and
// the enforcer is replaced rather than edited, so the write methods refuse.
type tenantAdapter struct {
	ctx     context.Context
	db      *store.DB
	tenant  *tenancy.Tenant
	builtin [][]string
	log     *slog.Logger
}

var errReadOnly = errors.New("authz: the policy adapter is read-only; change roles with GrantTx and RevokeTx")

// LoadPolicy implements persist.Adapter. Tenant rows that break the rules in ruleRow.rule are
// skipped with a warning rather than failing the load: one bad row must not lock a whole
// tenant out, and skipping only ever removes rights.
func (ad *tenantAdapter) LoadPolicy(m model.Model) error {
	for _, rule := range ad.builtin {
		if err := persist.LoadPolicyArray(rule, m); err != nil {
			return fmt.Errorf("built-in rule %v: %w", rule, err)
		}
	}
	var rows []ruleRow
	err := ad.db.InTenant(ad.ctx, ad.tenant, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT id, ptype, v0, v1, v2, v3, v4, v5 FROM casbin_rules ORDER BY id`).Scan(&rows).Error
	})
	if err != nil {
		return fmt.Errorf("read casbin_rules: %w", err)
	}
	domain := ad.tenant.Domain()
	for _, r := range rows {
		rule, err := r.rule(domain)
		if err != nil {
			ad.log.Warn("authz: ignoring tenant policy row", "tenant", ad.tenant.ID, "id", r.ID, "reason", err.Error())
			continue
		}
		if err := persist.LoadPolicyArray(rule, m); err != nil {
			return fmt.Errorf("casbin_rules row %d: %w", r.ID, err)
		}
	}
	return nil
}

// SavePolicy implements persist.Adapter; it always fails.
func (ad *tenantAdapter) SavePolicy(model.Model) error { return errReadOnly }

// AddPolicy implements persist.Adapter; it always fails.
func (ad *tenantAdapter) AddPolicy(string, string, []string) error { return errReadOnly }

// RemovePolicy implements persist.Adapter; it always fails.
func (ad *tenantAdapter) RemovePolicy(string, string, []string) error { return errReadOnly }

// RemoveFilteredPolicy implements persist.Adapter; it always fails.
func (ad *tenantAdapter) RemoveFilteredPolicy(string, string, int, ...string) error {
	return errReadOnly
}

// ruleRow is a casbin_rules row.
type ruleRow struct {
	ID                     int64
	Ptype                  string
	V0, V1, V2, V3, V4, V5 string
}

// rule turns the row into a Casbin rule (led by its ptype) if a tenant may hold it:
//   - p lines define custom roles: "p, <role>, <the tenant's domain>, <resource>, <action>".
//     The role may not be built in (a built-in role means the same in every tenant, so the
//     UI, docs and support can rely on it) nor a user (no per-user permission rules: they
//     would make rule counts grow with users and bypass roles).
//   - g lines assign a role to a user, or make a custom role inherit another role:
//     "g, user:<id> | <custom role>, <role>, <the tenant's domain>". A built-in role may not
//     inherit, for the same reason as above.
//
// Any other domain, including "*", is refused: a tenant's rows must never reach past it.
func (r ruleRow) rule(domain string) ([]string, error) {
	switch r.Ptype {
	case "p":
		switch {
		case r.V4 != "" || r.V5 != "":
			return nil, errors.New("p line has more than 4 fields")
		case r.V1 != domain:
			return nil, fmt.Errorf("p line for domain %q", r.V1)
		case r.V0 == "" || r.V2 == "" || r.V3 == "":
			return nil, errors.New("p line with an empty field")
		case strings.HasPrefix(r.V0, subjectPrefix):
			return nil, errors.New("per-user permission rule")
		case isBuiltin(r.V0):
			return nil, fmt.Errorf("p line redefines built-in role %q", r.V0)
		}
		return []string{"p", r.V0, r.V1, r.V2, r.V3}, nil
	case "g":
		switch {
		case r.V3 != "" || r.V4 != "" || r.V5 != "":
			return nil, errors.New("g line has more than 3 fields")
		case r.V2 != domain:
			return nil, fmt.Errorf("g line for domain %q", r.V2)
		case r.V0 == "" || r.V1 == "":
			return nil, errors.New("g line with an empty field")
		case strings.HasPrefix(r.V1, subjectPrefix):
			return nil, errors.New("g line inherits from a user")
		case isBuiltin(r.V0):
			return nil, fmt.Errorf("g line makes built-in role %q inherit", r.V0)
		}
		return []string{"g", r.V0, r.V1, r.V2}, nil
	default:
		return nil, fmt.Errorf("unknown ptype %q", r.Ptype)
	}
}

// parseBuiltin reads policy.csv: p lines of built-in roles in the template domain, and g lines
// making one built-in role inherit another there. Anything else is an error, so BuiltinRoles
// and the file cannot drift apart unnoticed.
func parseBuiltin(text string) ([][]string, error) {
	var rules [][]string
	defined := map[string]bool{}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := csv.NewReader(strings.NewReader(line))
		r.TrimLeadingSpace = true
		rule, err := r.Read()
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		for i := range rule {
			rule[i] = strings.TrimSpace(rule[i])
		}
		switch {
		case rule[0] == "p" && len(rule) == 5:
			if !isBuiltin(rule[1]) {
				return nil, fmt.Errorf("line %d: %q is not a built-in role", n+1, rule[1])
			}
			if rule[2] != templateDomain || rule[3] == "" || rule[4] == "" {
				return nil, fmt.Errorf("line %d: want p, <role>, %s, <resource>, <action>", n+1, templateDomain)
			}
			defined[rule[1]] = true
		case rule[0] == "g" && len(rule) == 4:
			if !isBuiltin(rule[1]) || !isBuiltin(rule[2]) || rule[3] != templateDomain {
				return nil, fmt.Errorf("line %d: want g, <built-in role>, <built-in role>, %s", n+1, templateDomain)
			}
		default:
			return nil, fmt.Errorf("line %d: not a p line of 5 or a g line of 4 fields", n+1)
		}
		rules = append(rules, rule)
	}
	for _, role := range BuiltinRoles() {
		if !defined[role] {
			return nil, fmt.Errorf("built-in role %q has no permissions", role)
		}
	}
	return rules, nil
}
