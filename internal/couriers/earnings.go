package couriers

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/settings"
)

// OnTimeWithin is how long after accepting an order without a time window the courier has to
// deliver it for the delivery to count as on time. An order with a window is on time when
// delivered by the window's end, however long ago it was accepted: the student asked for that
// time, and a courier who accepted early should not be held to an hour nobody asked for.
const OnTimeWithin = 60 * time.Minute

// A courier's income is every entry on their earnings account (ledger.Earnings) except
// withdrawals: order settlements, plus any staff adjustment, which may be negative. Payouts
// move earned money out of the books and are not income. The period totals and dispatch's
// EarnedToday share this rule; the per-order list shows settlement credits only.

// CourierStats are the figures of a courier's earnings view, also shown to staff.
type CourierStats struct {
	Balance ledger.Money `json:"balance" doc:"分 earned and not yet withdrawn."`
	Today   ledger.Money `json:"today" doc:"Income since midnight, in 分."`
	Week    ledger.Money `json:"week" doc:"Income since Monday 00:00, in 分."`
	Month   ledger.Money `json:"month" doc:"Income since the 1st of the month 00:00, in 分."`
	// TimeZone is the tenant's zone, in which the periods above start.
	TimeZone        string   `json:"timeZone" doc:"The tenant's time zone; days, weeks and months start in it."`
	CompletedOrders int64    `json:"completedOrders"`
	RatingAverage   *float64 `json:"ratingAverage,omitempty" doc:"Average of the students' 1-5 ratings, 2 decimals; absent before the first."`
	RatingCount     int64    `json:"ratingCount"`
	DeliveredOrders int64    `json:"deliveredOrders" doc:"Delivered orders judged for punctuality."`
	OnTimeOrders    int64    `json:"onTimeOrders"`
	OnTimeRate      *float64 `json:"onTimeRate,omitempty" doc:"onTimeOrders / deliveredOrders, 0 to 1; absent before the first delivery. On time: by the order's window end, or within 60 minutes of accepting an order without a window."`
}

// CourierIncome is what one order paid the courier.
type CourierIncome struct {
	EntryID     int64        `json:"entryId" doc:"Pass as before to get the next page."`
	OrderID     string       `json:"orderId"`
	OrderNumber string       `json:"orderNumber,omitempty"`
	TaskType    string       `json:"taskType,omitempty"`
	Amount      ledger.Money `json:"amount" doc:"分 credited to the courier (their share plus the whole tip)."`
	CompletedAt *time.Time   `json:"completedAt,omitempty"`
	CreditedAt  time.Time    `json:"creditedAt"`
}

// Earnings is the courier's earnings view: the figures and one page of per-order income.
type Earnings struct {
	CourierStats
	Items []CourierIncome `json:"items"`
	// NextBefore is the cursor of the next (older) page, 0 on the last.
	NextBefore int64 `json:"nextBefore,omitempty" doc:"Cursor of the next, older page; absent on the last page."`
}

// EarningsQuery pages the per-order income list, newest first.
type EarningsQuery struct {
	Limit  int   // 1..100; 0 means 20
	Before int64 // an entryId from the previous page; 0 for the newest
}

// Earnings returns courierID's earnings view. It needs no profile: whatever the ledger holds
// for the courier is shown.
func (s *Service) Earnings(ctx context.Context, t *tenancy.Tenant, courierID string, q EarningsQuery) (*Earnings, error) {
	if q.Limit <= 0 {
		q.Limit = defaultIncomeLimit
	}
	q.Limit = min(q.Limit, maxIncomeLimit)
	if q.Before <= 0 {
		q.Before = math.MaxInt64
	}
	out := &Earnings{Items: []CourierIncome{}}
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		stats, err := loadStats(tx, courierID, s.now())
		if err != nil {
			return err
		}
		out.CourierStats = *stats
		out.Items, out.NextBefore, err = incomes(tx, courierID, q)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("earnings of courier %s: %w", courierID, err)
	}
	return out, nil
}

// periods are the starts of the current day, week (Monday) and month in the tenant's zone.
type periods struct {
	loc              *time.Location
	day, week, month time.Time
}

func periodsAt(tx *gorm.DB, now time.Time) (periods, error) {
	loc, err := settings.Location(tx)
	if err != nil {
		return periods{}, err
	}
	n := now.In(loc)
	day := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	back := (int(day.Weekday()) + 6) % 7 // days since Monday
	return periods{
		loc:   loc,
		day:   day,
		week:  time.Date(n.Year(), n.Month(), n.Day()-back, 0, 0, 0, 0, loc),
		month: time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, loc),
	}, nil
}

func loadStats(tx *gorm.DB, courierID string, now time.Time) (*CourierStats, error) {
	p, err := periodsAt(tx, now)
	if err != nil {
		return nil, err
	}
	st := &CourierStats{TimeZone: p.loc.String()}
	if st.Balance, err = ledger.Balance(tx, ledger.Earnings(courierID)); err != nil {
		return nil, err
	}
	since := p.week
	if p.month.Before(since) {
		since = p.month
	}
	var income struct{ Today, Week, Month int64 }
	if err := tx.Raw(`
SELECT coalesce(sum(e.amount) FILTER (WHERE e.created_at >= ?), 0) AS today,
       coalesce(sum(e.amount) FILTER (WHERE e.created_at >= ?), 0) AS week,
       coalesce(sum(e.amount) FILTER (WHERE e.created_at >= ?), 0) AS month
FROM ledger_entries e
JOIN ledger_journals j ON j.id = e.journal_id
WHERE e.account_id = (SELECT id FROM ledger_accounts WHERE kind = 'earnings' AND owner = ?)
  AND e.created_at >= ? AND j.kind <> 'withdrawal'`,
		p.day, p.week, p.month, courierID, since).Scan(&income).Error; err != nil {
		return nil, fmt.Errorf("income totals: %w", err)
	}
	st.Today, st.Week, st.Month = ledger.Money(income.Today), ledger.Money(income.Week), ledger.Money(income.Month)

	if !validUUID(courierID) {
		return st, nil // no orders or reviews can name it; the queries below would fail on the cast
	}
	var orders struct{ Completed, Judged, OnTime int64 }
	if err := tx.Raw(`
SELECT count(*) FILTER (WHERE completed_at IS NOT NULL) AS completed,
       count(*) FILTER (WHERE delivered_at IS NOT NULL AND (window_end IS NOT NULL OR accepted_at IS NOT NULL)) AS judged,
       count(*) FILTER (WHERE delivered_at IS NOT NULL AND CASE
           WHEN window_end IS NOT NULL THEN delivered_at <= window_end
           ELSE delivered_at <= accepted_at + make_interval(secs => ?) END) AS on_time
FROM orders WHERE courier_id = ?`, OnTimeWithin.Seconds(), courierID).Scan(&orders).Error; err != nil {
		return nil, fmt.Errorf("order figures: %w", err)
	}
	st.CompletedOrders, st.DeliveredOrders, st.OnTimeOrders = orders.Completed, orders.Judged, orders.OnTime
	if orders.Judged > 0 {
		rate := math.Round(float64(orders.OnTime)/float64(orders.Judged)*10000) / 10000
		st.OnTimeRate = &rate
	}
	var reviews struct {
		N   int64
		Avg *float64
	}
	if err := tx.Raw(`SELECT count(*) AS n, round(avg(rating), 2)::float8 AS avg FROM order_reviews WHERE courier_id = ?`,
		courierID).Scan(&reviews).Error; err != nil {
		return nil, fmt.Errorf("ratings: %w", err)
	}
	st.RatingCount, st.RatingAverage = reviews.N, reviews.Avg
	return st, nil
}

// incomes is one page of the settlement credits on the courier's earnings account, newest
// first, each with its order (the journal's ref is "order:<id>").
func incomes(tx *gorm.DB, courierID string, q EarningsQuery) ([]CourierIncome, int64, error) {
	var rows []struct {
		EntryID     int64
		Amount      int64
		CreditedAt  time.Time
		Ref         string
		Number      *int64
		TaskType    *string
		CompletedAt *time.Time
	}
	// The CASE casts only refs shaped like "order:<uuid>", so an odd ref cannot fail the query.
	err := tx.Raw(`
SELECT e.id AS entry_id, e.amount, e.created_at AS credited_at, j.ref, o.number, o.task_type, o.completed_at
FROM ledger_entries e
JOIN ledger_journals j ON j.id = e.journal_id
LEFT JOIN orders o ON o.id = CASE WHEN j.ref ~* '^order:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                                  THEN substr(j.ref, 7)::uuid END
WHERE e.account_id = (SELECT id FROM ledger_accounts WHERE kind = 'earnings' AND owner = ?)
  AND j.kind = 'settlement' AND e.amount > 0 AND e.id < ?
ORDER BY e.id DESC
LIMIT ?`, courierID, q.Before, q.Limit+1).Scan(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("income list: %w", err)
	}
	var next int64
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		next = rows[len(rows)-1].EntryID
	}
	out := make([]CourierIncome, 0, len(rows))
	for _, r := range rows {
		in := CourierIncome{EntryID: r.EntryID, OrderID: strings.TrimPrefix(r.Ref, "order:"), Amount: ledger.Money(r.Amount),
			CreditedAt: r.CreditedAt, CompletedAt: r.CompletedAt}
		if r.Number != nil {
			in.OrderNumber = orderNumber(*r.Number)
		}
		if r.TaskType != nil {
			in.TaskType = *r.TaskType
		}
		out = append(out, in)
	}
	return out, next, nil
}

// orderNumber is how the orders package shows an order's number (P000123); couriers cannot
// import orders, which imports the gate from here.
func orderNumber(n int64) string { return fmt.Sprintf("P%06d", n) }
