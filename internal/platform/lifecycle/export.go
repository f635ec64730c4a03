package lifecycle

import (
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ExportStatus is where an export is in its life.
type ExportStatus string

const (
	ExportQueued  ExportStatus = "queued"
	ExportRunning ExportStatus = "running"
	ExportReady   ExportStatus = "ready"
	ExportFailed  ExportStatus = "failed"
	ExportExpired ExportStatus = "expired"
)

var (
	// ErrExportNotFound is returned for an export id the tenant does not have.
	ErrExportNotFound = errors.New("no such export")
	// ErrExportNotReady is returned when downloading an export that is still being made or
	// that failed.
	ErrExportNotReady = errors.New("the export is not ready; wait until its status is ready, or request a new one if it failed")
	// ErrExportExpired is returned when downloading an export past its expiry: its file is gone.
	ErrExportExpired = errors.New("the export has expired and its file was removed; request a new one")
)

// Export is one archive of a tenant's data.
type Export struct {
	ID          string       `gorm:"primaryKey"`
	TenantID    int64        `gorm:"column:tenant_id"`
	RequestedBy string       `gorm:"column:requested_by"`
	Status      ExportStatus `gorm:"column:status"`
	FileKey     string       `gorm:"column:file_key"`
	SizeBytes   int64        `gorm:"column:size_bytes"`
	Tables      int          `gorm:"column:tables"`
	Error       string       `gorm:"column:error"`
	CreatedAt   time.Time    `gorm:"column:created_at"`
	FinishedAt  *time.Time   `gorm:"column:finished_at"`
	ExpiresAt   *time.Time   `gorm:"column:expires_at"`
}

// TableName is schema-qualified: exports are control-plane rows, written from inside tenant
// transactions too.
func (Export) TableName() string { return "public.tenant_exports" }

// expiredAt reports whether e can no longer be downloaded at now. A ready export past its
// expiry counts as expired before the sweep has removed its file, so the answer does not
// depend on when the sweep last ran.
func (e *Export) expiredAt(now time.Time) bool {
	return e.Status == ExportExpired || (e.Status == ExportReady && e.ExpiresAt != nil && !now.Before(*e.ExpiresAt))
}

// exportKey is where the archive of export id of tenant tenantID is stored.
func exportKey(tenantID int64, id string) string {
	return fmt.Sprintf("exports/%d/%s.zip", tenantID, id)
}

// insertExport records e as queued unless the tenant already has an export queued or running,
// in which case that one is returned and created is false. The partial unique index on open
// exports makes the check hold under concurrent requests.
func insertExport(tx *gorm.DB, e *Export) (out *Export, created bool, err error) {
	res := tx.Clauses(clause.OnConflict{
		Columns:     []clause.Column{{Name: "tenant_id"}},
		TargetWhere: clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "status IN ('queued', 'running')"}}},
		DoNothing:   true,
	}).Create(e)
	if res.Error != nil {
		return nil, false, fmt.Errorf("insert export: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		return e, true, nil
	}
	var open Export
	err = tx.Where("tenant_id = ? AND status IN ?", e.TenantID, []ExportStatus{ExportQueued, ExportRunning}).Take(&open).Error
	if err != nil {
		return nil, false, fmt.Errorf("open export of tenant %d: %w", e.TenantID, err)
	}
	return &open, false, nil
}

// getExport returns tenant tenantID's export id.
func getExport(db *gorm.DB, tenantID int64, id string) (*Export, error) {
	var e Export
	err := db.Where("id = ? AND tenant_id = ?", id, tenantID).Take(&e).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrExportNotFound
	}
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// listExports returns tenantID's exports newest first, and how many there are.
func listExports(db *gorm.DB, tenantID int64, limit, offset int) ([]Export, int64, error) {
	q := db.Model(&Export{}).Where("tenant_id = ?", tenantID)
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var out []Export
	err := q.Order("created_at DESC, id").Limit(limit).Offset(offset).Find(&out).Error
	return out, total, err
}
