package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// notifyChannel is the PostgreSQL channel Add notifies and the relay listens on.
const notifyChannel = "paotui_outbox"

// Message is work a business transaction asks for.
type Message struct {
	TenantID  int64     // 0 = platform work
	Type      string    // "domain:action"
	Data      any       // encoded as JSON; ids only, never personal data
	Queue     string    // critical, default or low; empty means default
	ProcessAt time.Time // zero means now
}

// Outbox writes work into public.outbox inside the caller's transaction. The zero value is
// ready to use; it holds no state.
type Outbox struct{}

// NewOutbox returns an Outbox.
func NewOutbox() *Outbox { return &Outbox{} }

// Add records m in tx, the business transaction (InTenant's tx works: the table is
// schema-qualified). The work is relayed only if tx commits, and the relay is woken at commit
// by a NOTIFY sent in the same transaction (PostgreSQL delivers notifications only on commit).
func (o *Outbox) Add(tx *gorm.DB, m Message) error {
	if err := validType(m.Type); err != nil {
		return err
	}
	if m.Queue == "" {
		m.Queue = QueueDefault
	}
	if err := validQueue(m.Queue); err != nil {
		return err
	}
	if m.TenantID < 0 {
		return fmt.Errorf("outbox %s: negative tenant id %d", m.Type, m.TenantID)
	}
	payload := []byte("{}")
	if m.Data != nil {
		b, err := json.Marshal(m.Data)
		if err != nil {
			return fmt.Errorf("outbox %s: encode data: %w", m.Type, err)
		}
		payload = b
	}
	tenant := sql.NullInt64{Int64: m.TenantID, Valid: m.TenantID != 0}
	processAt := sql.NullTime{Time: m.ProcessAt.UTC(), Valid: !m.ProcessAt.IsZero()}
	err := tx.Exec(`INSERT INTO public.outbox (tenant_id, task_type, payload, queue, process_at)
		VALUES (?, ?, ?::jsonb, ?, ?)`, tenant, m.Type, string(payload), m.Queue, processAt).Error
	if err != nil {
		return fmt.Errorf("outbox %s: insert: %w", m.Type, err)
	}
	if err := tx.Exec(`SELECT pg_notify(?, '')`, notifyChannel).Error; err != nil {
		return fmt.Errorf("outbox %s: notify: %w", m.Type, err)
	}
	return nil
}

// Pending reports the relay backlog: rows not yet handed to Redis and the age of the oldest.
// A growing backlog means Redis or the relay is down.
func (o *Outbox) Pending(ctx context.Context, db *gorm.DB) (count int64, oldest time.Duration, err error) {
	var r struct {
		N   int64
		Age float64
	}
	err = db.WithContext(ctx).Raw(`SELECT count(*) AS n,
			coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age
		FROM public.outbox WHERE relayed_at IS NULL`).Scan(&r).Error
	if err != nil {
		return 0, 0, fmt.Errorf("outbox backlog: %w", err)
	}
	return r.N, time.Duration(r.Age * float64(time.Second)), nil
}
