package tenancy

import (
	"context"
	"strconv"
	"time"
)

// Status is where a tenant is in its life.
type Status string

const (
	StatusProvisioning Status = "provisioning"
	StatusActive       Status = "active"
	StatusSuspended    Status = "suspended"
	StatusDeleted      Status = "deleted"
)

// Hold is who suspended a tenant, which decides who may lift the suspension: billing lifts
// only its own hold (a paid invoice must not undo a platform admin's suspension), a platform
// admin lifts any (resuming a tenant held for deletion cancels the deletion).
type Hold string

const (
	HoldNone     Hold = ""
	HoldBilling  Hold = "billing"  // unpaid past the grace period, canceled, or checkout not completed
	HoldPlatform Hold = "platform" // a platform admin or operator suspended it
	HoldDeletion Hold = "deletion" // deletion requested; the schema is dropped after the grace period
)

// holdRank orders holds: a stronger hold replaces a weaker one, never the reverse.
var holdRank = map[Hold]int{HoldBilling: 1, HoldPlatform: 2, HoldDeletion: 3}

// Tenant is one campus team's deployment: a registry row in public.tenants whose data lives in
// its own schema.
type Tenant struct {
	ID           int64      `gorm:"primaryKey" json:"id"`
	Slug         string     `json:"slug"`
	Name         string     `json:"name"`
	Schema       string     `gorm:"column:schema_name" json:"-"`
	Status       Status     `json:"status"`
	StatusReason string     `json:"statusReason,omitempty"`
	Hold         Hold       `json:"hold,omitempty"`
	DeleteAfter  *time.Time `json:"deleteAfter,omitempty"`
	CreatedAt    time.Time  `json:"createdAt"`
	UpdatedAt    time.Time  `json:"updatedAt"`
}

// TableName is schema-qualified: control-plane tables never resolve through a tenant's
// search_path.
func (Tenant) TableName() string { return "public.tenants" }

// SchemaName makes a Tenant a store.Scope.
func (t *Tenant) SchemaName() string { return t.Schema }

// Domain is the tenant's Casbin domain.
func (t *Tenant) Domain() string { return "t:" + strconv.FormatInt(t.ID, 10) }

// SchemaFor is the schema name of the tenant with registry id id.
func SchemaFor(id int64) string { return "tenant_" + strconv.FormatInt(id, 10) }

type ctxKey struct{}

// WithTenant returns ctx carrying t.
func WithTenant(ctx context.Context, t *Tenant) context.Context {
	return context.WithValue(ctx, ctxKey{}, t)
}

// From returns the tenant of ctx, if any.
func From(ctx context.Context) (*Tenant, bool) {
	t, ok := ctx.Value(ctxKey{}).(*Tenant)
	return t, ok && t != nil
}
