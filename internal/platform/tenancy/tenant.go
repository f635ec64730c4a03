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

// Tenant is one campus team's deployment: a registry row in public.tenants whose data lives in
// its own schema.
type Tenant struct {
	ID           int64     `gorm:"primaryKey" json:"id"`
	Slug         string    `json:"slug"`
	Name         string    `json:"name"`
	Schema       string    `gorm:"column:schema_name" json:"-"`
	Status       Status    `json:"status"`
	StatusReason string    `json:"statusReason,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
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
