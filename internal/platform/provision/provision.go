package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/blueprint"
	"github.com/paotui/paotui/internal/catalog"
	"github.com/paotui/paotui/internal/identity"
	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/pii"
	"github.com/paotui/paotui/internal/places"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
)

// TaskProvision is the job that provisions one tenant.
const TaskProvision = "tenancy:provision"

// TaskSweep is the periodic job that re-enqueues provisioning that stalled.
const TaskSweep = "tenancy:sweep"

var (
	// ErrBusy is returned when another worker is provisioning the same tenant right now.
	ErrBusy = errors.New("tenant is being provisioned by another worker")
	// ErrInvalidPhone is returned for an owner phone that is not a mobile number.
	ErrInvalidPhone = pii.ErrInvalidPhone
)

// Users creates people in a tenant; identity implements it.
type Users interface {
	FindOrCreateUser(ctx context.Context, tx *gorm.DB, t *tenancy.Tenant, phone, name string) (*identity.User, bool, error)
	SetPassword(ctx context.Context, t *tenancy.Tenant, userID, password string) error
}

// Roles grants roles inside a tenant transaction; authz implements it.
type Roles interface {
	GrantTx(tx *gorm.DB, t *tenancy.Tenant, userID, role string) error
	Invalidate(ctx context.Context, t *tenancy.Tenant) error
}

// CourierSeeder gives a blueprint's courier accounts an approved courier profile (the couriers
// domain implements it); without one they only get the role.
type CourierSeeder interface {
	SeedApproved(ctx context.Context, tx *gorm.DB, t *tenancy.Tenant, userID, realName string) error
}

// Service registers and provisions tenants.
type Service struct {
	db       *store.DB
	reg      *tenancy.Registry
	resolver *tenancy.Resolver
	migrator *store.Migrator
	keys     *pii.Keyring
	outbox   *jobs.Outbox
	users    Users
	roles    Roles
	couriers CourierSeeder
	gate     Gate
	log      *slog.Logger
}

// WithCouriers makes blueprint courier accounts approved couriers.
func (s *Service) WithCouriers(c CourierSeeder) *Service {
	s.couriers = c
	return s
}

// New wires the provisioning service.
func New(db *store.DB, reg *tenancy.Registry, resolver *tenancy.Resolver, migrator *store.Migrator,
	keys *pii.Keyring, outbox *jobs.Outbox, users Users, roles Roles, log *slog.Logger) *Service {
	return &Service{db: db, reg: reg, resolver: resolver, migrator: migrator, keys: keys, outbox: outbox, users: users, roles: roles, log: log}
}

// Request asks for a new tenant.
type Request struct {
	Slug       string
	Name       string
	OwnerPhone string
	OwnerName  string
	Blueprint  string // default "default"
	// Attach, when set, runs inside the transaction that registers the tenant, so records that
	// belong with it (a signup, its subscription) exist before provisioning can start.
	Attach func(tx *gorm.DB, t *tenancy.Tenant) error
}

// Gate decides how a provisioned tenant starts: active, or held (billing holds a tenant whose
// subscription's checkout is not complete).
type Gate interface {
	InitialHold(tx *gorm.DB, tenantID int64) (tenancy.Hold, string, error)
}

// WithGate makes provisioning ask g how each tenant starts.
func (s *Service) WithGate(g Gate) *Service {
	s.gate = g
	return s
}

// Progress is a provisioning's visible state.
type Progress struct {
	TenantID   int64      `json:"tenantId"`
	Status     string     `json:"status"`
	Step       string     `json:"step"`
	Attempts   int        `json:"attempts"`
	LastError  string     `json:"lastError,omitempty"`
	StartedAt  time.Time  `json:"startedAt"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
}

type progressRow struct {
	TenantID      int64
	Blueprint     string
	OwnerPhoneEnc []byte
	OwnerNameEnc  []byte
	Step          string
	Attempts      int
	LastError     string
	StartedAt     time.Time
	FinishedAt    *time.Time
}

func (progressRow) TableName() string { return "public.tenant_provisioning" }

// Register records a new tenant in status provisioning and enqueues its provisioning job
// through the outbox. It returns tenancy.ErrSlugTaken (with the existing tenant) when the slug
// is in use; for a tenant still provisioning, the caller may call Resume.
func (s *Service) Register(ctx context.Context, req Request) (*tenancy.Tenant, error) {
	if req.Blueprint == "" {
		req.Blueprint = "default"
	}
	if err := tenancy.ValidateSlug(req.Slug, s.reg.Reserved()); err != nil {
		return nil, err
	}
	phone, err := pii.NormalizePhone(req.OwnerPhone)
	if err != nil {
		return nil, ErrInvalidPhone
	}
	if _, err := blueprint.Load(req.Blueprint); err != nil {
		return nil, err
	}
	if existing, err := s.reg.BySlug(ctx, req.Slug); err == nil {
		return existing, tenancy.ErrSlugTaken
	}
	var t *tenancy.Tenant
	// Keys are created with the registry row; the owner's contact is sealed with those keys, so
	// it needs a second transaction once they are readable. A crash between the two leaves a
	// tenant without a provisioning row, which Resume repairs.
	err = s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if t, err = s.reg.Insert(tx, req.Slug, req.Name); err != nil {
			return err
		}
		if err := s.keys.CreateKeys(tx, t.ID); err != nil {
			return err
		}
		if req.Attach != nil {
			return req.Attach(tx, t)
		}
		return nil
	})
	if errors.Is(err, tenancy.ErrSlugTaken) {
		existing, _ := s.reg.BySlug(ctx, req.Slug)
		return existing, tenancy.ErrSlugTaken
	}
	if err != nil {
		return nil, err
	}
	if err := s.queue(ctx, t, req.Blueprint, phone, req.OwnerName); err != nil {
		return t, err
	}
	return t, nil
}

func (s *Service) queue(ctx context.Context, t *tenancy.Tenant, bp, phone, name string) error {
	c, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return err
	}
	phoneEnc, err := c.Encrypt("provisioning.owner_phone", phone)
	if err != nil {
		return err
	}
	var nameEnc []byte
	if name != "" {
		if nameEnc, err = c.Encrypt("provisioning.owner_name", name); err != nil {
			return err
		}
	}
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row := progressRow{TenantID: t.ID, Blueprint: bp, OwnerPhoneEnc: phoneEnc, OwnerNameEnc: nameEnc, Step: "registered", StartedAt: time.Now().UTC()}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
			return err
		}
		return s.enqueue(tx, t.ID)
	})
}

func (s *Service) enqueue(tx *gorm.DB, tenantID int64) error {
	return s.outbox.Add(tx, jobs.Message{TenantID: tenantID, Type: TaskProvision, Queue: "critical"})
}

// Resume re-enqueues provisioning of a tenant that is still provisioning (after a failure, or
// a crash before its job was queued); owner details are needed only if the provisioning row
// was never written.
func (s *Service) Resume(ctx context.Context, t *tenancy.Tenant, req Request) error {
	if t.Status != tenancy.StatusProvisioning {
		return nil
	}
	var n int64
	if err := s.db.Gorm.WithContext(ctx).Model(&progressRow{}).Where("tenant_id = ?", t.ID).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		phone, err := pii.NormalizePhone(req.OwnerPhone)
		if err != nil {
			return ErrInvalidPhone
		}
		if req.Blueprint == "" {
			req.Blueprint = "default"
		}
		if err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return s.keys.CreateKeys(tx, t.ID) }); err != nil {
			return err
		}
		return s.queue(ctx, t, req.Blueprint, phone, req.OwnerName)
	}
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return s.enqueue(tx, t.ID) })
}

// Progress reports how far provisioning of tenant id got.
func (s *Service) Progress(ctx context.Context, id int64) (*Progress, error) {
	t, err := s.reg.ByID(ctx, id)
	if err != nil {
		return nil, err
	}
	p := &Progress{TenantID: id, Status: string(t.Status), Step: "unknown"}
	var row progressRow
	err = s.db.Gorm.WithContext(ctx).Where("tenant_id = ?", id).Take(&row).Error
	if err == nil {
		p.Step, p.Attempts, p.LastError, p.StartedAt, p.FinishedAt = row.Step, row.Attempts, row.LastError, row.StartedAt, row.FinishedAt
	} else if !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, err
	}
	return p, nil
}

// NewProvisionTask is the asynq task for tenant id (used outside the outbox, e.g. tests).
func NewProvisionTask(id int64) (*asynq.Task, error) {
	return jobs.NewTask(TaskProvision, id, nil)
}

// HandleProvision is the job handler: it provisions the envelope's tenant.
func (s *Service) HandleProvision(ctx context.Context, task *asynq.Task) error {
	id, _, err := jobs.Decode[json.RawMessage](task)
	if err != nil {
		return fmt.Errorf("%v: %w", err, asynq.SkipRetry)
	}
	err = s.Provision(ctx, id)
	if errors.Is(err, tenancy.ErrNotFound) {
		return fmt.Errorf("%v: %w", err, asynq.SkipRetry)
	}
	return err
}

// Provision runs every remaining step for tenant id. Safe to run again at any point.
func (s *Service) Provision(ctx context.Context, id int64) (err error) {
	unlock, err := s.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	t, err := s.reg.ByID(ctx, id)
	if err != nil {
		return err
	}
	if t.Status != tenancy.StatusProvisioning {
		return nil
	}
	var row progressRow
	if err := s.db.Gorm.WithContext(ctx).Where("tenant_id = ?", id).Take(&row).Error; err != nil {
		return fmt.Errorf("provisioning record of tenant %d: %w", id, err)
	}
	start := time.Now()
	defer func() {
		if err != nil {
			s.record(context.WithoutCancel(ctx), id, "", err.Error())
			s.log.Error("provisioning failed", "tenant", t.Slug, "step", row.Step, "err", err)
		}
	}()
	s.db.Gorm.WithContext(ctx).Model(&progressRow{}).Where("tenant_id = ?", id).Update("attempts", gorm.Expr("attempts + 1"))

	bp, err := blueprint.Load(row.Blueprint)
	if err != nil {
		return err
	}
	s.record(ctx, id, "schema", "")
	if _, _, err := s.migrator.UpTenant(ctx, t.Schema); err != nil {
		return err
	}
	s.record(ctx, id, "blueprint", "")
	if err := s.applyBlueprint(ctx, t, bp); err != nil {
		return fmt.Errorf("apply blueprint %s: %w", bp.Name, err)
	}
	s.record(ctx, id, "accounts", "")
	if err := s.createAccounts(ctx, t, bp, row); err != nil {
		return err
	}
	err = s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		hold, why := tenancy.HoldNone, ""
		if s.gate != nil {
			if hold, why, err = s.gate.InitialHold(tx, id); err != nil {
				return err
			}
		}
		if hold != tenancy.HoldNone {
			_, err = s.reg.Hold(tx, id, hold, why)
		} else {
			_, err = s.reg.SetStatus(tx, id, tenancy.StatusActive, "")
		}
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		if err := tx.Model(&progressRow{}).Where("tenant_id = ?", id).Updates(map[string]any{
			"step": "done", "finished_at": now, "last_error": "", "owner_phone_enc": nil, "owner_name_enc": nil,
		}).Error; err != nil {
			return err
		}
		return audit.RecordPlatform(tx, &id, audit.Entry{Actor: "system", Action: "tenant.provisioned", Target: "tenant:" + t.Slug,
			Meta: map[string]any{"blueprint": bp.Name, "ms": time.Since(start).Milliseconds()}})
	})
	if err != nil {
		return err
	}
	_ = s.resolver.Invalidate(ctx, id)
	_ = s.roles.Invalidate(ctx, t)
	s.log.Info("tenant provisioned", "tenant", t.Slug, "ms", time.Since(start).Milliseconds())
	return nil
}

func (s *Service) applyBlueprint(ctx context.Context, t *tenancy.Tenant, bp *blueprint.Blueprint) error {
	return s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		for key, v := range bp.Settings() {
			doc, err := json.Marshal(v)
			if err != nil {
				return err
			}
			// DO NOTHING: a re-run must not overwrite what the team changed since.
			if err := tx.Exec(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, string(doc)).Error; err != nil {
				return fmt.Errorf("setting %s: %w", key, err)
			}
		}
		// Domains with their own tables seed from the blueprint here (existing tenants were
		// backfilled from the settings documents by their migrations).
		if err := catalog.SeedFromBlueprint(tx, bp); err != nil {
			return fmt.Errorf("task types: %w", err)
		}
		if err := places.SeedFromBlueprint(tx, bp); err != nil {
			return fmt.Errorf("places: %w", err)
		}
		for _, r := range bp.Roles {
			for _, p := range r.Permissions {
				obj, act, _ := cut(p)
				if err := tx.Exec(`INSERT INTO casbin_rules (ptype, v0, v1, v2, v3) VALUES ('p', ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
					r.Name, t.Domain(), obj, act).Error; err != nil {
					return fmt.Errorf("role %s: %w", r.Name, err)
				}
			}
		}
		return nil
	})
}

type account struct {
	phone, name, password string
	roles                 []string
}

func (s *Service) createAccounts(ctx context.Context, t *tenancy.Tenant, bp *blueprint.Blueprint, row progressRow) error {
	var accounts []account
	if row.OwnerPhoneEnc != nil {
		c, err := s.keys.For(ctx, t.ID)
		if err != nil {
			return err
		}
		phone, err := c.Decrypt("provisioning.owner_phone", row.OwnerPhoneEnc)
		if err != nil {
			return fmt.Errorf("owner contact: %w", err)
		}
		name := ""
		if row.OwnerNameEnc != nil {
			if name, err = c.Decrypt("provisioning.owner_name", row.OwnerNameEnc); err != nil {
				return fmt.Errorf("owner contact: %w", err)
			}
		}
		accounts = append(accounts, account{phone: phone, name: name, roles: []string{"owner"}})
	}
	for _, a := range bp.Accounts {
		accounts = append(accounts, account{phone: a.Phone, name: a.Name, password: a.Password, roles: a.Roles})
	}
	passwords := map[string]string{}
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		for _, a := range accounts {
			u, _, err := s.users.FindOrCreateUser(ctx, tx, t, a.phone, a.name)
			if err != nil {
				return fmt.Errorf("create account: %w", err)
			}
			for _, r := range a.roles {
				if err := s.roles.GrantTx(tx, t, u.ID, r); err != nil {
					return fmt.Errorf("grant %s: %w", r, err)
				}
				if r == "courier" && s.couriers != nil {
					if err := s.couriers.SeedApproved(ctx, tx, t, u.ID, a.name); err != nil {
						return fmt.Errorf("courier profile: %w", err)
					}
				}
			}
			if a.password != "" && !u.HasPassword {
				passwords[u.ID] = a.password
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for id, pw := range passwords {
		if err := s.users.SetPassword(ctx, t, id, pw); err != nil {
			return fmt.Errorf("set demo password: %w", err)
		}
	}
	return nil
}

// record notes the current step or error; errors here are not fatal (visibility only).
func (s *Service) record(ctx context.Context, id int64, step, lastErr string) {
	upd := map[string]any{"last_error": lastErr}
	if step != "" {
		upd["step"] = step
	}
	if len(lastErr) > 500 {
		upd["last_error"] = lastErr[:500]
	}
	s.db.Gorm.WithContext(ctx).Model(&progressRow{}).Where("tenant_id = ?", id).Updates(upd)
}

// lock takes a session advisory lock for the tenant on a pinned connection, so the CLI and a
// worker (or two workers) never provision the same tenant at once.
func (s *Service) lock(ctx context.Context, id int64) (func(), error) {
	conn, err := s.db.SQL.Conn(ctx)
	if err != nil {
		return nil, err
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "paotui:provision:%d", id)
	key := int64(h.Sum64() & 0x7fffffffffffffff)
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		conn.Close()
		return nil, err
	}
	if !ok {
		conn.Close()
		return nil, ErrBusy
	}
	return func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key)
		conn.Close()
	}, nil
}

// Sweep re-enqueues tenants that have been provisioning for longer than stale without
// finishing (their job was lost or exhausted its retries). It returns how many it re-queued.
func (s *Service) Sweep(ctx context.Context, stale time.Duration) (int, error) {
	var ids []int64
	err := s.db.Gorm.WithContext(ctx).Raw(`SELECT t.id FROM public.tenants t JOIN public.tenant_provisioning p ON p.tenant_id = t.id
		WHERE t.status = 'provisioning' AND p.finished_at IS NULL AND p.started_at < ?
		  AND NOT EXISTS (SELECT 1 FROM public.outbox o WHERE o.tenant_id = t.id AND o.task_type = ? AND o.created_at > ?)`,
		time.Now().Add(-stale), TaskProvision, time.Now().Add(-stale)).Scan(&ids).Error
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return s.enqueue(tx, id) }); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// HandleSweep is the periodic sweeper's job handler.
func (s *Service) HandleSweep(ctx context.Context, _ *asynq.Task) error {
	n, err := s.Sweep(ctx, 2*time.Minute)
	if n > 0 {
		s.log.Warn("re-queued stalled provisioning", "tenants", n)
	}
	return err
}

func cut(perm string) (string, string, bool) {
	for i := 0; i < len(perm); i++ {
		if perm[i] == ':' {
			return perm[:i], perm[i+1:], true
		}
	}
	return perm, "", false
}
