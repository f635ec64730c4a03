package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/pii"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/storage"
	"github.com/paotui/paotui/internal/store"
)

var (
	// ErrConfirmationMismatch is returned when the owner's confirmation is not the tenant's
	// subdomain: deletion is asked for by typing it, so a stray click cannot.
	ErrConfirmationMismatch = errors.New("type the service's subdomain exactly to confirm its deletion")
	// ErrReasonRequired is returned for a missing, blank or overlong reason (platform: 1-200
	// characters; owner: at most 200).
	ErrReasonRequired = errors.New("a reason of 1-200 characters is required")
	// ErrTenantNotFound is returned for an unknown tenant id.
	ErrTenantNotFound = errors.New("tenant not found")
	// ErrTenantDeleted is returned when deleting a tenant that is already deleted.
	ErrTenantDeleted = errors.New("the tenant is already deleted")
)

const (
	maxReasonRunes = 200
	// staleExport is how long an export may stay queued or running before the sweep calls it
	// failed, which frees the one-at-a-time slot so the owner can ask again.
	staleExport = 24 * time.Hour
	// purgeLockTimeout bounds how long the purge waits for the tenant's tables (a long export
	// reading them, say); it fails and is retried rather than queueing every later query on
	// those tables behind its DROP.
	purgeLockTimeout = "30s"
	// sweepBatch bounds the exports one sweep expires.
	sweepBatch = 500
)

// Keys opens and forgets tenants' keysets; *pii.Keyring implements it.
type Keys interface {
	For(ctx context.Context, tenantID int64) (*pii.Cipher, error)
	Forget(tenantID int64)
}

// Hosts is told when a tenant's status changes, so every replica serves the new status at
// once; *tenancy.Resolver implements it.
type Hosts interface {
	Invalidate(ctx context.Context, id int64) error
}

// Billing cancels a tenant's platform subscription when the tenant is purged. It must be
// idempotent: a purge that fails after the cancellation is retried and cancels again.
type Billing interface {
	CancelForDeletion(ctx context.Context, tenantID int64) error
}

// Service exports tenants' data and deletes tenants. It is safe for concurrent use.
type Service struct {
	db        *store.DB
	reg       *tenancy.Registry
	hosts     Hosts
	keys      Keys
	files     storage.Store
	outbox    *jobs.Outbox
	billing   Billing
	grace     time.Duration
	exportTTL time.Duration
	log       *slog.Logger
	now       func() time.Time
	tmpDir    string
}

// New wires the service: deletions wait cfg.DeletionGrace, exports are kept cfg.ExportTTL.
func New(db *store.DB, reg *tenancy.Registry, hosts Hosts, keys Keys, files storage.Store, outbox *jobs.Outbox,
	cfg config.Tenancy, log *slog.Logger) *Service {
	return &Service{db: db, reg: reg, hosts: hosts, keys: keys, files: files, outbox: outbox,
		grace: cfg.DeletionGrace, exportTTL: cfg.ExportTTL, log: log, now: time.Now}
}

// WithBilling makes the purge cancel the tenant's subscription first; without it (nil) there
// is nothing to cancel.
func (s *Service) WithBilling(b Billing) *Service {
	s.billing = b
	return s
}

// ---- export ----

// RequestExport queues an export of all of t's data, or returns the export already queued or
// running (created false): one at a time per tenant. by names the actor and IP of the
// data.export.request entry in the tenant's audit log.
func (s *Service) RequestExport(ctx context.Context, t *tenancy.Tenant, by audit.Entry) (e *Export, created bool, err error) {
	if by.Actor == "" {
		return nil, false, errors.New("lifecycle: RequestExport needs an actor")
	}
	req := &Export{ID: uuid.NewString(), TenantID: t.ID, RequestedBy: by.Actor, Status: ExportQueued, CreatedAt: s.now().UTC()}
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		if e, created, err = insertExport(tx, req); err != nil || !created {
			return err
		}
		if err := s.outbox.Add(tx, jobs.Message{TenantID: t.ID, Type: TaskExport, Data: exportData{ExportID: e.ID},
			Queue: jobs.QueueLow}); err != nil {
			return err
		}
		by.Action, by.Target = "data.export.request", "export:"+e.ID
		return audit.Record(tx, by)
	})
	if err != nil {
		return nil, false, err
	}
	return e, created, nil
}

// Exports returns one page of t's exports, newest first, and how many there are.
func (s *Service) Exports(ctx context.Context, t *tenancy.Tenant, limit, offset int) ([]Export, int64, error) {
	return listExports(s.db.Gorm.WithContext(ctx), t.ID, limit, offset)
}

// Export returns t's export id. Errors: ErrExportNotFound.
func (s *Service) Export(ctx context.Context, t *tenancy.Tenant, id string) (*Export, error) {
	return getExport(s.db.Gorm.WithContext(ctx), t.ID, id)
}

// Download is an open export archive; the caller must close it.
type Download struct {
	io.ReadCloser
	Export *Export
	Size   int64
}

// OpenDownload opens the archive of t's export id after recording data.export.download in
// the tenant's audit log. Errors: ErrExportNotFound, ErrExportNotReady, ErrExportExpired.
func (s *Service) OpenDownload(ctx context.Context, t *tenancy.Tenant, id string, by audit.Entry) (*Download, error) {
	e, err := getExport(s.db.Gorm.WithContext(ctx), t.ID, id)
	if err != nil {
		return nil, err
	}
	switch {
	case e.expiredAt(s.now()):
		return nil, ErrExportExpired
	case e.Status != ExportReady:
		return nil, ErrExportNotReady
	}
	rc, info, err := s.files.Open(ctx, e.FileKey)
	if errors.Is(err, storage.ErrNotFound) {
		// The sweep removed it a moment ago.
		return nil, ErrExportExpired
	}
	if err != nil {
		return nil, err
	}
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		by.Action, by.Target, by.Meta = "data.export.download", "export:"+e.ID, map[string]any{"bytes": info.Size}
		return audit.Record(tx, by)
	})
	if err != nil {
		rc.Close()
		return nil, err
	}
	return &Download{ReadCloser: rc, Export: e, Size: info.Size}, nil
}

// RunExport makes the archive of export id of t: it reads every table in one snapshot,
// writes the zip to a temporary directory and stores it. An export that is no longer queued
// or running (finished, failed, expired, or purged with its tenant) is left alone, so the job
// may run more than once.
func (s *Service) RunExport(ctx context.Context, t *tenancy.Tenant, id string) error {
	db := s.db.Gorm.WithContext(ctx)
	open := []ExportStatus{ExportQueued, ExportRunning}
	res := db.Model(&Export{}).Where("id = ? AND tenant_id = ? AND status IN ?", id, t.ID, open).Update("status", ExportRunning)
	if res.Error != nil {
		return fmt.Errorf("claim export %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil
	}
	c, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(s.tmpDir, "paotui-export-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var snap *snapshot
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		snap, err = readSnapshot(tx, c, dir)
		return err
	})
	if snap != nil {
		defer snap.close()
	}
	if err != nil {
		return fmt.Errorf("read tenant %d: %w", t.ID, err)
	}
	arc, err := snap.writeArchive(&Manifest{ExportID: id, Tenant: ManifestTenant{ID: t.ID, Slug: t.Slug, Name: t.Name}})
	if err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	f, err := os.Open(arc.path)
	if err != nil {
		return err
	}
	defer f.Close()
	key := exportKey(t.ID, id)
	if err := s.files.Put(ctx, key, "application/zip", f, arc.size); err != nil {
		return fmt.Errorf("store archive: %w", err)
	}
	now := s.now().UTC()
	res = db.Model(&Export{}).Where("id = ? AND status = ?", id, ExportRunning).Updates(map[string]any{
		"status": ExportReady, "file_key": key, "size_bytes": arc.size, "tables": len(arc.manifest.Tables),
		"error": "", "finished_at": now, "expires_at": now.Add(s.exportTTL),
	})
	if res.Error != nil {
		return fmt.Errorf("finish export %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		// The tenant was purged (or the sweep gave up on it) meanwhile: keep nothing.
		return s.files.Delete(context.WithoutCancel(ctx), key)
	}
	s.log.Info("tenant data exported", "tenant", t.Slug, "export", id, "tables", len(arc.manifest.Tables),
		"bytes", arc.size, "undecryptable", len(arc.manifest.Undecryptable))
	return nil
}

// failExport gives up on export id; cause is kept for operators (never shown to the team).
func (s *Service) failExport(ctx context.Context, id string, cause error) error {
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return s.db.Gorm.WithContext(ctx).Model(&Export{}).
		Where("id = ? AND status IN ?", id, []ExportStatus{ExportQueued, ExportRunning}).
		Updates(map[string]any{"status": ExportFailed, "error": msg, "finished_at": s.now().UTC()}).Error
}

// ---- deletion ----

// Deletion is a tenant's scheduled deletion.
type Deletion struct {
	TenantID    int64          `json:"tenantId"`
	Slug        string         `json:"slug"`
	Status      tenancy.Status `json:"status" enum:"provisioning,active,suspended,deleted"`
	DeleteAfter time.Time      `json:"deleteAfter" doc:"When the data is deleted for good; until then a platform admin can restore the service."`
}

// RequestDeletion is the owner's request to delete t: confirmSlug must be t's subdomain;
// reason is optional. See scheduleDeletion. Errors: ErrConfirmationMismatch,
// ErrReasonRequired (overlong), ErrTenantDeleted.
func (s *Service) RequestDeletion(ctx context.Context, t *tenancy.Tenant, confirmSlug, reason string, by audit.Entry) (*Deletion, error) {
	if strings.TrimSpace(confirmSlug) != t.Slug {
		return nil, ErrConfirmationMismatch
	}
	reason = strings.TrimSpace(reason)
	if !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > maxReasonRunes {
		return nil, ErrReasonRequired
	}
	if reason == "" {
		reason = "deletion requested by the owner"
	}
	return s.scheduleDeletion(ctx, t.ID, reason, "owner", by)
}

// DeleteTenant is a platform admin's deletion of tenant id, with a required reason. See
// scheduleDeletion. Errors: ErrTenantNotFound, ErrTenantDeleted, ErrReasonRequired.
func (s *Service) DeleteTenant(ctx context.Context, id int64, reason string, by audit.Entry) (*Deletion, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > maxReasonRunes {
		return nil, ErrReasonRequired
	}
	return s.scheduleDeletion(ctx, id, reason, "platform", by)
}

// scheduleDeletion holds tenant id for deletion: it is suspended at once (its hosts answer
// "paused" on every replica), its purge is queued for now + the grace period, and the request
// is in the platform audit log (tenant.deletion_requested), all in one transaction. Asking
// again while a deletion is pending changes nothing and returns the first date: a second
// request must not postpone, nor bring forward, what the first one announced.
func (s *Service) scheduleDeletion(ctx context.Context, id int64, reason, requestedBy string, by audit.Entry) (*Deletion, error) {
	if by.Actor == "" {
		return nil, errors.New("lifecycle: deletion needs an actor")
	}
	var d *Deletion
	scheduled := false
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		cur, err := lockTenant(tx, id)
		if err != nil {
			return err
		}
		switch {
		case cur.Status == tenancy.StatusDeleted:
			return ErrTenantDeleted
		case cur.Hold == tenancy.HoldDeletion && cur.DeleteAfter != nil:
			d = &Deletion{TenantID: cur.ID, Slug: cur.Slug, Status: cur.Status, DeleteAfter: *cur.DeleteAfter}
			return nil
		}
		t, err := s.reg.Hold(tx, id, tenancy.HoldDeletion, reason)
		if errors.Is(err, tenancy.ErrBadTransition) {
			return ErrTenantDeleted
		}
		if err != nil {
			return err
		}
		after := s.now().UTC().Add(s.grace).Truncate(time.Microsecond)
		if err := tx.Model(&tenancy.Tenant{}).Where("id = ?", id).Update("delete_after", after).Error; err != nil {
			return err
		}
		if err := s.outbox.Add(tx, jobs.Message{TenantID: id, Type: TaskPurge, ProcessAt: after}); err != nil {
			return err
		}
		by.Action, by.Target = "tenant.deletion_requested", "tenant:"+t.Slug
		by.Meta = map[string]any{"reason": reason, "requestedBy": requestedBy, "from": string(cur.Status),
			"hold": string(cur.Hold), "deleteAfter": after.Format(time.RFC3339)}
		if err := audit.RecordPlatform(tx, &id, by); err != nil {
			return err
		}
		d = &Deletion{TenantID: t.ID, Slug: t.Slug, Status: t.Status, DeleteAfter: after}
		scheduled = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	if scheduled {
		s.invalidate(ctx, id)
		s.log.Info("tenant deletion scheduled", "tenant", d.Slug, "by", requestedBy, "delete_after", d.DeleteAfter)
	}
	return d, nil
}

func lockTenant(tx *gorm.DB, id int64) (*tenancy.Tenant, error) {
	var t tenancy.Tenant
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", id).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrTenantNotFound
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// Purge deletes tenant id for good if it is still held for deletion and its grace period is
// over; otherwise (restored meanwhile, or not due yet) it does nothing and returns false. In
// one transaction, holding the registry row so a concurrent restore waits for the outcome:
// billing is cancelled, the schema is dropped, the keysets are deleted (crypto-shredding any
// copy of the data left in backups), custom domains are released, exports are closed, and the
// tenant becomes a tombstone (status deleted; the slug stays taken). Export files are removed
// after the commit.
func (s *Service) Purge(ctx context.Context, id int64) (bool, error) {
	var (
		files  []string
		purged *tenancy.Tenant
	)
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		cur, err := lockTenant(tx, id)
		if errors.Is(err, ErrTenantNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if cur.Status != tenancy.StatusSuspended || cur.Hold != tenancy.HoldDeletion || cur.DeleteAfter == nil ||
			s.now().Before(*cur.DeleteAfter) {
			return nil
		}
		if err := store.ValidSchema(cur.Schema); err != nil {
			return err
		}
		if err := tx.Exec(`SET LOCAL lock_timeout = '` + purgeLockTimeout + `'`).Error; err != nil {
			return err
		}
		if s.billing != nil {
			if err := s.billing.CancelForDeletion(ctx, id); err != nil {
				return fmt.Errorf("cancel billing of tenant %d: %w", id, err)
			}
		}
		if err := tx.Exec(`DROP SCHEMA IF EXISTS ` + store.QuoteIdent(cur.Schema) + ` CASCADE`).Error; err != nil {
			return fmt.Errorf("drop schema %s: %w", cur.Schema, err)
		}
		if err := tx.Exec(`DELETE FROM public.tenant_keys WHERE tenant_id = ?`, id).Error; err != nil {
			return err
		}
		domains := tx.Exec(`DELETE FROM public.tenant_domains WHERE tenant_id = ?`, id)
		if domains.Error != nil {
			return domains.Error
		}
		if err := tx.Raw(`SELECT file_key FROM public.tenant_exports WHERE tenant_id = ? AND file_key <> '' FOR UPDATE`, id).
			Scan(&files).Error; err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE public.tenant_exports
			SET status = CASE WHEN status = 'ready' THEN 'expired' ELSE 'failed' END,
			    error = CASE WHEN status = 'ready' THEN error ELSE 'the tenant was deleted' END,
			    file_key = '', finished_at = coalesce(finished_at, now())
			WHERE tenant_id = ? AND status IN ('queued', 'running', 'ready')`, id).Error; err != nil {
			return err
		}
		t, err := s.reg.SetStatus(tx, id, tenancy.StatusDeleted, cur.StatusReason)
		if err != nil {
			return err
		}
		if err := audit.RecordPlatform(tx, &id, audit.Entry{Actor: "system", Action: "tenant.deleted", Target: "tenant:" + t.Slug,
			Meta: map[string]any{"schema": cur.Schema, "domains": domains.RowsAffected, "exportFiles": len(files),
				"deleteAfter": cur.DeleteAfter.UTC().Format(time.RFC3339), "billing": s.billing != nil}}); err != nil {
			return err
		}
		purged = t
		return nil
	})
	if err != nil || purged == nil {
		return false, err
	}
	s.keys.Forget(id)
	s.invalidate(ctx, id)
	for _, key := range files {
		if err := s.files.Delete(ctx, key); err != nil {
			// The row no longer points at it; the key is logged so an operator can remove it.
			s.log.Error("export file of a deleted tenant not removed", "tenant", purged.Slug, "key", key, "err", err)
		}
	}
	// Everything else the tenant stored (logo, delivery photos) lives under t/<id>/.
	prefix := "t/" + strconv.FormatInt(id, 10)
	if err := s.files.DeletePrefix(ctx, prefix); err != nil {
		s.log.Error("files of a deleted tenant not removed", "tenant", purged.Slug, "prefix", prefix, "err", err)
	}
	s.log.Info("tenant deleted", "tenant", purged.Slug, "schema", purged.Schema)
	return true, nil
}

func (s *Service) invalidate(ctx context.Context, id int64) {
	if err := s.hosts.Invalidate(ctx, id); err != nil {
		// This replica already dropped its entry; others catch up within the cache TTL.
		s.log.Warn("tenant cache invalidation not published", "tenant", id, "err", err)
	}
}

// ---- sweep ----

// Sweep purges every tenant whose grace period is over (repairing a lost or failed purge
// job), removes the files of exports past their expiry and marks them expired, and fails
// exports stuck for staleExport. It carries on past one tenant's failure and returns the
// first error.
func (s *Service) Sweep(ctx context.Context) error {
	db := s.db.Gorm.WithContext(ctx)
	now := s.now().UTC()
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	var due []int64
	err := db.Raw(`SELECT id FROM public.tenants WHERE status = ? AND hold = ? AND delete_after <= ? ORDER BY delete_after`,
		tenancy.StatusSuspended, tenancy.HoldDeletion, now).Scan(&due).Error
	keep(err)
	for _, id := range due {
		if _, err := s.Purge(ctx, id); err != nil {
			s.log.Error("purge of a tenant due for deletion failed", "tenant", id, "err", err)
			keep(err)
		}
	}
	var expired []Export
	err = db.Where("status = ? AND expires_at <= ?", ExportReady, now).Order("expires_at").Limit(sweepBatch).Find(&expired).Error
	keep(err)
	for _, e := range expired {
		// File first: a row left ready without its file downloads as expired, never the reverse.
		if err := s.files.Delete(ctx, e.FileKey); err != nil {
			s.log.Error("expired export file not removed", "export", e.ID, "err", err)
			keep(err)
			continue
		}
		keep(db.Model(&Export{}).Where("id = ? AND status = ?", e.ID, ExportReady).
			Updates(map[string]any{"status": ExportExpired, "file_key": ""}).Error)
	}
	keep(db.Model(&Export{}).Where("status IN ? AND created_at < ?", []ExportStatus{ExportQueued, ExportRunning}, now.Add(-staleExport)).
		Updates(map[string]any{"status": ExportFailed, "error": "did not finish within " + staleExport.String(), "finished_at": now}).Error)
	return first
}
