package tenancy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

var (
	// ErrNotFound is returned when no tenant matches.
	ErrNotFound = errors.New("tenant not found")
	// ErrSlugTaken is returned when another tenant already has the slug.
	ErrSlugTaken = errors.New("subdomain is already taken")
	// ErrBadTransition is returned for a status change the lifecycle does not allow.
	ErrBadTransition = errors.New("tenant status change not allowed")
	// ErrNameInvalid is returned for an empty or overlong display name.
	ErrNameInvalid = errors.New("team name must be 1-100 characters")
)

// Registry is the control-plane table of tenants. It works on the *gorm.DB it is given,
// which is the pool or the caller's transaction.
type Registry struct {
	db       *gorm.DB
	reserved []string
}

// NewRegistry uses db (control plane) and refuses extraReserved slugs too.
func NewRegistry(db *gorm.DB, extraReserved []string) *Registry {
	return &Registry{db: db, reserved: extraReserved}
}

// DB is the registry's handle (for callers composing a transaction).
func (r *Registry) DB() *gorm.DB { return r.db }

// Reserved is the extra reserved list.
func (r *Registry) Reserved() []string { return r.reserved }

// Insert registers a tenant in status provisioning inside tx, deriving its schema name from
// its registry id. It returns ErrSlugTaken when the slug exists.
func (r *Registry) Insert(tx *gorm.DB, slug, name string) (*Tenant, error) {
	if err := ValidateSlug(slug, r.reserved); err != nil {
		return nil, err
	}
	if n := len([]rune(name)); n < 1 || n > 100 {
		return nil, ErrNameInvalid
	}
	var id int64
	if err := tx.Raw(`SELECT nextval('public.tenants_id_seq')`).Scan(&id).Error; err != nil {
		return nil, err
	}
	t := &Tenant{ID: id, Slug: slug, Name: name, Schema: SchemaFor(id), Status: StatusProvisioning}
	res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "slug"}}, DoNothing: true}).Create(t)
	if res.Error != nil {
		return nil, fmt.Errorf("insert tenant: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, ErrSlugTaken
	}
	return t, nil
}

// BySlug returns the tenant with slug (any status).
func (r *Registry) BySlug(ctx context.Context, slug string) (*Tenant, error) {
	return r.first(r.db.WithContext(ctx).Where("slug = ?", slug))
}

// ByID returns the tenant with id (any status).
func (r *Registry) ByID(ctx context.Context, id int64) (*Tenant, error) {
	return r.first(r.db.WithContext(ctx).Where("id = ?", id))
}

// ByDomain returns the tenant owning a verified custom domain.
func (r *Registry) ByDomain(ctx context.Context, domain string) (*Tenant, error) {
	return r.first(r.db.WithContext(ctx).
		Where("id = (SELECT tenant_id FROM public.tenant_domains WHERE domain = ? AND verified_at IS NOT NULL)", domain))
}

// ByIDTx reads tenant id inside tx.
func (r *Registry) ByIDTx(tx *gorm.DB, id int64) (*Tenant, error) {
	return r.first(tx.Where("id = ?", id))
}

func (r *Registry) first(q *gorm.DB) (*Tenant, error) {
	var t Tenant
	err := q.Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// ListFilter narrows List.
type ListFilter struct {
	Status Status
	Query  string // substring of slug or name
	Limit  int
	Offset int
}

// List returns tenants by id, filtered and paginated, with the total count.
func (r *Registry) List(ctx context.Context, f ListFilter) ([]Tenant, int64, error) {
	q := r.db.WithContext(ctx).Model(&Tenant{})
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Query != "" {
		like := "%" + escapeLike(f.Query) + "%"
		q = q.Where("slug ILIKE ? OR name ILIKE ?", like, like)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	var out []Tenant
	err := q.Order("id").Limit(f.Limit).Offset(f.Offset).Find(&out).Error
	return out, total, err
}

// Schemas returns the schema of every tenant that has (or is getting) one.
func (r *Registry) Schemas(ctx context.Context) ([]string, error) {
	var out []string
	err := r.db.WithContext(ctx).Model(&Tenant{}).Where("status <> ?", StatusDeleted).Order("id").Pluck("schema_name", &out).Error
	return out, err
}

// allowed lists the lifecycle: provisioning -> active <-> suspended, any -> deleted.
var allowed = map[Status][]Status{
	// provisioning -> suspended: provisioned, but held until its subscription's checkout completes.
	StatusProvisioning: {StatusActive, StatusSuspended, StatusDeleted},
	StatusActive:       {StatusSuspended, StatusDeleted},
	StatusSuspended:    {StatusActive, StatusDeleted},
}

// SetStatus moves a tenant along its lifecycle inside tx; the same status again is a no-op.
// Suspending this way is a platform hold and resuming lifts any hold (see Hold and Release for
// the other holders). It returns the tenant as updated.
func (r *Registry) SetStatus(tx *gorm.DB, id int64, to Status, reason string) (*Tenant, error) {
	t, err := r.lock(tx, id)
	if err != nil {
		return nil, err
	}
	if t.Status == to {
		return t, nil
	}
	hold := HoldNone
	if to == StatusSuspended {
		hold = HoldPlatform
	}
	return r.move(tx, t, to, hold, reason)
}

// Hold suspends tenant id on behalf of h inside tx. An active (or still provisioning) tenant is
// suspended; a suspended one takes h only when h is stronger than its current hold, so billing
// never downgrades a platform suspension. A deleted tenant is ErrBadTransition.
func (r *Registry) Hold(tx *gorm.DB, id int64, h Hold, reason string) (*Tenant, error) {
	if holdRank[h] == 0 {
		return nil, fmt.Errorf("tenancy: unknown hold %q", h)
	}
	t, err := r.lock(tx, id)
	if err != nil {
		return nil, err
	}
	if t.Status == StatusSuspended && holdRank[h] <= holdRank[t.Hold] {
		return t, nil
	}
	return r.move(tx, t, StatusSuspended, h, reason)
}

// Release lifts h's suspension of tenant id inside tx: a tenant suspended by h (or, for
// HoldPlatform, by anyone) becomes active. A tenant held by another holder, or not suspended,
// is returned unchanged; callers compare the returned status.
func (r *Registry) Release(tx *gorm.DB, id int64, h Hold, reason string) (*Tenant, error) {
	t, err := r.lock(tx, id)
	if err != nil {
		return nil, err
	}
	if t.Status != StatusSuspended || (h != HoldPlatform && t.Hold != h) {
		return t, nil
	}
	return r.move(tx, t, StatusActive, HoldNone, reason)
}

func (r *Registry) lock(tx *gorm.DB, id int64) (*Tenant, error) {
	var t Tenant
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", id).Take(&t).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	return &t, nil
}

// move writes status, hold and reason after checking the lifecycle allows the move. Leaving
// the deletion hold clears the scheduled deletion.
func (r *Registry) move(tx *gorm.DB, t *Tenant, to Status, h Hold, reason string) (*Tenant, error) {
	if t.Status != to {
		ok := false
		for _, s := range allowed[t.Status] {
			ok = ok || s == to
		}
		if !ok {
			return nil, fmt.Errorf("%w: %s -> %s", ErrBadTransition, t.Status, to)
		}
	}
	now := time.Now().UTC()
	set := map[string]any{"status": to, "hold": h, "status_reason": reason, "updated_at": now}
	if h != HoldDeletion && to != StatusDeleted {
		set["delete_after"] = nil
		t.DeleteAfter = nil
	}
	if err := tx.Model(&Tenant{}).Where("id = ?", t.ID).Updates(set).Error; err != nil {
		return nil, err
	}
	t.Status, t.Hold, t.StatusReason, t.UpdatedAt = to, h, reason, now
	return t, nil
}

func escapeLike(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '%' || r == '_' || r == '\\' {
			out = append(out, '\\')
		}
		out = append(out, r)
	}
	return string(out)
}

// Rename changes a tenant's display name inside tx.
func (r *Registry) Rename(tx *gorm.DB, id int64, name string) error {
	if n := len([]rune(name)); n < 1 || n > 100 {
		return ErrNameInvalid
	}
	res := tx.Model(&Tenant{}).Where("id = ?", id).Updates(map[string]any{"name": name, "updated_at": time.Now().UTC()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}
