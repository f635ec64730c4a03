package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/dispatch/solver"
	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/settings"
	"github.com/paotui/paotui/internal/store"
)

// Service runs dispatch batches and the offers' lifecycle. It is safe for concurrent use;
// concurrent batches of one tenant serialise on a database lock.
type Service struct {
	db       *store.DB
	orders   Orders
	couriers Couriers
	outbox   *jobs.Outbox
	pub      Publisher
	log      *slog.Logger
	now      func() time.Time
}

// New returns the dispatch service. pub may be nil (no live events); log may be nil.
func New(db *store.DB, orders Orders, couriers Couriers, outbox *jobs.Outbox, pub Publisher, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, orders: orders, couriers: couriers, outbox: outbox, pub: pub, log: log, now: time.Now}
}

// rules are the tenant's dispatch settings, parsed.
type rules struct {
	mode         string
	grabWindow   time.Duration
	offerTimeout time.Duration
	waitingAlert time.Duration
	maxLoad      int
	weights      solver.Weights
}

func loadRules(tx *gorm.DB) (rules, error) {
	b, err := settings.Load(tx)
	if err != nil {
		return rules{}, fmt.Errorf("load dispatch settings: %w", err)
	}
	r := rules{mode: b.DispatchMode, maxLoad: b.MaxActiveOrders, weights: b.Weights}
	// settings.Load keeps only durations that parse, so these fail only on a broken default.
	for _, d := range []struct {
		into  *time.Duration
		value string
	}{{&r.grabWindow, b.GrabWindow}, {&r.offerTimeout, b.OfferTimeout}, {&r.waitingAlert, b.WaitingAlert}} {
		if *d.into, err = time.ParseDuration(d.value); err != nil {
			return rules{}, fmt.Errorf("dispatch settings: %w", err)
		}
	}
	return r, nil
}

// lockTenantBatch serialises the tenant's batches until the transaction ends. Advisory locks
// are database-wide, so the key is the tenant's schema; a hash collision between two tenants
// only makes their batches take turns.
func lockTenantBatch(tx *gorm.DB) error {
	if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended('paotui.dispatch.' || current_schema(), 0))`).Error; err != nil {
		return fmt.Errorf("lock dispatch batch: %w", err)
	}
	return nil
}

// RunBatch offers the tenant's waiting orders to its online couriers: the assignment that
// serves the most orders at the least total cost (see package solver), one pending offer per
// pair, each expiring after the tenant's OfferTimeout. Orders with a pending offer are left
// out, and so are pairs whose courier declined the order or let it expire before. A courier's
// pending offers count as load.
//
// Stale pending offers are closed first, in every mode. In grab mode nothing is offered and
// the error is ErrDispatchOff. Offers are published to the couriers after commit.
func (s *Service) RunBatch(ctx context.Context, t *tenancy.Tenant) (BatchResult, error) {
	res := BatchResult{Offers: []BatchOffer{}}
	var (
		closed []closedOffer
		off    bool
	)
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		res = BatchResult{Offers: []BatchOffer{}}
		if err := lockTenantBatch(tx); err != nil {
			return err
		}
		now := s.now().UTC()
		r, err := loadRules(tx)
		if err != nil {
			return err
		}
		if closed, err = closeStale(tx, now); err != nil {
			return err
		}
		res.Closed = len(closed)
		res.Batch.Mode, res.Batch.StartedAt = r.mode, now
		if r.mode != ModeDispatch && r.mode != ModeHybrid {
			off = true
			return nil
		}
		orders, err := s.waiting(tx, now, r)
		if err != nil || len(orders) == 0 {
			return err
		}
		couriers, err := s.candidates(ctx, tx, t, now, r)
		if err != nil {
			return err
		}
		res.Batch.Orders, res.Batch.Couriers = len(orders), len(couriers)
		if len(couriers) == 0 {
			return nil
		}

		t0 := time.Now()
		m := solver.Costs(orders, couriers, r.weights)
		a := m.Assign()
		took := time.Since(t0)
		g := m.Greedy()
		res.Batch.Assigned, res.Batch.TotalCost = len(a.Pairs), a.TotalCost
		res.Batch.GreedyAssigned, res.Batch.GreedyCost = len(g.Pairs), g.TotalCost
		res.Batch.DurationMs = float64(took.Microseconds()) / 1000
		if len(a.Pairs) == 0 {
			return nil
		}
		res.Batch.ID = uuid.Must(uuid.NewV7()).String()
		if err := insertBatch(tx, res.Batch); err != nil {
			return err
		}
		reward := make(map[string]int64, len(orders))
		for _, o := range orders {
			reward[o.ID] = o.Reward
		}
		expires := now.Add(r.offerTimeout)
		for _, p := range a.Pairs {
			o := BatchOffer{OfferID: uuid.Must(uuid.NewV7()).String(), OrderID: p.OrderID, CourierID: p.CourierID,
				Cost: p.Cost, Explanation: p.Explanation, Reward: reward[p.OrderID], ExpiresAt: expires}
			if err := insertOffer(tx, res.Batch.ID, o, now); err != nil {
				return err
			}
			// One second late, so the task never finds the offer a hair before its deadline.
			if err := s.outbox.Add(tx, jobs.Message{TenantID: t.ID, Type: TaskExpireOffer, Data: offerRef{OfferID: o.OfferID},
				Queue: jobs.QueueCritical, ProcessAt: expires.Add(time.Second)}); err != nil {
				return err
			}
			res.Offers = append(res.Offers, o)
		}
		return nil
	})
	if err != nil {
		return BatchResult{}, err
	}
	s.publishClosed(ctx, t, closed)
	for _, o := range res.Offers {
		s.publish(ctx, CourierChannel(t.ID, o.CourierID), EventOffer,
			OfferEvent{OfferID: o.OfferID, OrderID: o.OrderID, Reward: o.Reward, ExpiresAt: o.ExpiresAt})
	}
	if len(res.Offers) > 0 {
		s.log.Info("dispatch batch", "tenant", t.Slug, "orders", res.Batch.Orders, "couriers", res.Batch.Couriers,
			"assigned", res.Batch.Assigned, "cost", res.Batch.TotalCost, "greedy_cost", res.Batch.GreedyCost,
			"ms", res.Batch.DurationMs)
	}
	if off {
		return res, ErrDispatchOff
	}
	return res, nil
}

// waiting is what the batch may offer: Orders.Waiting less the orders with a pending offer,
// with the couriers who refused each order excluded.
func (s *Service) waiting(tx *gorm.DB, now time.Time, r rules) ([]solver.Order, error) {
	// Read before Waiting: an offer accepted between the two reads then still keeps its order
	// out, whereas read after, it would let an order that has just been taken back in.
	busy, err := pendingOrders(tx)
	if err != nil {
		return nil, err
	}
	list, err := s.orders.Waiting(tx, now, r.mode, r.grabWindow)
	if err != nil {
		return nil, fmt.Errorf("waiting orders: %w", err)
	}
	cutoff := now.Add(-r.grabWindow)
	seen := make(map[string]bool, len(list))
	var orders []solver.Order
	var ids []string
	for _, w := range list {
		switch {
		case busy[w.ID] || seen[w.ID]:
			continue
		case uuid.Validate(w.ID) != nil:
			s.log.Error("dispatch: waiting order with an invalid id skipped", "order", w.ID)
			continue
		// The hall has these orders to itself during the grab window; checked here as well,
		// so a lenient Waiting cannot let dispatch take an order from the hall early.
		case r.mode == ModeHybrid && w.PaidAt.After(cutoff):
			continue
		}
		seen[w.ID] = true
		ids = append(ids, w.ID)
		orders = append(orders, solver.Order{ID: w.ID, Pickup: w.Pickup, Reward: w.Reward,
			Excluded: append([]string(nil), w.Excluded...)})
	}
	refused, err := refusals(tx, ids)
	if err != nil {
		return nil, err
	}
	for i := range orders {
		orders[i].Excluded = append(orders[i].Excluded, refused[orders[i].ID]...)
	}
	return orders, nil
}

// candidates are Couriers.Candidates with pending offers added to their load and the
// tenant's limit filled in where the courier has none of its own.
func (s *Service) candidates(ctx context.Context, tx *gorm.DB, t *tenancy.Tenant, now time.Time, r rules) ([]solver.Courier, error) {
	list, err := s.couriers.Candidates(ctx, tx, t, now)
	if err != nil {
		return nil, fmt.Errorf("candidate couriers: %w", err)
	}
	pending, err := pendingLoad(tx)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(list))
	out := make([]solver.Courier, 0, len(list))
	for _, c := range list {
		if seen[c.ID] || uuid.Validate(c.ID) != nil {
			continue
		}
		seen[c.ID] = true
		c.Load += pending[c.ID]
		if c.MaxLoad <= 0 {
			c.MaxLoad = r.maxLoad
		}
		out = append(out, c)
	}
	return out, nil
}

// Accept answers an offer with yes: the order is assigned to the courier (Orders.Assign, which
// checks the courier gate and load) in the same transaction that marks the offer accepted.
//
// Refusals: ErrOfferNotFound; ErrOfferNotYours for another courier's offer; ErrOfferClosed for
// an offer no longer pending; ErrOfferExpired past the deadline (the offer is then marked
// expired). When Assign fails because the order stopped waiting (cancelled, or grabbed in
// hybrid mode), the offer is withdrawn and Assign's error is returned; any other Assign error
// is returned with the offer left pending.
func (s *Service) Accept(ctx context.Context, t *tenancy.Tenant, courierID, offerID string) (CourierOffer, error) {
	var (
		out     CourierOffer
		refusal error
	)
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		o, err := s.openOffer(tx, courierID, offerID)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if !now.Before(o.ExpiresAt) {
			refusal = ErrOfferExpired
			return decide(tx, o.ID, StatusExpired, "", now)
		}
		assignErr := tx.Transaction(func(sp *gorm.DB) error {
			return s.orders.Assign(sp, t, o.OrderID, courierID, "offer", "")
		})
		if assignErr != nil {
			waiting, err := orderWaiting(tx, o.OrderID)
			if err != nil {
				return errors.Join(assignErr, err)
			}
			if waiting {
				return assignErr // the courier's problem (gate, load): the offer stays open
			}
			refusal = assignErr
			return decide(tx, o.ID, StatusWithdrawn, "", now)
		}
		if err := decide(tx, o.ID, StatusAccepted, "", now); err != nil {
			return err
		}
		if err := ClearAlert(tx, o.OrderID); err != nil {
			return err
		}
		out, err = courierOffer(tx, o.ID)
		return err
	})
	if err != nil {
		return CourierOffer{}, err
	}
	if refusal != nil {
		return CourierOffer{}, refusal
	}
	return out, nil
}

// Decline answers an offer with no, with an optional reason (trimmed, at most MaxReasonRunes
// characters). The courier is never offered this order again, and the decline counts against
// their acceptance rate. Refusals are Accept's, plus ErrReasonTooLong.
func (s *Service) Decline(ctx context.Context, t *tenancy.Tenant, courierID, offerID, reason string) error {
	// Invalid UTF-8 would fail the insert; JSON clients cannot send it, other callers might.
	reason = strings.ToValidUTF8(strings.TrimSpace(reason), "\uFFFD")
	if utf8.RuneCountInString(reason) > MaxReasonRunes {
		return ErrReasonTooLong
	}
	var refusal error
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		o, err := s.openOffer(tx, courierID, offerID)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if !now.Before(o.ExpiresAt) {
			refusal = ErrOfferExpired
			return decide(tx, o.ID, StatusExpired, "", now)
		}
		return decide(tx, o.ID, StatusDeclined, reason, now)
	})
	if err != nil {
		return err
	}
	return refusal
}

// openOffer locks the courier's pending offer, or says why it cannot be answered.
func (s *Service) openOffer(tx *gorm.DB, courierID, offerID string) (offerRow, error) {
	o, err := lockOffer(tx, offerID)
	if err != nil {
		return o, err
	}
	if o.CourierID != courierID {
		return o, ErrOfferNotYours
	}
	if o.Status != StatusPending {
		return o, fmt.Errorf("%w: it is %s", ErrOfferClosed, o.Status)
	}
	return o, nil
}

// ExpireOffer marks the offer expired if it is still pending and its deadline has passed, and
// tells the courier. It is the handler of the offer's delayed task: running it again, early,
// or for an offer answered meanwhile changes nothing.
func (s *Service) ExpireOffer(ctx context.Context, t *tenancy.Tenant, offerID string) error {
	var closed []closedOffer
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		o, err := lockOffer(tx, offerID)
		if errors.Is(err, ErrOfferNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if o.Status != StatusPending || now.Before(o.ExpiresAt) {
			// Early (clock skew): the next batch closes it once due.
			return nil
		}
		closed = append(closed, closedOffer{ID: o.ID, OrderID: o.OrderID, CourierID: o.CourierID, Status: StatusExpired})
		return decide(tx, o.ID, StatusExpired, "", now)
	})
	if err != nil {
		return err
	}
	s.publishClosed(ctx, t, closed)
	return nil
}

// AcceptanceRate counts the courier's offers made since since and answered: offered counts
// accepted, declined and expired ones (withdrawn and pending ones are nobody's doing yet), and
// accepted the accepted ones. Call it inside a tenant transaction.
func AcceptanceRate(tx *gorm.DB, courierID string, since time.Time) (offered, accepted int, err error) {
	if uuid.Validate(courierID) != nil {
		return 0, 0, nil
	}
	var r struct{ Offered, Accepted int }
	err = tx.Raw(`SELECT count(*) AS offered, count(*) FILTER (WHERE status = 'accepted') AS accepted
		FROM dispatch_offers WHERE courier_id = ? AND created_at >= ? AND status IN ('accepted', 'declined', 'expired')`,
		courierID, since).Scan(&r).Error
	if err != nil {
		return 0, 0, fmt.Errorf("acceptance rate of %s: %w", courierID, err)
	}
	return r.Offered, r.Accepted, nil
}

// ClearAlert marks the order's waiting alert cleared, if it has an open one. Orders may call
// it in the transaction that takes an order out of awaiting_courier; Alerts also clears
// alerts of orders that stopped waiting, so a missed call only delays the clearing.
func ClearAlert(tx *gorm.DB, orderID string) error {
	if uuid.Validate(orderID) != nil {
		return nil
	}
	if err := tx.Exec(`UPDATE dispatch_alerts SET cleared_at = now() WHERE order_id = ? AND cleared_at IS NULL`, orderID).Error; err != nil {
		return fmt.Errorf("clear alert of order %s: %w", orderID, err)
	}
	return nil
}

// alertBatch bounds the alerts one run raises; the rest follow on the next tick.
const alertBatch = 500

// Alerts raises an alert on the admin feed for every order that has waited for a courier
// longer than the tenant's WaitingAlert since payment, once per order, in every dispatch mode;
// it first clears the alerts of orders that stopped waiting. It returns how many it raised.
// Concurrent runs raise each alert once: the alert row is the claim.
func (s *Service) Alerts(ctx context.Context, t *tenancy.Tenant, now time.Time) (int, error) {
	now = now.UTC()
	var raised []struct {
		ID     string
		PaidAt time.Time
	}
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		r, err := loadRules(tx)
		if err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE dispatch_alerts a SET cleared_at = ? FROM orders o
			WHERE o.id = a.order_id AND a.cleared_at IS NULL AND o.status <> 'awaiting_courier'`, now).Error; err != nil {
			return fmt.Errorf("clear alerts: %w", err)
		}
		err = tx.Raw(`WITH due AS (
				SELECT o.id, o.paid_at FROM orders o
				WHERE o.status = 'awaiting_courier' AND o.paid_at <= ?
					AND NOT EXISTS (SELECT 1 FROM dispatch_alerts a WHERE a.order_id = o.id)
				ORDER BY o.paid_at LIMIT ?),
			ins AS (
				INSERT INTO dispatch_alerts (order_id, raised_at) SELECT id, ? FROM due
				ON CONFLICT (order_id) DO NOTHING RETURNING order_id)
			SELECT due.id, due.paid_at FROM due JOIN ins ON ins.order_id = due.id ORDER BY due.paid_at, due.id`,
			now.Add(-r.waitingAlert), alertBatch, now).Scan(&raised).Error
		if err != nil {
			return fmt.Errorf("raise alerts: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, a := range raised {
		s.publish(ctx, AdminChannel(t.ID), EventOrderWaiting,
			OrderWaitingEvent{OrderID: a.ID, WaitingSeconds: int64(now.Sub(a.PaidAt) / time.Second)})
	}
	return len(raised), nil
}

// OrderDispatch is every offer of the order, oldest first, with its explanation and batch
// figures, for admins asking why (or why not) a courier got it. An order never offered has
// none.
func (s *Service) OrderDispatch(ctx context.Context, t *tenancy.Tenant, orderID string) ([]OfferView, error) {
	if uuid.Validate(orderID) != nil {
		return nil, ErrOrderNotFound
	}
	var out []OfferView
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Raw(`SELECT count(*) FROM orders WHERE id = ?`, orderID).Scan(&n).Error; err != nil {
			return fmt.Errorf("find order %s: %w", orderID, err)
		}
		if n == 0 {
			return ErrOrderNotFound
		}
		var err error
		out, err = orderOffers(tx, orderID)
		return err
	})
	return out, err
}

// MyOffers lists the courier's open offers (pending and not yet due), soonest deadline first,
// with the total for paging.
func (s *Service) MyOffers(ctx context.Context, t *tenancy.Tenant, courierID string, limit, offset int) ([]CourierOffer, int64, error) {
	var (
		out   []CourierOffer
		total int64
	)
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var err error
		out, total, err = courierOffers(tx, courierID, s.now().UTC(), limit, offset)
		return err
	})
	return out, total, err
}

func (s *Service) publishClosed(ctx context.Context, t *tenancy.Tenant, closed []closedOffer) {
	for _, c := range closed {
		s.publish(ctx, CourierChannel(t.ID, c.CourierID), EventOfferClosed,
			OfferClosedEvent{OfferID: c.ID, OrderID: c.OrderID, Status: c.Status})
	}
}

// publish sends a live event after commit. Failures are logged, never returned: the change is
// committed and clients repair a lost event by re-reading.
func (s *Service) publish(ctx context.Context, channel, typ string, data any) {
	if s.pub == nil {
		return
	}
	if _, err := s.pub.Publish(context.WithoutCancel(ctx), channel, typ, data); err != nil {
		s.log.Warn("dispatch: publish live event", "type", typ, "err", err)
	}
}
