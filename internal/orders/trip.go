package orders

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/pii"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/settings"
)

// Errors of the courier's side of an order.
var (
	ErrAlreadyTaken       = errors.New("another courier already took this order")
	ErrOrderCancelled     = errors.New("the order was cancelled and is no longer available")
	ErrGrabClosed         = errors.New("this order is dispatched, not grabbed")
	ErrCourierAtCapacity  = errors.New("you already carry as many orders as this service allows at once")
	ErrPickupCode         = errors.New("wrong pickup code")
	ErrDeliveryCodeLocked = errors.New("too many wrong delivery codes; deliver with a photo or contact support")
	ErrProofRequired      = errors.New("give the student's delivery code or a photo")
	ErrPhotoDeliveryOff   = errors.New("this service does not accept a photo instead of the delivery code")
	ErrCourierRequired    = errors.New("name the courier to assign")
	ErrBadResolution      = errors.New("unknown resolution")
)

// MaxDeliveryAttempts is how many wrong delivery codes a courier may enter for one order.
// Six digits are a million codes; five tries keep guessing hopeless while forgiving typos.
const MaxDeliveryAttempts = 5

// Couriers is what orders need of the couriers domain: the courier gate.
type Couriers interface {
	// LockEligible locks the courier's profile row for the rest of tx and checks the gate
	// (approved, not suspended, online, credit ≥ minCredit). The lock serializes one
	// courier's concurrent grabs, so their active-order count read afterwards is exact.
	LockEligible(tx *gorm.DB, courierID string, minCredit int) error
	// CheckApproved checks the courier is approved and not suspended, without locking.
	CheckApproved(tx *gorm.DB, courierID string) error
	// Touch records that the courier took or finished an order (dispatch's idle time).
	Touch(tx *gorm.DB, courierID string, at time.Time) error
}

// Photos checks a delivery photo inside the deliver transaction.
type Photos interface {
	PhotoForDelivery(tx *gorm.DB, orderID, photoID, courierID string) error
}

// WithTrips gives the service the couriers gate and the delivery photos (the courier side of
// an order). Without them every courier operation fails closed.
func (s *Service) WithTrips(c Couriers, p Photos) *Service {
	s.couriers, s.photos = c, p
	return s
}

// take is the single conditional update that gives an order waiting for a courier to
// courierID: it succeeds only if the order is still waiting, (in hybrid mode) still inside its
// grab window, and the courier carries fewer than max orders. The courier's profile row must
// already be locked (Couriers.LockEligible) so the count cannot race the courier's own other
// grabs. Concurrent takers of one order queue on the order's row lock; when the winner
// commits, the others' WHERE no longer holds and they get no row — there is no read-then-
// write window in which two couriers could both win.
func (s *Service) take(tx *gorm.DB, orderID, courierID string, max int, windowCutoff *time.Time, now time.Time) (*row, error) {
	var rows []row
	err := tx.Raw(`UPDATE orders SET status = 'accepted', courier_id = ?, accepted_at = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND status = 'awaiting_courier'
		  AND (?::timestamptz IS NULL OR paid_at > ?::timestamptz)
		  AND (SELECT count(*) FROM orders mine WHERE mine.courier_id = ? AND mine.status IN ('accepted', 'picked_up')) < ?
		RETURNING *`,
		courierID, now, now, orderID, windowCutoff, windowCutoff, courierID, max).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	if len(rows) == 1 {
		return &rows[0], nil
	}
	return nil, s.whyNotTaken(tx, orderID, courierID, windowCutoff)
}

// whyNotTaken explains a take that changed nothing, for the caller's problem code.
func (s *Service) whyNotTaken(tx *gorm.DB, orderID, courierID string, windowCutoff *time.Time) error {
	var cur []struct {
		Status    Status
		CourierID *string
		PaidAt    *time.Time
	}
	if err := tx.Raw(`SELECT status, courier_id, paid_at FROM orders WHERE id = ?`, orderID).Scan(&cur).Error; err != nil {
		return err
	}
	if len(cur) == 0 {
		return ErrNotFound
	}
	c := cur[0]
	switch c.Status {
	case AwaitingPayment:
		return ErrNotPaid
	case Cancelled, Expired, Refunded:
		return ErrOrderCancelled
	case AwaitingCourier:
		if windowCutoff != nil && c.PaidAt != nil && !c.PaidAt.After(*windowCutoff) {
			return ErrGrabClosed
		}
		return ErrCourierAtCapacity
	default:
		return ErrAlreadyTaken
	}
}

// accepted records a successful take: the timeline event, the live status change, and the
// courier's last activity.
func (s *Service) accepted(tx *gorm.DB, t *tenancy.Tenant, r *row, actor Actor, actorID, reason string, now time.Time) error {
	if err := s.recordMove(tx, t, r.ID, EventAccept, AwaitingCourier, Accepted, actor, actorID, reason, now); err != nil {
		return err
	}
	return s.couriers.Touch(tx, *r.CourierID, now)
}

// Grab takes an order from the task hall. The winner among concurrent grabbers is decided by
// one conditional update; the others get ErrAlreadyTaken. The gate (approved, online, credit)
// and the concurrent-orders limit are checked in the same transaction, under the courier's
// profile lock. A repeated grab by the winner returns the order again.
//
// Within one process, grabs of the same order queue up (grabLines): the first runs its
// transaction and, once the order is decided, the others are answered order_already_taken
// without touching PostgreSQL. The database's conditional update stays the only judge (other
// replicas, later grabs); the queue only spares a burst of losers a transaction each, which on
// a small machine is the difference between a few and a few hundred milliseconds.
func (s *Service) Grab(ctx context.Context, t *tenancy.Tenant, courierID, orderID string) (*Order, error) {
	if s.couriers == nil {
		return nil, ErrCourierNotAllowed
	}
	if _, err := uuid.Parse(orderID); err != nil {
		return nil, ErrNotFound
	}
	key := fmt.Sprintf("%d:%s", t.ID, orderID)
	line := s.grabs.join(key)
	defer s.grabs.leave(key, line)
	line.mu.Lock()
	defer line.mu.Unlock()
	if line.decided != nil && line.winner != courierID {
		return nil, line.decided
	}
	o, err := s.grab(ctx, t, courierID, orderID)
	switch {
	case err == nil:
		line.decided, line.winner = ErrAlreadyTaken, courierID
	case errors.Is(err, ErrAlreadyTaken), errors.Is(err, ErrOrderCancelled), errors.Is(err, ErrNotFound):
		line.decided = err
	}
	return o, err
}

// grabLines queues this process's concurrent grabs per order (see Grab).
type grabLines struct {
	mu    sync.Mutex
	lines map[string]*grabLine
}

// grabLine is one order's queue: decided is the answer for everyone after the first decisive
// grab (taken, cancelled, gone); it lives only while someone is in the queue.
type grabLine struct {
	mu      sync.Mutex
	users   int
	decided error
	winner  string
}

func (g *grabLines) join(key string) *grabLine {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.lines == nil {
		g.lines = map[string]*grabLine{}
	}
	l := g.lines[key]
	if l == nil {
		l = &grabLine{}
		g.lines[key] = l
	}
	l.users++
	return l
}

func (g *grabLines) leave(key string, l *grabLine) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if l.users--; l.users == 0 {
		delete(g.lines, key)
	}
}

// grab is Grab's transaction.
func (s *Service) grab(ctx context.Context, t *tenancy.Tenant, courierID, orderID string) (*Order, error) {
	cipher, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	var out *Order
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		b, err := settings.Load(tx)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		var cutoff *time.Time
		switch b.DispatchMode {
		case "dispatch":
			return ErrGrabClosed
		case "hybrid":
			w, _ := time.ParseDuration(b.GrabWindow)
			c := now.Add(-w)
			cutoff = &c
		}
		if err := s.couriers.LockEligible(tx, courierID, b.MinCredit); err != nil {
			return err
		}
		r, err := s.take(tx, orderID, courierID, b.MaxActiveOrders, cutoff, now)
		if errors.Is(err, ErrAlreadyTaken) {
			// A retried grab the caller already won is a success, not a refusal.
			if mine, gerr := s.ownedBy(tx, orderID, courierID); gerr == nil && mine != nil && mine.Status == Accepted {
				out, err = s.view(cipher, mine, ActorCourier)
				return err
			}
		}
		if err != nil {
			return err
		}
		if err := s.accepted(tx, t, r, ActorCourier, courierID, "grab", now); err != nil {
			return err
		}
		out, err = s.view(cipher, r, ActorCourier)
		return err
	})
	return out, err
}

func (s *Service) ownedBy(tx *gorm.DB, orderID, courierID string) (*row, error) {
	var r row
	err := tx.Where("id = ? AND courier_id = ?", orderID, courierID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	return &r, err
}

// AssignTx gives an order waiting for a courier to courierID inside the caller's tenant
// transaction: dispatch offers (via "offer") and staff assignments use it. The gate and the
// concurrent-orders limit apply as for a grab, but not the grab window.
func (s *Service) AssignTx(tx *gorm.DB, t *tenancy.Tenant, orderID, courierID string, actor Actor, actorID, reason string) error {
	if s.couriers == nil {
		return ErrCourierNotAllowed
	}
	if _, err := uuid.Parse(orderID); err != nil {
		return ErrNotFound
	}
	b, err := settings.Load(tx)
	if err != nil {
		return err
	}
	if err := s.couriers.LockEligible(tx, courierID, b.MinCredit); err != nil {
		return err
	}
	now := s.now().UTC()
	r, err := s.take(tx, orderID, courierID, b.MaxActiveOrders, nil, now)
	if err != nil {
		return err
	}
	return s.accepted(tx, t, r, actor, actorID, reason, now)
}

// Assign is a staff assignment: an order waiting for a courier goes to courierID; an order a
// courier already has moves to courierID (reassign, with a reason); courierID "" puts a
// taken order back in the pool (release, with a reason).
func (s *Service) Assign(ctx context.Context, t *tenancy.Tenant, staffID, orderID, courierID, reason string) (*Order, error) {
	reason = strings.TrimSpace(reason)
	return s.update(ctx, t, orderID, ActorStaff, func(tx *gorm.DB, r *row, _ *pii.Cipher) error {
		now := s.now().UTC()
		switch {
		case r.Status == AwaitingCourier && courierID == "":
			return ErrCourierRequired
		case r.Status == AwaitingCourier:
			if err := s.AssignTx(tx, t, r.ID, courierID, ActorStaff, staffID, reason); err != nil {
				return err
			}
			return tx.Where("id = ?", r.ID).Take(r).Error
		case reason == "":
			return ErrReasonRequired
		case courierID == "":
			if err := s.move(tx, t, r, EventRelease, ActorStaff, staffID, reason, map[string]any{"courier_id": nil, "accepted_at": nil}, now); err != nil {
				return err
			}
			r.CourierID = nil
			return nil
		case r.Status != Accepted && r.Status != PickedUp:
			return &TransitionError{From: r.Status, Event: "reassign", Actor: ActorStaff}
		case r.CourierID != nil && *r.CourierID == courierID:
			return nil
		}
		return s.reassign(tx, t, r, staffID, courierID, reason, now)
	})
}

// reassign moves a taken order (locked) to another courier, keeping its status.
func (s *Service) reassign(tx *gorm.DB, t *tenancy.Tenant, r *row, staffID, courierID, reason string, now time.Time) error {
	b, err := settings.Load(tx)
	if err != nil {
		return err
	}
	if err := s.couriers.LockEligible(tx, courierID, b.MinCredit); err != nil {
		return err
	}
	var load int64
	if err := tx.Raw(`SELECT count(*) FROM orders WHERE courier_id = ? AND status IN ('accepted', 'picked_up')`, courierID).
		Scan(&load).Error; err != nil {
		return err
	}
	if load >= int64(b.MaxActiveOrders) {
		return ErrCourierAtCapacity
	}
	res := tx.Model(&row{}).Where("id = ? AND status = ?", r.ID, string(r.Status)).
		Updates(map[string]any{"courier_id": courierID, "updated_at": now, "version": gorm.Expr("version + 1"), "delivery_attempts": 0})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return ErrConcurrentChange
	}
	if err := s.recordMove(tx, t, r.ID, "reassign", r.Status, r.Status, ActorStaff, staffID, reason, now); err != nil {
		return err
	}
	r.CourierID = &courierID
	return s.couriers.Touch(tx, courierID, now)
}

// ReassignResult is the outcome for one order of a bulk reassignment.
type ReassignResult struct {
	OrderID string `json:"orderId"`
	OK      bool   `json:"ok"`
	Status  Status `json:"status,omitempty"`
	Problem string `json:"problem,omitempty" doc:"The problem code when not ok."`
	Detail  string `json:"detail,omitempty"`
}

// Release gives an accepted order back to the pool (its courier, before pickup).
func (s *Service) Release(ctx context.Context, t *tenancy.Tenant, courierID, orderID, reason string) (*Order, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, ErrReasonRequired
	}
	return s.update(ctx, t, orderID, ActorCourier, func(tx *gorm.DB, r *row, _ *pii.Cipher) error {
		if r.CourierID == nil || *r.CourierID != courierID {
			return ErrCourierNotAllowed
		}
		now := s.now().UTC()
		if err := s.move(tx, t, r, EventRelease, ActorCourier, courierID, reason,
			map[string]any{"courier_id": nil, "accepted_at": nil, "delivery_attempts": 0}, now); err != nil {
			return err
		}
		r.CourierID = nil
		return s.couriers.Touch(tx, courierID, now)
	})
}

// Pickup confirms the courier has the item. Where the student gave a pickup code (parcel
// lockers, counters), the courier must send it back: proof they collected this errand's item
// and not a neighbour's.
func (s *Service) Pickup(ctx context.Context, t *tenancy.Tenant, courierID, orderID, code string) (*Order, error) {
	return s.update(ctx, t, orderID, ActorCourier, func(tx *gorm.DB, r *row, cipher *pii.Cipher) error {
		if r.CourierID == nil || *r.CourierID != courierID {
			return ErrCourierNotAllowed
		}
		if _, err := Next(r.Status, EventPickup, ActorCourier); err != nil {
			return err
		}
		want, err := s.pickupCode(cipher, r)
		if err != nil {
			return err
		}
		if want != "" && !strings.EqualFold(strings.TrimSpace(code), want) {
			return ErrPickupCode
		}
		return s.move(tx, t, r, EventPickup, ActorCourier, courierID, "", nil, s.now().UTC())
	})
}

// pickupCode is the code the student typed in the task type's "pickup_code" form field, or "".
func (s *Service) pickupCode(cipher *pii.Cipher, r *row) (string, error) {
	form, err := decodeForm(cipher, r)
	if err != nil {
		return "", err
	}
	code, _ := form["pickup_code"].(string)
	return strings.TrimSpace(code), nil
}

// DeliverRequest proves a hand-over: the student's delivery code, or a photo uploaded for the
// order (upload-delivery-photo) where the tenant allows photos.
type DeliverRequest struct {
	Code    string `json:"code,omitempty" maxLength:"6" pattern:"^[0-9]{6}$" doc:"The student's delivery code."`
	PhotoID string `json:"photoId,omitempty" format:"uuid" doc:"A photo uploaded for this order, instead of the code."`
}

// Deliver confirms the hand-over. Wrong codes are counted and committed even though the call
// fails; after MaxDeliveryAttempts the code is locked and the order is flagged for staff.
func (s *Service) Deliver(ctx context.Context, t *tenancy.Tenant, courierID, orderID string, req DeliverRequest) (*Order, error) {
	var refused error
	o, err := s.update(ctx, t, orderID, ActorCourier, func(tx *gorm.DB, r *row, cipher *pii.Cipher) error {
		if r.CourierID == nil || *r.CourierID != courierID {
			return ErrCourierNotAllowed
		}
		if _, err := Next(r.Status, EventDeliver, ActorCourier); err != nil {
			return err
		}
		b, err := settings.Load(tx)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		extra := map[string]any{}
		switch {
		case req.PhotoID != "":
			if !b.PhotoDelivery {
				return ErrPhotoDeliveryOff
			}
			if s.photos == nil {
				return ErrPhotoDeliveryOff
			}
			if err := s.photos.PhotoForDelivery(tx, r.ID, req.PhotoID, courierID); err != nil {
				return err
			}
			extra["proof_photo_id"] = req.PhotoID
		case req.Code == "":
			return ErrProofRequired
		default:
			attempts, err := s.deliveryAttempts(tx, r.ID)
			if err != nil {
				return err
			}
			if attempts >= MaxDeliveryAttempts {
				return ErrDeliveryCodeLocked
			}
			want, err := cipher.Decrypt("orders.delivery_code", r.DeliveryCodeEnc)
			if err != nil {
				return err
			}
			if req.Code != want {
				refused = ErrBadDeliveryCode
				return s.wrongCode(tx, t, r, courierID, attempts+1, now)
			}
		}
		if err := s.move(tx, t, r, EventDeliver, ActorCourier, courierID, "", extra, now); err != nil {
			return err
		}
		if err := s.couriers.Touch(tx, courierID, now); err != nil {
			return err
		}
		// Stored durations are validated on save; b was read above for the photo rule.
		autoConfirm, _ := time.ParseDuration(b.AutoConfirmAfter)
		return s.outbox.Add(tx, jobs.Message{TenantID: t.ID, Type: TaskAutoConfirm, Data: orderRef{OrderID: r.ID},
			ProcessAt: now.Add(autoConfirm).Add(time.Second)})
	})
	if err != nil {
		return nil, err
	}
	if refused != nil {
		return nil, refused
	}
	return o, nil
}

func (s *Service) deliveryAttempts(tx *gorm.DB, orderID string) (int, error) {
	var n int
	err := tx.Raw(`SELECT delivery_attempts FROM orders WHERE id = ?`, orderID).Scan(&n).Error
	return n, err
}

// wrongCode counts a wrong delivery code; the last allowed one flags the order for staff.
func (s *Service) wrongCode(tx *gorm.DB, t *tenancy.Tenant, r *row, courierID string, attempts int, now time.Time) error {
	set := map[string]any{"delivery_attempts": attempts, "updated_at": now}
	if attempts >= MaxDeliveryAttempts {
		set["exception"], set["exception_note"] = "other", "delivery code entered wrongly too many times"
	}
	if err := tx.Model(&row{}).Where("id = ?", r.ID).Updates(set).Error; err != nil {
		return err
	}
	if attempts < MaxDeliveryAttempts {
		return nil
	}
	return s.recordMove(tx, t, r.ID, "flag_exception", r.Status, r.Status, ActorSystem, "",
		"other delivery code entered wrongly too many times", now)
}

// CourierExceptions are what a courier can report on the road.
var CourierExceptions = []string{"cant_find_item", "shop_closed", "student_unreachable", "item_damaged", "item_lost"}

// ReportException is the courier flagging their order (can't find the item, shop closed,
// student unreachable, item damaged or lost). The flag reaches the admin feed and the
// student's timeline; staff then resume, reassign, or cancel and refund (ResolveException).
func (s *Service) ReportException(ctx context.Context, t *tenancy.Tenant, courierID, orderID, kind, note string) (*Order, error) {
	ok := false
	for _, k := range CourierExceptions {
		ok = ok || k == kind
	}
	if !ok {
		return nil, ErrBadException
	}
	return s.flag(ctx, t, ActorCourier, courierID, orderID, kind, note, func(r *row) error {
		if r.CourierID == nil || *r.CourierID != courierID {
			return ErrCourierNotAllowed
		}
		return nil
	})
}

// Resolutions of an exception.
const (
	ResolveResume       = "resume"        // carry on; the flag is cleared
	ResolveReassign     = "reassign"      // another courier (or the pool) takes over
	ResolveCancelRefund = "cancel_refund" // cancel; what was paid goes back
)

// ResolveException ends an exception with one of the resolutions. A cancelled order keeps its
// flag as history; the others clear it.
func (s *Service) ResolveException(ctx context.Context, t *tenancy.Tenant, staffID, orderID, action, courierID, reason string) (*Order, error) {
	switch action {
	case ResolveResume:
	case ResolveReassign:
		if _, err := s.Assign(ctx, t, staffID, orderID, courierID, reason); err != nil {
			return nil, err
		}
	case ResolveCancelRefund:
		return s.Cancel(ctx, t, ActorStaff, staffID, orderID, reason)
	default:
		return nil, ErrBadResolution
	}
	return s.Flag(ctx, t, ActorStaff, staffID, orderID, "", reason)
}

// Parties are who an order concerns: its student, its courier ("" when none) and its status.
func (s *Service) Parties(ctx context.Context, t *tenancy.Tenant, orderID string) (studentID, courierID string, status Status, err error) {
	if _, perr := uuid.Parse(orderID); perr != nil {
		return "", "", "", ErrNotFound
	}
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var rows []struct {
			StudentID string
			CourierID *string
			Status    Status
		}
		if err := tx.Raw(`SELECT student_id, courier_id, status FROM orders WHERE id = ?`, orderID).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return ErrNotFound
		}
		studentID, status = rows[0].StudentID, rows[0].Status
		if rows[0].CourierID != nil {
			courierID = *rows[0].CourierID
		}
		return nil
	})
	return studentID, courierID, status, err
}

// WaitingOrder is an order waiting for a courier, as dispatch sees it.
type WaitingOrder struct {
	ID                   string
	PickupLng, PickupLat float64
	Reward               int64 // the courier's share plus the tip, in 分
	PaidAt               time.Time
}

// Waiting lists the orders dispatch may offer at now: every order waiting for a courier in
// dispatch mode, those past their grab window in hybrid mode, none in grab mode.
func (s *Service) Waiting(tx *gorm.DB, now time.Time, mode string, grabWindow time.Duration) ([]WaitingOrder, error) {
	q := tx.Table("orders").Select("id, pickup_lng, pickup_lat, total, tip, courier_share_bp, paid_at").
		Where("status = 'awaiting_courier'")
	switch mode {
	case "dispatch":
	case "hybrid":
		q = q.Where("paid_at <= ?", now.Add(-grabWindow))
	default:
		return nil, nil
	}
	var rows []hallRow
	if err := q.Order("paid_at, id").Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]WaitingOrder, 0, len(rows))
	for _, r := range rows {
		it := r.item(now, 0)
		out = append(out, WaitingOrder{ID: r.ID, PickupLng: r.PickupLng, PickupLat: r.PickupLat, Reward: int64(it.Reward), PaidAt: r.PaidAt})
	}
	return out, nil
}
