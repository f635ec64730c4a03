package orderchat

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/storage"
	"github.com/paotui/paotui/internal/store"
)

// Service runs the order chat and the delivery photos.
type Service struct {
	db     *store.DB
	keys   Ciphers
	files  storage.Store
	orders Orders
	notify Notifier
	log    *slog.Logger
	authz  Authorizer
}

// Option configures a Service.
type Option func(*Service)

// WithAuthorizer lets IsStaff answer; without it nobody is staff, so staff who are not a
// party of an order get ErrNotFound (closed by default).
func WithAuthorizer(a Authorizer) Option { return func(s *Service) { s.authz = a } }

// New builds the service. notify may be nil (nothing is published).
func New(db *store.DB, keys Ciphers, files storage.Store, orders Orders, notify Notifier, log *slog.Logger, opts ...Option) *Service {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{db: db, keys: keys, files: files, orders: orders, notify: notify, log: log}
	for _, o := range opts {
		o(s)
	}
	return s
}

// IsStaff reports whether userID is staff for the chat of tenant t (StaffPermission).
func (s *Service) IsStaff(ctx context.Context, t *tenancy.Tenant, userID string) (bool, error) {
	if s.authz == nil || userID == "" {
		return false, nil
	}
	ok, err := s.authz.Can(ctx, t, userID, StaffPermission)
	if err != nil {
		return false, fmt.Errorf("staff check: %w", err)
	}
	return ok, nil
}

// canonicalID returns the canonical form of a UUID, or ok false. uuid.Parse also accepts
// braces, URNs and upper case; only the canonical form may reach SQL and storage keys.
func canonicalID(id string) (string, bool) {
	u, err := uuid.Parse(id)
	if err != nil {
		return "", false
	}
	return u.String(), true
}

// party loads the order's parties and the caller's part in it. A caller with no part gets
// ErrNotFound, exactly like a missing order.
func (s *Service) party(ctx context.Context, t *tenancy.Tenant, userID, orderID string, staff bool) (Parties, string, string, error) {
	id, ok := canonicalID(orderID)
	if !ok {
		return Parties{}, "", "", ErrNotFound
	}
	p, err := s.orders.Parties(ctx, t, id)
	if err != nil {
		return Parties{}, "", "", err
	}
	kind := role(p, userID, staff)
	if kind == "" {
		return Parties{}, "", "", ErrNotFound
	}
	return p, kind, id, nil
}

// Send posts a message to the order's chat and returns it.
//
// The order's student and its current courier may write while the order is not terminal;
// that includes a delivered order until the student confirms it (or it is auto-confirmed),
// which is the hand-over window where "left it with the guard" is said. Once the order is
// finished the chat is closed to them (ErrChatClosed): follow-ups belong to support tickets,
// and a courier should not keep a line to a student after the errand. Staff (staff true, see
// StaffPermission) may write at any status. A courier the order was taken from is no longer a
// party. Everyone else gets ErrNotFound.
//
// A sender may post RateLimit messages per RateWindow in one order (*RateLimitError). The
// body is trimmed and must be 1 to MaxBodyRunes characters (ErrBodyInvalid); it is stored
// sealed with the tenant's cipher.
func (s *Service) Send(ctx context.Context, t *tenancy.Tenant, senderID string, staff bool, orderID, body string) (*Message, error) {
	body, err := cleanBody(body)
	if err != nil {
		return nil, err
	}
	p, kind, orderID, err := s.party(ctx, t, senderID, orderID, staff)
	if err != nil {
		return nil, err
	}
	if p.Terminal && kind != KindStaff {
		return nil, ErrChatClosed
	}
	cipher, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	sealed, err := cipher.Encrypt(bodyField, body)
	if err != nil {
		return nil, err
	}
	m := &Message{OrderID: orderID, SenderID: senderID, SenderKind: kind, Body: body}
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		if err := allow(tx, orderID, senderID); err != nil {
			return err
		}
		return tx.Raw(`INSERT INTO order_messages (order_id, sender_id, sender_kind, body_enc)
			VALUES (?, ?, ?, ?) RETURNING id, created_at`, orderID, senderID, kind, sealed).
			Row().Scan(&m.ID, &m.CreatedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("send message on order %s: %w", orderID, err)
	}
	m.CreatedAt = m.CreatedAt.UTC()
	if s.notify != nil {
		s.notify.MessagePosted(ctx, t, orderID, *m)
	}
	return m, nil
}

// allow counts the sender's messages in the order over the last RateWindow. The advisory lock
// (per order and sender, released at commit) makes concurrent sends from one sender take
// turns, so a burst cannot slip past the count; other senders are not held up.
func allow(tx *gorm.DB, orderID, senderID string) error {
	if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, "orderchat:"+orderID+":"+senderID).Error; err != nil {
		return err
	}
	var n int64
	var waitSecs float64
	err := tx.Raw(`SELECT count(*),
			coalesce(extract(epoch FROM min(created_at) + make_interval(secs => ?) - clock_timestamp()), 0)
		FROM order_messages
		WHERE order_id = ? AND sender_id = ? AND created_at > clock_timestamp() - make_interval(secs => ?)`,
		RateWindow.Seconds(), orderID, senderID, RateWindow.Seconds()).Row().Scan(&n, &waitSecs)
	if err != nil {
		return err
	}
	if n >= RateLimit {
		return &RateLimitError{Wait: max(time.Duration(waitSecs*float64(time.Second)), time.Second)}
	}
	return nil
}

// MaxListLimit is the most messages one List returns.
const MaxListLimit = 100

// Page is a slice of an order's chat.
type Page struct {
	Items []Message
	// More is true when messages after the last item exist.
	More bool
}

// List returns the order's messages with ids above after, oldest first, at most limit (1 to
// MaxListLimit). The order's student and current courier may read it at any status (it is
// their record of the errand); staff may read every chat, and each such read is written to
// the audit log, since bodies carry personal data. Everyone else gets ErrNotFound.
func (s *Service) List(ctx context.Context, t *tenancy.Tenant, viewerID string, staff bool, orderID string, after int64, limit int) (*Page, error) {
	if limit < 1 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	after = max(after, 0)
	_, kind, orderID, err := s.party(ctx, t, viewerID, orderID, staff)
	if err != nil {
		return nil, err
	}
	cipher, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	type row struct {
		ID         int64
		SenderID   string
		SenderKind string
		BodyEnc    []byte
		CreatedAt  time.Time
	}
	var rows []row
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		err := tx.Raw(`SELECT id, sender_id, sender_kind, body_enc, created_at FROM order_messages
			WHERE order_id = ? AND id > ? ORDER BY id LIMIT ?`, orderID, after, limit+1).Scan(&rows).Error
		if err != nil || kind != KindStaff {
			return err
		}
		return audit.Record(tx, audit.Entry{Actor: "user:" + viewerID, Action: "orderchat.read", Target: "order:" + orderID,
			Meta: map[string]any{"after": after, "messages": min(len(rows), limit)}})
	})
	if err != nil {
		return nil, fmt.Errorf("list messages of order %s: %w", orderID, err)
	}
	page := &Page{Items: make([]Message, 0, min(len(rows), limit)), More: len(rows) > limit}
	for _, r := range rows[:min(len(rows), limit)] {
		body, err := cipher.Decrypt(bodyField, r.BodyEnc)
		if err != nil {
			return nil, fmt.Errorf("message %d of order %s: %w", r.ID, orderID, err)
		}
		page.Items = append(page.Items, Message{ID: r.ID, OrderID: orderID, SenderID: r.SenderID, SenderKind: r.SenderKind,
			Body: body, CreatedAt: r.CreatedAt.UTC()})
	}
	return page, nil
}
