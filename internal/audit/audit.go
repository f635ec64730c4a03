package audit

import (
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Entry is one audited action.
type Entry struct {
	Actor  string         // "user:<uuid>", "platform:<uuid>", "system"; impersonation: "platform:<a> as user:<b>"
	Action string         // dotted verb, e.g. "auth.login", "roles.grant", "pii.read"
	Target string         // what was acted on, e.g. "user:<uuid>"
	IP     string         // client IP, empty for background work
	Meta   map[string]any // ids and codes only, never personal data
}

// Record writes e to the tenant's audit_log. tx must be a tenant transaction (store.InTenant),
// so the entry commits or rolls back with the action it records.
func Record(tx *gorm.DB, e Entry) error {
	return insert(tx, "audit_log", e, nil)
}

// RecordPlatform writes e to public.platform_audit_log; tenantID may be nil.
func RecordPlatform(tx *gorm.DB, tenantID *int64, e Entry) error {
	return insert(tx, "public.platform_audit_log", e, tenantID)
}

func insert(tx *gorm.DB, table string, e Entry, tenantID *int64) error {
	if e.Actor == "" || e.Action == "" {
		return fmt.Errorf("audit: actor and action are required")
	}
	meta := []byte("{}")
	if len(e.Meta) > 0 {
		var err error
		if meta, err = json.Marshal(e.Meta); err != nil {
			return fmt.Errorf("audit: meta: %w", err)
		}
	}
	now := time.Now().UTC()
	if tenantID != nil {
		return tx.Exec(`INSERT INTO `+table+` (actor, tenant_id, action, target, ip, meta, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			e.Actor, *tenantID, e.Action, e.Target, e.IP, string(meta), now).Error
	}
	return tx.Exec(`INSERT INTO `+table+` (actor, action, target, ip, meta, at) VALUES (?, ?, ?, ?, ?, ?)`,
		e.Actor, e.Action, e.Target, e.IP, string(meta), now).Error
}

// Row is an audit entry as read back.
type Row struct {
	ID     int64           `json:"id"`
	Actor  string          `json:"actor"`
	Action string          `json:"action"`
	Target string          `json:"target"`
	IP     string          `json:"ip"`
	Meta   json.RawMessage `json:"meta"`
	At     time.Time       `json:"at"`
}

// List returns the tenant's newest entries first, optionally only those about target, after
// the cursor beforeID (0 = newest), at most limit.
func List(tx *gorm.DB, target string, beforeID int64, limit int) ([]Row, error) {
	q := tx.Table("audit_log").Order("id DESC").Limit(limit)
	if target != "" {
		q = q.Where("target = ?", target)
	}
	if beforeID > 0 {
		q = q.Where("id < ?", beforeID)
	}
	var rows []Row
	return rows, q.Find(&rows).Error
}
