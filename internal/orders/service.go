package orders

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/paotui/paotui/internal/blueprint"
	"github.com/paotui/paotui/internal/catalog"
	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/pii"
	"github.com/paotui/paotui/internal/places"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/pricing"
	"github.com/paotui/paotui/internal/store"
)

// Errors of the orders domain; the HTTP layer gives each its own problem code.
var (
	ErrNotFound          = errors.New("order not found")
	ErrTaskTypeDisabled  = errors.New("this task type is not offered right now")
	ErrPlaceNotFound     = errors.New("place not found")
	ErrQuoteUsed         = errors.New("this quote was already used for another order")
	ErrQuoteStale        = errors.New("prices changed since this quote; ask for a new quote")
	ErrAlreadyReviewed   = errors.New("this order was already reviewed")
	ErrNotReviewable     = errors.New("only completed orders can be reviewed")
	ErrCancelNotFree     = errors.New("the order can no longer be cancelled by the student; contact support")
	ErrRefundTooLarge    = errors.New("refund is larger than what is left of the payment")
	ErrReasonRequired    = errors.New("a reason is required")
	ErrNotPaid           = errors.New("the order has not been paid")
	ErrBadDeliveryCode   = errors.New("wrong delivery code")
	ErrWrongWindow       = errors.New("time window must end after it starts and lie in the next 7 days")
	ErrPaymentMethod     = errors.New("unknown payment method")
	ErrConcurrentChange  = errors.New("the order changed meanwhile; reload and try again")
	ErrCourierNotAllowed = errors.New("only the order's courier can do this")
	ErrNoteInvalid       = errors.New("a note is 1 to 1000 characters")
	ErrPaymentExpired    = errors.New("the order's payment deadline passed; place the order again")
)

// Payments is what orders need of the payments domain. Calls that take tx run in the
// caller's tenant transaction, so the order change, the payment, its journal and outbox rows
// commit together.
type Payments interface {
	PayFromWallet(tx *gorm.DB, orderID, userID string, amount ledger.Money, idemKey string) error
	StartStripe(ctx context.Context, tx *gorm.DB, tenantID int64, orderID, userID string, amount ledger.Money, method, idemKey string) (clientSecret string, err error)
	// PublishableKey is the Stripe key the app confirms a client secret with; "" when none.
	PublishableKey() string
	MarkOffline(tx *gorm.DB, orderID, userID string, amount ledger.Money, actor, reason string) error
	Refund(ctx context.Context, tx *gorm.DB, orderID string, amount ledger.Money, reason, actor, idemKey string) error
}

// Ciphers gives a tenant's PII cipher.
type Ciphers interface {
	For(ctx context.Context, tenantID int64) (*pii.Cipher, error)
}

// Task types of the orders domain.
const (
	TaskExpire      = "orders:expire"
	TaskAutoConfirm = "orders:auto_confirm"
	TaskSweep       = "orders:sweep"
	// TaskStatusChanged is emitted for every transition (StatusChange); its handler
	// publishes it to the order's live channel.
	TaskStatusChanged = "orders:status_changed"
	// TaskPaymentSucceeded is the payments domain's "payments:succeeded".
	TaskPaymentSucceeded = "payments:succeeded"
)

// Service runs the order lifecycle.
type Service struct {
	db       *store.DB
	keys     Ciphers
	signer   *pricing.Signer
	quoteTTL time.Duration
	payments Payments
	outbox   *jobs.Outbox
	log      *slog.Logger
	now      func() time.Time
	// exportCap is MaxExport; tests lower it.
	exportCap int
	// The courier side (WithTrips).
	couriers Couriers
	photos   Photos
	grabs    grabLines
	limits   Limits
}

// Limits are the tenant's plan limits on new orders (the platform's plans implement them).
type Limits interface {
	AllowOrder(ctx context.Context, t *tenancy.Tenant) error
}

// WithLimits makes Create refuse orders past the tenant's plan limit.
func (s *Service) WithLimits(l Limits) *Service {
	s.limits = l
	return s
}

// New builds the service. signer issues and verifies quote tokens valid for quoteTTL.
func New(db *store.DB, keys Ciphers, signer *pricing.Signer, quoteTTL time.Duration, payments Payments, outbox *jobs.Outbox, log *slog.Logger) *Service {
	return &Service{db: db, keys: keys, signer: signer, quoteTTL: quoteTTL, payments: payments, outbox: outbox, log: log, now: time.Now,
		exportCap: MaxExport}
}

// QuoteRequest is what a student fills in before seeing a price.
type QuoteRequest struct {
	TaskType    string         `json:"taskType" minLength:"2" maxLength:"40"`
	Pickup      StopInput      `json:"pickup"`
	Dropoff     StopInput      `json:"dropoff"`
	Size        string         `json:"size,omitempty" maxLength:"40"`
	Minutes     int            `json:"minutes,omitempty" minimum:"0" maximum:"600"`
	Tip         int64          `json:"tip,omitempty" minimum:"0" maximum:"20000" doc:"Tip for the courier in 分; all of it goes to the courier."`
	Form        map[string]any `json:"form,omitempty" doc:"Values for the task type's form fields, by field key."`
	WindowStart *time.Time     `json:"windowStart,omitempty"`
	WindowEnd   *time.Time     `json:"windowEnd,omitempty"`
}

// StopInput names a place or drops a pin.
type StopInput struct {
	PlaceID string   `json:"placeId,omitempty" doc:"A campus place id (list-places)."`
	Lng     *float64 `json:"lng,omitempty" minimum:"-180" maximum:"180"`
	Lat     *float64 `json:"lat,omitempty" minimum:"-90" maximum:"90"`
	Label   string   `json:"label,omitempty" maxLength:"60" doc:"Name for a dropped pin."`
}

// Quote is a price with its signed token.
type Quote struct {
	pricing.Breakdown
	Token     string    `json:"token" doc:"Pass to create-order unchanged, with the same inputs."`
	ExpiresAt time.Time `json:"expiresAt"`
	Pickup    Stop      `json:"pickup"`
	Dropoff   Stop      `json:"dropoff"`
}

// prepared is a validated request: everything create-order stores.
type prepared struct {
	tt      catalog.TaskType
	pickup  Stop
	dropoff Stop
	form    map[string]any
	input   pricing.Input
	rules   *rules
}

func (s *Service) prepare(tx *gorm.DB, req QuoteRequest, at time.Time) (*prepared, error) {
	tt, err := catalog.Get(tx, req.TaskType)
	if errors.Is(err, catalog.ErrNotFound) || (err == nil && !tt.Enabled) {
		return nil, ErrTaskTypeDisabled
	}
	if err != nil {
		return nil, err
	}
	form, err := catalog.ValidateForm(tt, req.Form)
	if err != nil {
		return nil, err
	}
	pickup, err := resolveStop(tx, req.Pickup)
	if err != nil {
		return nil, fmt.Errorf("pickup: %w", err)
	}
	dropoff, err := resolveStop(tx, req.Dropoff)
	if err != nil {
		return nil, fmt.Errorf("dropoff: %w", err)
	}
	if req.WindowStart != nil || req.WindowEnd != nil {
		if req.WindowStart == nil || req.WindowEnd == nil || !req.WindowEnd.After(*req.WindowStart) ||
			req.WindowEnd.After(at.Add(7*24*time.Hour)) || req.WindowEnd.Before(at) {
			return nil, ErrWrongWindow
		}
	}
	r, err := loadRules(tx)
	if err != nil {
		return nil, err
	}
	rng, err := places.LoadRange(tx)
	if err != nil {
		return nil, err
	}
	hours, err := places.LoadHours(tx)
	if err != nil {
		return nil, err
	}
	if len(tt.ServiceHours) > 0 {
		week, err := places.ParseWeek(tt.ServiceHours)
		if err != nil {
			return nil, err
		}
		hours = &places.Hours{Loc: hours.Loc, Week: week, Closed: hours.Closed}
	}
	if err := places.CheckOrder(rng, hours, places.Point{Lng: pickup.Lng, Lat: pickup.Lat},
		places.Point{Lng: dropoff.Lng, Lat: dropoff.Lat}, at); err != nil {
		return nil, err
	}
	return &prepared{tt: tt, pickup: pickup, dropoff: dropoff, form: form, rules: r, input: pricing.Input{
		TaskType: tt.Key, Pickup: pickup.point(), Dropoff: dropoff.point(), Size: req.Size, Minutes: req.Minutes,
		Tip: pricing.Money(req.Tip), At: at,
	}}, nil
}

func resolveStop(tx *gorm.DB, in StopInput) (Stop, error) {
	if in.PlaceID != "" {
		p, err := places.GetPlace(tx, in.PlaceID)
		if errors.Is(err, places.ErrPlaceNotFound) || (err == nil && !p.Enabled) {
			return Stop{}, ErrPlaceNotFound
		}
		if err != nil {
			return Stop{}, err
		}
		id := p.ID
		return Stop{PlaceID: &id, Name: p.Name, Lng: p.At.Lng, Lat: p.At.Lat}, nil
	}
	if in.Lng == nil || in.Lat == nil {
		return Stop{}, places.ErrInvalidPoint
	}
	label := strings.TrimSpace(in.Label)
	if label == "" {
		label = "地图选点"
	}
	return Stop{Name: label, Lng: *in.Lng, Lat: *in.Lat}, nil
}

func (p *prepared) price() (pricing.Breakdown, error) {
	tp := p.tt.Pricing
	bpPricing := blueprint.Pricing{BaseFee: tp.BaseFee, IncludedMeters: tp.IncludedMeters, PerKmFee: tp.PerKmFee,
		MinFee: tp.MinFee, PerMinuteFee: tp.PerMinuteFee, SizeFees: tp.SizeFees}
	rule, surcharges, err := pricing.FromBlueprint(bpPricing, p.rules.Surcharges, p.rules.Detour)
	if err != nil {
		return pricing.Breakdown{}, err
	}
	return pricing.Quote(rule, surcharges, p.input, p.rules.Loc)
}

// Quote prices a request and signs the result.
func (s *Service) Quote(ctx context.Context, t *tenancy.Tenant, req QuoteRequest) (*Quote, error) {
	var q *Quote
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		p, err := s.prepare(tx, req, s.now())
		if err != nil {
			return err
		}
		b, err := p.price()
		if err != nil {
			return err
		}
		token, exp, err := s.signer.Issue(t.ID, p.input, b)
		if err != nil {
			return err
		}
		q = &Quote{Breakdown: b, Token: token, ExpiresAt: exp, Pickup: p.pickup, Dropoff: p.dropoff}
		return nil
	})
	return q, err
}

// Create places an order at exactly the quoted price. The token must be valid, unexpired and
// for the same inputs; each token makes one order (creating again with it returns that order
// to the same student, so a retried request is harmless).
func (s *Service) Create(ctx context.Context, t *tenancy.Tenant, studentID, token string, req QuoteRequest) (*Order, bool, error) {
	if s.limits != nil {
		if err := s.limits.AllowOrder(ctx, t); err != nil {
			return nil, false, err
		}
	}
	cipher, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, false, err
	}
	var (
		out     *Order
		created bool
	)
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		now := s.now()
		p, err := s.prepare(tx, req, now)
		if err != nil {
			return err
		}
		claims, err := s.signer.Verify(token, t.ID, p.input)
		if err != nil {
			return err
		}
		// Price the order as of the quote's moment, so time-of-day surcharges are the ones the
		// student saw; if the rules changed since (an admin edited prices), refuse rather than
		// charge anything but the quoted total.
		p.input.At = claims.ExpiresAt.Add(-s.quoteTTL)
		b, err := p.price()
		if err != nil {
			return err
		}
		if b.Total != claims.Total {
			return ErrQuoteStale
		}
		lines, _ := json.Marshal(b.Lines)
		formJSON, _ := json.Marshal(p.form)
		formEnc, err := cipher.Encrypt("orders.form", string(formJSON))
		if err != nil {
			return err
		}
		code, err := deliveryCode()
		if err != nil {
			return err
		}
		codeEnc, err := cipher.Encrypt("orders.delivery_code", code)
		if err != nil {
			return err
		}
		share := p.rules.CourierShareBP
		if p.tt.CourierShareBP != nil {
			share = *p.tt.CourierShareBP
		}
		r := &row{
			ID: uuid.NewString(), StudentID: studentID, TaskType: p.tt.Key, Status: AwaitingPayment,
			PickupPlaceID: p.pickup.PlaceID, PickupName: p.pickup.Name, PickupLng: p.pickup.Lng, PickupLat: p.pickup.Lat,
			DropoffPlaceID: p.dropoff.PlaceID, DropoffName: p.dropoff.Name, DropoffLng: p.dropoff.Lng, DropoffLat: p.dropoff.Lat,
			Size: req.Size, Minutes: req.Minutes, FormEnc: formEnc, WindowStart: req.WindowStart, WindowEnd: req.WindowEnd,
			DistanceM: int(claims.DistanceMeters), PriceLines: lines, Total: int64(claims.Total), Tip: req.Tip,
			CourierShareBP: share, QuoteID: claims.ID, PayBy: now.Add(p.rules.PaymentTimeout).UTC(),
			DeliveryCodeEnc: codeEnc, Version: 1, CreatedAt: now.UTC(), UpdatedAt: now.UTC(),
		}
		// One statement decides: a token already used returns its order to the same student
		// (a retried request) and is refused to anyone else.
		res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "quote_id"}}, DoNothing: true},
			clause.Returning{Columns: []clause.Column{{Name: "number"}}}).Omit("Number").Create(r)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var existing row
			if err := tx.Where("quote_id = ?", claims.ID).Take(&existing).Error; err != nil {
				return err
			}
			if existing.StudentID != studentID {
				return ErrQuoteUsed
			}
			out, err = s.view(cipher, &existing, ActorStudent)
			return err
		}
		if err := recordEvent(tx, r.ID, "create", "", AwaitingPayment, ActorStudent, studentID, ""); err != nil {
			return err
		}
		if err := s.outbox.Add(tx, jobs.Message{TenantID: t.ID, Type: TaskExpire, Data: orderRef{OrderID: r.ID},
			ProcessAt: r.PayBy.Add(time.Second)}); err != nil {
			return err
		}
		created = true
		out, err = s.view(cipher, r, ActorStudent)
		return err
	})
	return out, created, err
}

type orderRef struct {
	OrderID string `json:"orderId"`
}

func deliveryCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

func recordEvent(tx *gorm.DB, orderID, event string, from, to Status, actor Actor, actorID, reason string) error {
	var fromPtr any
	if from != "" {
		fromPtr = string(from)
	}
	return tx.Exec(`INSERT INTO order_events (order_id, event, from_status, to_status, actor_kind, actor_id, reason) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		orderID, event, fromPtr, string(to), string(actor), actorID, reason).Error
}

// update runs change on the order, locked, in one tenant transaction, and returns the order as
// actor then sees it. change gets the tenant's cipher for the order's sealed fields.
func (s *Service) update(ctx context.Context, t *tenancy.Tenant, orderID string, actor Actor,
	change func(tx *gorm.DB, r *row, cipher *pii.Cipher) error) (*Order, error) {
	cipher, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	var out *Order
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		r, err := lock(tx, orderID)
		if err != nil {
			return err
		}
		if err := change(tx, r, cipher); err != nil {
			return err
		}
		out, err = s.view(cipher, r, actor)
		return err
	})
	return out, err
}

// lock loads an order for update inside tx.
func lock(tx *gorm.DB, id string) (*row, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, ErrNotFound
	}
	var r row
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &r, err
}

// move applies event to the locked order r: checks the machine, updates status and the
// matching timestamp plus extra columns, records the event, and publishes the change through
// the outbox in the same transaction.
func (s *Service) move(tx *gorm.DB, t *tenancy.Tenant, r *row, event Event, actor Actor, actorID, reason string, extra map[string]any, now time.Time) error {
	to, err := Next(r.Status, event, actor)
	if err != nil {
		return err
	}
	set := map[string]any{"status": string(to), "updated_at": now, "version": gorm.Expr("version + 1")}
	switch to {
	case AwaitingCourier:
		if r.PaidAt == nil {
			set["paid_at"] = now
		}
	case Accepted:
		set["accepted_at"] = now
	case PickedUp:
		set["picked_up_at"] = now
	case Delivered:
		set["delivered_at"] = now
	case Completed:
		set["completed_at"] = now
	case Cancelled, Expired:
		set["cancelled_at"] = now
	}
	for k, v := range extra {
		set[k] = v
	}
	res := tx.Model(&row{}).Where("id = ? AND status = ?", r.ID, string(r.Status)).Updates(set)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return ErrConcurrentChange
	}
	if err := s.recordMove(tx, t, r.ID, event, r.Status, to, actor, actorID, reason, now); err != nil {
		return err
	}
	r.Status = to
	return nil
}

// recordMove writes an order's timeline event and publishes the change through the outbox,
// in the caller's transaction.
func (s *Service) recordMove(tx *gorm.DB, t *tenancy.Tenant, orderID string, event Event, from, to Status, actor Actor, actorID, reason string, now time.Time) error {
	if err := recordEvent(tx, orderID, string(event), from, to, actor, actorID, reason); err != nil {
		return err
	}
	return s.outbox.Add(tx, jobs.Message{TenantID: t.ID, Type: TaskStatusChanged,
		Data: StatusChange{OrderID: orderID, Event: event, From: from, To: to, At: now}})
}

// StatusChange is published for every transition (ids and statuses only).
type StatusChange struct {
	OrderID string    `json:"orderId"`
	Event   Event     `json:"event"`
	From    Status    `json:"from"`
	To      Status    `json:"to"`
	At      time.Time `json:"at"`
}

// PayRequest picks how to pay.
type PayRequest struct {
	Method string `json:"method" enum:"wallet,card,alipay,wechat_pay" doc:"wallet pays from balance at once; the others start a Stripe payment confirmed by webhook."`
}

// PayResult says what happened: paid at once (wallet) or a Stripe client secret to confirm.
type PayResult struct {
	Order        *Order `json:"order"`
	ClientSecret string `json:"clientSecret,omitempty" doc:"Stripe PaymentIntent client secret for the app to confirm."`
	// PublishableKey comes with a client secret: Stripe.js needs both to confirm the payment.
	PublishableKey string `json:"publishableKey,omitempty" doc:"Stripe publishable key to confirm the client secret with (Stripe.js); absent when the server has none configured."`
}

// Pay pays an order. Wallet payments capture at once and move the order to awaiting_courier;
// Stripe payments start a PaymentIntent, and the webhook moves the order when it succeeds.
// An order whose payment deadline has passed is expired (committed) and ErrPaymentExpired
// returned, even if the expire task has not run yet.
func (s *Service) Pay(ctx context.Context, t *tenancy.Tenant, studentID, orderID string, req PayRequest, idemKey string) (*PayResult, error) {
	cipher, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	out := &PayResult{}
	lapsed := false
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		r, err := lock(tx, orderID)
		if err != nil {
			return err
		}
		if r.StudentID != studentID {
			return ErrNotFound
		}
		if _, err := Next(r.Status, EventPay, ActorSystem); err != nil {
			return err
		}
		// The expire task and the sweeper may run a little after the deadline; a payment in
		// that gap must not revive the order. Expire it here instead, and commit that.
		if now := s.now().UTC(); !now.Before(r.PayBy) {
			lapsed = true
			return s.move(tx, t, r, EventExpire, ActorSystem, "", "payment deadline passed", nil, now)
		}
		if idemKey == "" {
			idemKey = "order:" + r.ID
		}
		switch req.Method {
		case "wallet":
			if err := s.payments.PayFromWallet(tx, r.ID, studentID, ledger.Money(r.Total), idemKey); err != nil {
				return err
			}
			if err := s.markPaid(tx, t, r, "wallet"); err != nil {
				return err
			}
		case "card", "alipay", "wechat_pay":
			secret, err := s.payments.StartStripe(ctx, tx, t.ID, r.ID, studentID, ledger.Money(r.Total), req.Method, idemKey)
			if err != nil {
				return err
			}
			out.ClientSecret, out.PublishableKey = secret, s.payments.PublishableKey()
		default:
			return ErrPaymentMethod
		}
		out.Order, err = s.view(cipher, r, ActorStudent)
		return err
	})
	if err != nil {
		return nil, err
	}
	if lapsed {
		return nil, ErrPaymentExpired
	}
	return out, nil
}

func (s *Service) markPaid(tx *gorm.DB, t *tenancy.Tenant, r *row, provider string) error {
	now := s.now().UTC()
	if err := s.move(tx, t, r, EventPay, ActorSystem, "", provider, map[string]any{
		"paid_amount": r.Total, "payment_provider": provider,
	}, now); err != nil {
		return err
	}
	r.PaidAmount, r.PaymentProvider, r.PaidAt = r.Total, &provider, &now
	return nil
}

// PaymentSucceeded moves an order whose Stripe (or offline) payment succeeded to
// awaiting_courier, in the payments domain's transaction. An order no longer awaiting payment
// (expired or cancelled meanwhile) is left alone; the caller refunds.
func (s *Service) PaymentSucceeded(tx *gorm.DB, t *tenancy.Tenant, orderID, provider string) (moved bool, err error) {
	r, err := lock(tx, orderID)
	if err != nil {
		return false, err
	}
	if r.Status != AwaitingPayment {
		return false, nil
	}
	return true, s.markPaid(tx, t, r, provider)
}

// MarkPaidOffline records cash or another offline payment taken by staff.
func (s *Service) MarkPaidOffline(ctx context.Context, t *tenancy.Tenant, orderID, actor, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return ErrReasonRequired
	}
	return s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		r, err := lock(tx, orderID)
		if err != nil {
			return err
		}
		if _, err := Next(r.Status, EventPay, ActorStaff); err != nil {
			return err
		}
		if err := s.payments.MarkOffline(tx, r.ID, r.StudentID, ledger.Money(r.Total), actor, reason); err != nil {
			return err
		}
		return s.markPaid(tx, t, r, "offline")
	})
}

// Cancel cancels an order. Students may cancel their own order for free up to the tenant's
// free_cancel_until status; staff may cancel whatever the machine allows. Whatever was paid
// goes back through the provider it came from, in the same transaction.
func (s *Service) Cancel(ctx context.Context, t *tenancy.Tenant, actor Actor, actorID, orderID, reason string) (*Order, error) {
	return s.update(ctx, t, orderID, actor, func(tx *gorm.DB, r *row, cipher *pii.Cipher) error {
		if actor == ActorStudent {
			if r.StudentID != actorID {
				return ErrNotFound
			}
			rules, err := loadRules(tx)
			if err != nil {
				return err
			}
			if _, err := Next(r.Status, EventCancel, actor); err == nil && !rules.freeToCancel(r.Status) {
				return ErrCancelNotFree
			}
		}
		if actor == ActorStaff && strings.TrimSpace(reason) == "" {
			return ErrReasonRequired
		}
		now := s.now().UTC()
		if err := s.move(tx, t, r, EventCancel, actor, actorID, reason, map[string]any{"cancel_reason": reason}, now); err != nil {
			return err
		}
		if left := r.PaidAmount - r.RefundedAmount; left > 0 {
			if err := s.refund(ctx, tx, t, r, left, "cancelled: "+reason, actor, actorID, "cancel:"+r.ID, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// refund sends amount back and records it on the order; a full refund of a cancelled or
// settled-by-dispute order moves it to refunded. by and byID are who asked: staff refunding
// or cancelling, or a student cancelling, whose refund the timeline shows as the system's
// (students cannot refund).
func (s *Service) refund(ctx context.Context, tx *gorm.DB, t *tenancy.Tenant, r *row, amount int64, reason string, by Actor, byID, idemKey string, now time.Time) error {
	if amount <= 0 || amount > r.PaidAmount-r.RefundedAmount {
		return ErrRefundTooLarge
	}
	if err := s.payments.Refund(ctx, tx, r.ID, ledger.Money(amount), reason, string(by)+":"+byID, idemKey); err != nil {
		return err
	}
	r.RefundedAmount += amount
	if err := tx.Model(&row{}).Where("id = ?", r.ID).Updates(map[string]any{"refunded_amount": r.RefundedAmount, "updated_at": now}).Error; err != nil {
		return err
	}
	if r.RefundedAmount == r.PaidAmount {
		if by != ActorStaff {
			by, byID = ActorSystem, ""
		}
		if _, err := Next(r.Status, EventRefund, by); err == nil {
			return s.move(tx, t, r, EventRefund, by, byID, reason, nil, now)
		}
	}
	return nil
}

// Refund returns part or all of an order's payment (staff), with a reason.
func (s *Service) Refund(ctx context.Context, t *tenancy.Tenant, actorID, orderID string, amount int64, reason, idemKey string) (*Order, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, ErrReasonRequired
	}
	return s.update(ctx, t, orderID, ActorStaff, func(tx *gorm.DB, r *row, cipher *pii.Cipher) error {
		if r.PaidAmount == 0 {
			return ErrNotPaid
		}
		if err := refundable(r.Status); err != nil {
			// Settled: the money sits with the courier and the tenant, not in escrow. Refunds
			// of completed orders come from the tenant's revenue; that flow (and clawbacks)
			// belongs to the disputes work. The code stays refund_too_large, as shipped.
			return fmt.Errorf("%w: %w", ErrRefundTooLarge, err)
		}
		if idemKey == "" {
			idemKey = fmt.Sprintf("refund:%s:%d:%d", r.ID, r.RefundedAmount, amount)
		}
		if err := s.refund(ctx, tx, t, r, amount, reason, ActorStaff, actorID, idemKey, s.now().UTC()); err != nil {
			return err
		}
		return nil
	})
}

// Confirm completes a delivered order (the student, or the system after the tenant's
// auto-confirm delay) and settles it: what is left in escrow is split between the courier and
// the tenant by the order's commission split, and the tip goes wholly to the courier.
func (s *Service) Confirm(ctx context.Context, t *tenancy.Tenant, actor Actor, actorID, orderID string) (*Order, error) {
	return s.update(ctx, t, orderID, actor, func(tx *gorm.DB, r *row, cipher *pii.Cipher) error {
		if actor == ActorStudent && r.StudentID != actorID {
			return ErrNotFound
		}
		if err := s.move(tx, t, r, EventConfirm, actor, actorID, "", nil, s.now().UTC()); err != nil {
			return err
		}
		if err := settle(tx, r); err != nil {
			return err
		}
		return nil
	})
}

// settle empties the order's escrow. The tip is paid out first and in full (capped by what is
// left after refunds); the rest is split with ledger.Split, which rounds the courier's share to
// the nearest 分 (halves to even) and gives the tenant the remainder, so no cent is lost.
func settle(tx *gorm.DB, r *row) error {
	held := ledger.Money(r.PaidAmount - r.RefundedAmount)
	if held <= 0 || r.CourierID == nil {
		return nil
	}
	tip := min(ledger.Money(r.Tip), held)
	courier, tenant := ledger.Split(held-tip, r.CourierShareBP)
	entries := []ledger.Entry{{Account: ledger.Escrow(r.ID), Amount: -held}}
	if courier+tip > 0 {
		entries = append(entries, ledger.Entry{Account: ledger.Earnings(*r.CourierID), Amount: courier + tip})
	}
	if tenant > 0 {
		entries = append(entries, ledger.Entry{Account: ledger.Revenue(), Amount: tenant})
	}
	_, err := ledger.Post(tx, ledger.Journal{Kind: ledger.Settlement, Ref: "order:" + r.ID, IdempotencyKey: "settle:" + r.ID,
		Actor: "system", Memo: "order completed", Entries: entries})
	if errors.Is(err, ledger.ErrDuplicate) {
		return nil
	}
	return err
}

// ReviewRequest rates the courier of a completed order.
type ReviewRequest struct {
	Rating  int      `json:"rating" minimum:"1" maximum:"5"`
	Tags    []string `json:"tags,omitempty" maxItems:"8"`
	Comment string   `json:"comment,omitempty" maxLength:"500"`
}

// Review records the student's one review of a completed order.
func (s *Service) Review(ctx context.Context, t *tenancy.Tenant, studentID, orderID string, req ReviewRequest) error {
	tags := make([]string, 0, len(req.Tags))
	for _, tag := range req.Tags {
		if tag = strings.TrimSpace(tag); tag != "" && len([]rune(tag)) <= 20 {
			tags = append(tags, tag)
		}
	}
	return s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		r, err := lock(tx, orderID)
		if err != nil {
			return err
		}
		if r.StudentID != studentID {
			return ErrNotFound
		}
		if r.Status != Completed {
			return ErrNotReviewable
		}
		res := tx.Exec(`INSERT INTO order_reviews (order_id, student_id, courier_id, rating, tags, comment) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (order_id) DO NOTHING`, r.ID, studentID, r.CourierID, req.Rating, pqArray(tags), strings.TrimSpace(req.Comment))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrAlreadyReviewed
		}
		return nil
	})
}

func pqArray(s []string) string {
	b, _ := json.Marshal(s)
	return "{" + strings.TrimSuffix(strings.TrimPrefix(string(b), "["), "]") + "}"
}

// Get returns an order as actor sees it: students only their own; the delivery code only to
// the student.
func (s *Service) Get(ctx context.Context, t *tenancy.Tenant, actor Actor, actorID, orderID string) (*Order, []EventRow, error) {
	cipher, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, nil, err
	}
	var (
		out    *Order
		events []EventRow
	)
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		out, events, err = s.get(tx, cipher, actor, actorID, orderID)
		return err
	})
	return out, events, err
}

func (s *Service) get(tx *gorm.DB, cipher *pii.Cipher, actor Actor, actorID, orderID string) (*Order, []EventRow, error) {
	if _, err := uuid.Parse(orderID); err != nil {
		return nil, nil, ErrNotFound
	}
	var r row
	if err := tx.Where("id = ?", orderID).Take(&r).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, ErrNotFound
	} else if err != nil {
		return nil, nil, err
	}
	if actor == ActorStudent && r.StudentID != actorID {
		return nil, nil, ErrNotFound
	}
	if actor == ActorCourier && (r.CourierID == nil || *r.CourierID != actorID) {
		return nil, nil, ErrNotFound
	}
	var events []EventRow
	if err := tx.Table("order_events").Where("order_id = ?", r.ID).Order("id").Find(&events).Error; err != nil {
		return nil, nil, err
	}
	o, err := s.view(cipher, &r, actor)
	if err == nil && actor == ActorCourier {
		o.StudentPhone, err = studentPhone(tx, cipher, r.StudentID)
	}
	return o, events, err
}

// studentPhone is the student's phone masked for their courier (138****0000): enough to
// recognise a call, not to keep. Messages go through the order's chat.
func studentPhone(tx *gorm.DB, cipher *pii.Cipher, studentID string) (string, error) {
	var enc []byte
	if err := tx.Raw(`SELECT phone_enc FROM users WHERE id = ?`, studentID).Row().Scan(&enc); err != nil {
		return "", err
	}
	phone, err := cipher.Decrypt("users.phone", enc)
	if err != nil {
		return "", err
	}
	return pii.MaskPhone(phone), nil
}

// Detail is an order as staff see it: the order, its timeline, every journal that moved its
// money (payment, refunds, settlement) and the staff notes.
type Detail struct {
	*Order
	Timeline []EventRow `json:"timeline"`
	Journals []Journal  `json:"journals" doc:"The order's money movements in the order they were posted."`
	Notes    []Note     `json:"notes" doc:"Staff notes, oldest first; never shown to the student or courier."`
}

// Journal is one ledger journal of an order, for staff.
type Journal struct {
	ID        string         `json:"id"`
	Kind      string         `json:"kind" doc:"payment, refund, settlement, ..."`
	Memo      string         `json:"memo"`
	Actor     string         `json:"actor"`
	CreatedAt time.Time      `json:"createdAt"`
	Entries   []JournalEntry `json:"entries"`
}

// JournalEntry is one line of a Journal: money into (positive) or out of an account.
type JournalEntry struct {
	Account string `json:"account" doc:"kind:owner, e.g. escrow:<order id> or wallet:<user id>."`
	Amount  int64  `json:"amount" doc:"分; positive when money came into the account."`
}

// Ref is the ledger ref of every journal posted for an order: its payment, its refunds (both
// posted by the payments domain) and its settlement.
func Ref(orderID string) string { return "order:" + orderID }

// Detail returns an order with its timeline, journals and notes, for staff.
func (s *Service) Detail(ctx context.Context, t *tenancy.Tenant, orderID string) (*Detail, error) {
	cipher, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	d := &Detail{}
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		if d.Order, d.Timeline, err = s.get(tx, cipher, ActorStaff, "", orderID); err != nil {
			return err
		}
		posted, err := ledger.JournalsByRef(tx, Ref(orderID))
		if err != nil {
			return err
		}
		d.Journals = make([]Journal, 0, len(posted))
		for _, p := range posted {
			j := Journal{ID: p.ID, Kind: string(p.Kind), Memo: p.Memo, Actor: p.Actor, CreatedAt: p.CreatedAt,
				Entries: make([]JournalEntry, 0, len(p.Entries))}
			for _, e := range p.Entries {
				j.Entries = append(j.Entries, JournalEntry{Account: e.Account.String(), Amount: int64(e.Amount)})
			}
			d.Journals = append(d.Journals, j)
		}
		d.Notes, err = listNotes(tx, orderID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Note is a staff note on an order.
type Note struct {
	ID        int64     `json:"id"`
	AuthorID  string    `json:"authorId" doc:"The staff member who wrote it."`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"createdAt"`
}

// maxNote matches the length CHECK on order_notes.note (characters).
const maxNote = 1000

// AddNote records a staff note on an order. The note is trimmed and must keep 1 to 1000
// characters (ErrNoteInvalid); an unknown order is ErrNotFound.
func (s *Service) AddNote(ctx context.Context, t *tenancy.Tenant, authorID, orderID, note string) (*Note, error) {
	note = strings.TrimSpace(note)
	if n := utf8.RuneCountInString(note); n == 0 || n > maxNote {
		return nil, ErrNoteInvalid
	}
	if _, err := uuid.Parse(orderID); err != nil {
		return nil, ErrNotFound
	}
	out := &Note{}
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&row{}).Where("id = ?", orderID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		return tx.Raw(`INSERT INTO order_notes (order_id, author, note) VALUES (?, ?, ?)
			RETURNING id, author AS author_id, note, created_at`, orderID, authorID, note).Scan(out).Error
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListNotes returns an order's staff notes, oldest first.
func (s *Service) ListNotes(ctx context.Context, t *tenancy.Tenant, orderID string) ([]Note, error) {
	if _, err := uuid.Parse(orderID); err != nil {
		return nil, ErrNotFound
	}
	var out []Note
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var err error
		out, err = listNotes(tx, orderID)
		return err
	})
	return out, err
}

func listNotes(tx *gorm.DB, orderID string) ([]Note, error) {
	out := []Note{}
	err := tx.Raw(`SELECT id, author AS author_id, note, created_at FROM order_notes WHERE order_id = ? ORDER BY id`, orderID).
		Scan(&out).Error
	return out, err
}

// ListFilter narrows order lists.
type ListFilter struct {
	StudentID string
	CourierID string
	Status    []Status
	TaskType  string
	From, To  *time.Time
	MinTotal  *int64
	MaxTotal  *int64
	Limit     int
	Offset    int
}

// apply narrows q (a query on orders) to the orders f selects; Limit and Offset are the
// caller's to apply.
func (f ListFilter) apply(q *gorm.DB) *gorm.DB {
	if f.StudentID != "" {
		q = q.Where("student_id = ?", f.StudentID)
	}
	if f.CourierID != "" {
		q = q.Where("courier_id = ?", f.CourierID)
	}
	if len(f.Status) > 0 {
		q = q.Where("status IN ?", f.Status)
	}
	if f.TaskType != "" {
		q = q.Where("task_type = ?", f.TaskType)
	}
	if f.From != nil {
		q = q.Where("created_at >= ?", *f.From)
	}
	if f.To != nil {
		q = q.Where("created_at < ?", *f.To)
	}
	if f.MinTotal != nil {
		q = q.Where("total >= ?", *f.MinTotal)
	}
	if f.MaxTotal != nil {
		q = q.Where("total <= ?", *f.MaxTotal)
	}
	return q
}

// List returns orders newest first with the total count, as actor sees them.
func (s *Service) List(ctx context.Context, t *tenancy.Tenant, actor Actor, f ListFilter) ([]Order, int64, error) {
	cipher, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, 0, err
	}
	var (
		rows  []row
		total int64
	)
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		q := f.apply(tx.Model(&row{}))
		if err := q.Count(&total).Error; err != nil {
			return err
		}
		return q.Order("created_at DESC, id").Limit(f.Limit).Offset(f.Offset).Find(&rows).Error
	})
	if err != nil {
		return nil, 0, err
	}
	out := make([]Order, 0, len(rows))
	for i := range rows {
		o, err := s.view(cipher, &rows[i], actor)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *o)
	}
	return out, total, nil
}

func (s *Service) view(c *pii.Cipher, r *row, actor Actor) (*Order, error) {
	o := &Order{
		ID: r.ID, Number: fmt.Sprintf("P%06d", r.Number), StudentID: r.StudentID, CourierID: r.CourierID, TaskType: r.TaskType,
		Status: r.Status, Exception: r.Exception, Size: r.Size, Minutes: r.Minutes, WindowStart: r.WindowStart, WindowEnd: r.WindowEnd,
		Pickup:         Stop{PlaceID: r.PickupPlaceID, Name: r.PickupName, Lng: r.PickupLng, Lat: r.PickupLat},
		Dropoff:        Stop{PlaceID: r.DropoffPlaceID, Name: r.DropoffName, Lng: r.DropoffLng, Lat: r.DropoffLat},
		DistanceMeters: r.DistanceM, Total: pricing.Money(r.Total), Tip: pricing.Money(r.Tip),
		PaidAmount: pricing.Money(r.PaidAmount), RefundedAmount: pricing.Money(r.RefundedAmount), PaymentProvider: r.PaymentProvider,
		PayBy: r.PayBy, PaidAt: r.PaidAt, AcceptedAt: r.AcceptedAt, PickedUpAt: r.PickedUpAt, DeliveredAt: r.DeliveredAt,
		CompletedAt: r.CompletedAt, CancelledAt: r.CancelledAt, CancelReason: r.CancelReason, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		ProofPhotoID: r.ProofPhotoID,
		Allowed:      Allowed(r.Status, actor),
	}
	if err := json.Unmarshal(r.PriceLines, &o.Lines); err != nil {
		return nil, fmt.Errorf("order %s price lines: %w", r.ID, err)
	}
	var err error
	if o.Form, err = decodeForm(c, r); err != nil {
		return nil, err
	}
	if actor == ActorStudent && len(r.DeliveryCodeEnc) > 0 {
		if o.DeliveryCode, err = c.Decrypt("orders.delivery_code", r.DeliveryCodeEnc); err != nil {
			return nil, err
		}
	}
	if o.Allowed == nil {
		o.Allowed = []Event{}
	}
	return o, nil
}

// decodeForm opens the form values the student typed.
func decodeForm(c *pii.Cipher, r *row) (map[string]any, error) {
	formJSON, err := c.Decrypt("orders.form", r.FormEnc)
	if err != nil {
		return nil, err
	}
	var form map[string]any
	if err := json.Unmarshal([]byte(formJSON), &form); err != nil {
		return nil, fmt.Errorf("order %s form: %w", r.ID, err)
	}
	return form, nil
}

// Exceptions a flagged order can carry.
var Exceptions = []string{"late", "cant_find_item", "shop_closed", "student_unreachable", "item_damaged", "item_lost", "other"}

// ErrBadException is returned for an unknown exception kind or a missing note.
var ErrBadException = errors.New("unknown exception, or the note is missing")

// Flag sets (or, with exception "", clears) an order's exception flag with a reason. The
// status does not change: handling the exception (reassign, cancel and refund, resume) is a
// separate, recorded step. The flag is recorded as an order event and published.
func (s *Service) Flag(ctx context.Context, t *tenancy.Tenant, actor Actor, actorID, orderID, exception, note string) (*Order, error) {
	return s.flag(ctx, t, actor, actorID, orderID, exception, note, nil)
}

// flag is Flag with an extra check on the locked order (the courier must be the order's).
func (s *Service) flag(ctx context.Context, t *tenancy.Tenant, actor Actor, actorID, orderID, exception, note string, check func(*row) error) (*Order, error) {
	note = strings.TrimSpace(note)
	if exception != "" && (!slices.Contains(Exceptions, exception) || note == "" || len([]rune(note)) > 500) {
		return nil, ErrBadException
	}
	return s.update(ctx, t, orderID, actor, func(tx *gorm.DB, r *row, cipher *pii.Cipher) error {
		if check != nil {
			if err := check(r); err != nil {
				return err
			}
		}
		if r.Status.Terminal() {
			return &TransitionError{From: r.Status, Event: "flag", Actor: actor}
		}
		var exc, nt any
		event := "clear_exception"
		if exception != "" {
			exc, nt, event = exception, note, "flag_exception"
		}
		now := s.now().UTC()
		if err := tx.Model(&row{}).Where("id = ?", r.ID).Updates(map[string]any{"exception": exc, "exception_note": nt, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := s.recordMove(tx, t, r.ID, Event(event), r.Status, r.Status, actor, actorID, strings.TrimSpace(exception+" "+note), now); err != nil {
			return err
		}
		if exception != "" {
			r.Exception = &exception
		} else {
			r.Exception = nil
		}
		return nil
	})
}
