// Package reports answers a campus team's questions about its own business: the figures and
// the daily trend the admin dashboard shows, counted in the tenant's time zone. Reads only;
// every query runs inside the tenant's scoped transaction.
package reports

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/settings"
	"github.com/paotui/paotui/internal/store"
)

// MaxDays is the longest trend the dashboard asks for.
const MaxDays = 90

// ErrDays is a trend length outside 1..MaxDays.
var ErrDays = errors.New("days must be 1 to 90")

// Dashboard is a team's figures: today's, what is open now, and a trend by day.
type Dashboard struct {
	Zone       string       `json:"zone" example:"Asia/Shanghai" doc:"The team's time zone; days are counted in it."`
	Today      DayFigures   `json:"today"`
	OpenOrders int64        `json:"openOrders" doc:"Orders paid and not yet delivered: waiting for a courier, accepted or picked up."`
	Couriers   Couriers     `json:"couriers"`
	Trend      []DayFigures `json:"trend" doc:"One entry per day, oldest first, ending today; days without orders are zeros."`
}

// DayFigures are one day's orders and money, in minor units (分).
type DayFigures struct {
	Date      string `json:"date" example:"2026-11-25" doc:"The day in the team's time zone."`
	Orders    int64  `json:"orders" doc:"Orders created that day that count (not expired, not cancelled before payment)."`
	Completed int64  `json:"completed" doc:"Orders completed that day."`
	GMV       int64  `json:"gmv" doc:"Paid less refunded, of the orders completed that day."`
}

// Couriers counts approved couriers and those online now.
type Couriers struct {
	Approved int64 `json:"approved"`
	Online   int64 `json:"online"`
}

// Service reads a tenant's figures.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// New returns the service.
func New(db *store.DB) *Service { return &Service{db: db, now: time.Now} }

// Dashboard returns scope's figures with a trend of days days (1..MaxDays). Errors: ErrDays.
func (s *Service) Dashboard(ctx context.Context, scope store.Scope, days int) (*Dashboard, error) {
	if days < 1 || days > MaxDays {
		return nil, ErrDays
	}
	var d *Dashboard
	err := s.db.InTenant(ctx, scope, func(tx *gorm.DB) error {
		var err error
		d, err = dashboard(tx, s.now(), days)
		return err
	})
	return d, err
}

func dashboard(tx *gorm.DB, now time.Time, days int) (*Dashboard, error) {
	loc, err := settings.Location(tx)
	if err != nil {
		return nil, err
	}
	local := now.In(loc)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	first := today.AddDate(0, 0, -(days - 1))
	d := &Dashboard{Zone: loc.String(), Trend: make([]DayFigures, days)}
	index := map[string]int{}
	for i := range days {
		day := first.AddDate(0, 0, i).Format(time.DateOnly)
		d.Trend[i] = DayFigures{Date: day}
		index[day] = i
	}
	// Days are cut in the team's zone by PostgreSQL, so a day is 23 or 25 hours where the zone
	// has daylight saving.
	var created []struct {
		Day string
		N   int64
	}
	if err := tx.Raw(`SELECT to_char(created_at AT TIME ZONE ?, 'YYYY-MM-DD') AS day, count(*) AS n FROM orders
		WHERE created_at >= ? AND status <> 'expired' AND NOT (status = 'cancelled' AND paid_at IS NULL)
		GROUP BY 1`, loc.String(), first.UTC()).Scan(&created).Error; err != nil {
		return nil, fmt.Errorf("orders by day: %w", err)
	}
	for _, c := range created {
		if i, ok := index[c.Day]; ok {
			d.Trend[i].Orders = c.N
		}
	}
	var completed []struct {
		Day string
		N   int64
		GMV int64
	}
	if err := tx.Raw(`SELECT to_char(completed_at AT TIME ZONE ?, 'YYYY-MM-DD') AS day, count(*) AS n,
			coalesce(sum(paid_amount - refunded_amount), 0) AS gmv
		FROM orders WHERE completed_at >= ? GROUP BY 1`, loc.String(), first.UTC()).Scan(&completed).Error; err != nil {
		return nil, fmt.Errorf("completed by day: %w", err)
	}
	for _, c := range completed {
		if i, ok := index[c.Day]; ok {
			d.Trend[i].Completed, d.Trend[i].GMV = c.N, c.GMV
		}
	}
	d.Today = d.Trend[days-1]
	if err := tx.Raw(`SELECT count(*) FROM orders WHERE status IN ('awaiting_courier', 'accepted', 'picked_up')`).
		Scan(&d.OpenOrders).Error; err != nil {
		return nil, fmt.Errorf("open orders: %w", err)
	}
	if err := tx.Raw(`SELECT count(*) FILTER (WHERE status = 'approved') AS approved, count(*) FILTER (WHERE online) AS online
		FROM courier_profiles`).Scan(&d.Couriers).Error; err != nil {
		return nil, fmt.Errorf("couriers: %w", err)
	}
	return d, nil
}

var problems = httpx.ProblemTable{
	httpx.Rule(ErrDays, http.StatusUnprocessableEntity, "report_days_invalid", ""),
}

type dashboardInput struct {
	Days int `query:"days" minimum:"1" maximum:"90" default:"14" doc:"How many days the trend covers, ending today."`
}

type dashboardOutput struct{ Body Dashboard }

// RegisterHTTP adds get-admin-dashboard on the tenant host.
func RegisterHTTP(api huma.API, s *Service) {
	httpx.Register(api, huma.Operation{
		OperationID: "get-admin-dashboard", Method: http.MethodGet, Path: "/api/v1/admin/dashboard", Tags: []string{"reports"},
		Summary: "Today's orders, completions and GMV, open orders, couriers, and a trend by day in the team's time zone",
	}, httpx.Perm(httpx.ScopeTenant, "orders:read"), func(ctx context.Context, in *dashboardInput) (*dashboardOutput, error) {
		d, err := s.Dashboard(ctx, httpx.HostFrom(ctx).Tenant, in.Days)
		if err != nil {
			return nil, problems.Map(err)
		}
		return &dashboardOutput{Body: *d}, nil
	})
}
