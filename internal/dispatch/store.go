package dispatch

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/dispatch/solver"
)

// offerRow is a dispatch_offers row.
type offerRow struct {
	ID            string
	OrderID       string
	CourierID     string
	BatchID       string
	Status        string
	Cost          float64
	Explanation   string
	Reward        int64
	ExpiresAt     time.Time
	CreatedAt     time.Time
	DecidedAt     *time.Time
	DeclineReason string
}

// lockOffer reads an offer FOR UPDATE, so accept, decline and expiry of one offer run one at
// a time and each sees the others' outcome.
func lockOffer(tx *gorm.DB, id string) (offerRow, error) {
	var r offerRow
	if uuid.Validate(id) != nil {
		return r, ErrOfferNotFound
	}
	err := tx.Raw(`SELECT id, order_id, courier_id, batch_id, status, cost, explanation, reward, expires_at,
			created_at, decided_at, decline_reason
		FROM dispatch_offers WHERE id = ? FOR UPDATE`, id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, ErrOfferNotFound
	}
	if err != nil {
		return r, fmt.Errorf("lock offer %s: %w", id, err)
	}
	return r, nil
}

// decide closes a pending offer with status at now.
func decide(tx *gorm.DB, id, status, reason string, now time.Time) error {
	res := tx.Exec(`UPDATE dispatch_offers SET status = ?, decided_at = ?, decline_reason = ?
		WHERE id = ? AND status = 'pending'`, status, now, reason, id)
	if res.Error != nil {
		return fmt.Errorf("mark offer %s %s: %w", id, status, res.Error)
	}
	if res.RowsAffected != 1 {
		// Callers hold the row lock and saw it pending; anything else is a bug worth a 500.
		return fmt.Errorf("mark offer %s %s: offer was not pending", id, status)
	}
	return nil
}

// orderWaiting reports whether the order is still in awaiting_courier.
func orderWaiting(tx *gorm.DB, orderID string) (bool, error) {
	var status []string
	if err := tx.Raw(`SELECT status FROM orders WHERE id = ?`, orderID).Scan(&status).Error; err != nil {
		return false, fmt.Errorf("read order %s status: %w", orderID, err)
	}
	return len(status) == 1 && status[0] == "awaiting_courier", nil
}

// closedOffer is a pending offer a batch closed, to tell its courier after commit.
type closedOffer struct {
	ID, OrderID, CourierID, Status string
}

// closeStale expires pending offers past their deadline (their task was lost or late) and
// withdraws pending offers whose order stopped waiting (cancelled, grabbed in hybrid mode,
// assigned by staff), so neither keeps its order out of the next batch nor counts as load.
func closeStale(tx *gorm.DB, now time.Time) ([]closedOffer, error) {
	var out []closedOffer
	err := tx.Raw(`WITH overdue AS (
			UPDATE dispatch_offers SET status = 'expired', decided_at = ?
			WHERE status = 'pending' AND expires_at <= ?
			RETURNING id, order_id, courier_id, status),
		stale AS (
			UPDATE dispatch_offers f SET status = 'withdrawn', decided_at = ?
			FROM orders o
			WHERE f.status = 'pending' AND f.expires_at > ? AND o.id = f.order_id AND o.status <> 'awaiting_courier'
			RETURNING f.id, f.order_id, f.courier_id, f.status)
		SELECT * FROM overdue UNION ALL SELECT * FROM stale`, now, now, now, now).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("close stale offers: %w", err)
	}
	return out, nil
}

// pendingOrders is the set of orders that have a pending offer.
func pendingOrders(tx *gorm.DB) (map[string]bool, error) {
	var ids []string
	if err := tx.Raw(`SELECT order_id FROM dispatch_offers WHERE status = 'pending'`).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("orders with pending offers: %w", err)
	}
	set := make(map[string]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return set, nil
}

// pendingLoad counts each courier's pending offers: an offer holds a slot until it is answered.
func pendingLoad(tx *gorm.DB) (map[string]int, error) {
	var rows []struct {
		CourierID string
		N         int
	}
	if err := tx.Raw(`SELECT courier_id, count(*) AS n FROM dispatch_offers WHERE status = 'pending' GROUP BY courier_id`).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("pending offers per courier: %w", err)
	}
	m := make(map[string]int, len(rows))
	for _, r := range rows {
		m[r.CourierID] = r.N
	}
	return m, nil
}

// refusals maps each of orderIDs to the couriers who declined it or let its offer expire.
func refusals(tx *gorm.DB, orderIDs []string) (map[string][]string, error) {
	var rows []struct{ OrderID, CourierID string }
	if len(orderIDs) == 0 {
		return map[string][]string{}, nil
	}
	err := tx.Raw(`SELECT DISTINCT order_id, courier_id FROM dispatch_offers
		WHERE order_id IN ? AND status IN ('declined', 'expired')`, orderIDs).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("declined offers: %w", err)
	}
	m := map[string][]string{}
	for _, r := range rows {
		m[r.OrderID] = append(m[r.OrderID], r.CourierID)
	}
	return m, nil
}

func insertBatch(tx *gorm.DB, b Batch) error {
	err := tx.Exec(`INSERT INTO dispatch_batches (id, started_at, mode, orders, couriers, assigned, total_cost,
			greedy_cost, greedy_assigned, duration_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, b.ID, b.StartedAt, b.Mode, b.Orders, b.Couriers, b.Assigned,
		b.TotalCost, b.GreedyCost, b.GreedyAssigned, b.DurationMs).Error
	if err != nil {
		return fmt.Errorf("insert batch: %w", err)
	}
	return nil
}

func insertOffer(tx *gorm.DB, batchID string, o BatchOffer, now time.Time) error {
	expl, err := json.Marshal(o.Explanation)
	if err != nil {
		return fmt.Errorf("encode explanation: %w", err)
	}
	err = tx.Exec(`INSERT INTO dispatch_offers (id, order_id, courier_id, batch_id, status, cost, explanation, reward,
			expires_at, created_at)
		VALUES (?, ?, ?, ?, 'pending', ?, CAST(? AS jsonb), ?, ?, ?)`,
		o.OfferID, o.OrderID, o.CourierID, batchID, o.Cost, string(expl), o.Reward, o.ExpiresAt, now).Error
	if err != nil {
		return fmt.Errorf("insert offer of order %s to %s: %w", o.OrderID, o.CourierID, err)
	}
	return nil
}

// courierOffers lists a courier's open offers (pending and not yet due) with their orders'
// summaries, soonest deadline first.
func courierOffers(tx *gorm.DB, courierID string, now time.Time, limit, offset int) ([]CourierOffer, int64, error) {
	out := []CourierOffer{}
	var total int64
	if uuid.Validate(courierID) != nil {
		return out, 0, nil
	}
	const where = `FROM dispatch_offers f JOIN orders o ON o.id = f.order_id
		WHERE f.courier_id = ? AND f.status = 'pending' AND f.expires_at > ?`
	if err := tx.Raw(`SELECT count(*) `+where, courierID, now).Scan(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count offers: %w", err)
	}
	err := tx.Raw(`SELECT f.id, f.order_id, f.status, f.reward, o.pickup_name, o.dropoff_name, f.expires_at, f.created_at `+
		where+` ORDER BY f.expires_at, f.id LIMIT ? OFFSET ?`, courierID, now, limit, offset).Scan(&out).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list offers: %w", err)
	}
	return out, total, nil
}

// courierOffer is one offer with its order's summary.
func courierOffer(tx *gorm.DB, id string) (CourierOffer, error) {
	var o CourierOffer
	err := tx.Raw(`SELECT f.id, f.order_id, f.status, f.reward, o.pickup_name, o.dropoff_name, f.expires_at, f.created_at
		FROM dispatch_offers f JOIN orders o ON o.id = f.order_id WHERE f.id = ?`, id).Take(&o).Error
	if err != nil {
		return o, fmt.Errorf("read offer %s: %w", id, err)
	}
	return o, nil
}

// orderOffers lists every offer of an order, oldest first, with its batch.
func orderOffers(tx *gorm.DB, orderID string) ([]OfferView, error) {
	var rows []struct {
		ID, OrderID, CourierID, BatchID, Status, Explanation, DeclineReason string
		Cost                                                                float64
		Reward                                                              int64
		ExpiresAt, CreatedAt                                                time.Time
		DecidedAt                                                           *time.Time
		BatchStartedAt                                                      time.Time
		BatchMode                                                           string
		BatchOrders, BatchCouriers, BatchAssigned, BatchGreedyAssigned      int
		BatchTotalCost, BatchGreedyCost, BatchDurationMs                    float64
	}
	err := tx.Raw(`SELECT f.id, f.order_id, f.courier_id, f.batch_id, f.status, f.cost, f.explanation, f.reward,
			f.expires_at, f.created_at, f.decided_at, f.decline_reason,
			b.started_at AS batch_started_at, b.mode AS batch_mode, b.orders AS batch_orders,
			b.couriers AS batch_couriers, b.assigned AS batch_assigned, b.total_cost AS batch_total_cost,
			b.greedy_cost AS batch_greedy_cost, b.greedy_assigned AS batch_greedy_assigned,
			b.duration_ms AS batch_duration_ms
		FROM dispatch_offers f JOIN dispatch_batches b ON b.id = f.batch_id
		WHERE f.order_id = ? ORDER BY f.created_at, f.id`, orderID).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("offers of order %s: %w", orderID, err)
	}
	out := make([]OfferView, len(rows))
	for i, r := range rows {
		var terms []solver.Term
		if err := json.Unmarshal([]byte(r.Explanation), &terms); err != nil {
			return nil, fmt.Errorf("offer %s explanation: %w", r.ID, err)
		}
		out[i] = OfferView{ID: r.ID, OrderID: r.OrderID, CourierID: r.CourierID, Status: r.Status, Cost: r.Cost,
			Explanation: terms, Reward: r.Reward, ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt,
			DecidedAt: r.DecidedAt, DeclineReason: r.DeclineReason,
			Batch: Batch{ID: r.BatchID, StartedAt: r.BatchStartedAt, Mode: r.BatchMode, Orders: r.BatchOrders,
				Couriers: r.BatchCouriers, Assigned: r.BatchAssigned, TotalCost: r.BatchTotalCost,
				GreedyCost: r.BatchGreedyCost, GreedyAssigned: r.BatchGreedyAssigned, DurationMs: r.BatchDurationMs}}
	}
	return out, nil
}
