package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/authz"
	"github.com/paotui/paotui/internal/couriers"
	"github.com/paotui/paotui/internal/dispatch"
	"github.com/paotui/paotui/internal/dispatch/solver"
	"github.com/paotui/paotui/internal/platform/plans"
	"github.com/paotui/paotui/internal/realtime"
	"github.com/paotui/paotui/internal/settings"
	"github.com/paotui/paotui/internal/tracking"

	"github.com/paotui/paotui/internal/orderchat"
	"github.com/paotui/paotui/internal/orders"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// chatOrders gives the order chat who an order concerns.
type chatOrders struct{ orders *orders.Service }

func (c chatOrders) Parties(ctx context.Context, t *tenancy.Tenant, orderID string) (orderchat.Parties, error) {
	student, courier, status, err := c.orders.Parties(ctx, t, orderID)
	if errors.Is(err, orders.ErrNotFound) {
		return orderchat.Parties{}, orderchat.ErrNotFound
	}
	if err != nil {
		return orderchat.Parties{}, err
	}
	return orderchat.Parties{StudentID: student, CourierID: courier, Status: string(status), Terminal: status.Terminal()}, nil
}

// dispatchOrders gives dispatch the orders side: waiting orders and assignment.
type dispatchOrders struct{ orders *orders.Service }

func (d dispatchOrders) Waiting(tx *gorm.DB, now time.Time, mode string, grabWindow time.Duration) ([]dispatch.WaitingOrder, error) {
	list, err := d.orders.Waiting(tx, now, mode, grabWindow)
	if err != nil {
		return nil, err
	}
	out := make([]dispatch.WaitingOrder, len(list))
	for i, o := range list {
		out[i] = dispatch.WaitingOrder{ID: o.ID, Pickup: solver.Point{Lng: o.PickupLng, Lat: o.PickupLat}, Reward: o.Reward, PaidAt: o.PaidAt}
	}
	return out, nil
}

func (d dispatchOrders) Assign(tx *gorm.DB, t *tenancy.Tenant, orderID, courierID, via, reason string) error {
	return d.orders.AssignTx(tx, t, orderID, courierID, orders.ActorCourier, courierID, strings.TrimSpace(via+" "+reason))
}

// Positions gives couriers' latest positions (tracking).
type Positions interface {
	Positions(ctx context.Context, tid int64, ids []string) (map[string]tracking.Fix, error)
}

// dispatchCouriers gives dispatch its candidates: online, approved couriers above the credit
// threshold with a recent position, their load, idle time, credit and today's earnings.
type dispatchCouriers struct{ pos Positions }

func (d dispatchCouriers) Candidates(ctx context.Context, tx *gorm.DB, t *tenancy.Tenant, now time.Time) ([]solver.Courier, error) {
	b, err := settings.Load(tx)
	if err != nil {
		return nil, err
	}
	cands, err := couriers.CandidatesAt(tx, b.MinCredit, now)
	if err != nil || len(cands) == 0 {
		return nil, err
	}
	ids := make([]string, len(cands))
	for i, c := range cands {
		ids[i] = c.UserID
	}
	fixes, err := d.pos.Positions(ctx, t.ID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]solver.Courier, 0, len(cands))
	for _, c := range cands {
		f, ok := fixes[c.UserID]
		if !ok {
			continue // no recent position: distance cannot be costed
		}
		out = append(out, solver.Courier{ID: c.UserID, At: solver.Point{Lng: f.Lng, Lat: f.Lat},
			IdleSeconds: int64(now.Sub(c.IdleSince).Seconds()), Load: c.Load, MaxLoad: b.MaxActiveOrders,
			Credit: c.Credit, EarnedToday: int64(c.EarnedToday)})
	}
	return out, nil
}

// chatLive publishes chat messages on the order's live channel.
type chatLive struct{ pub *realtime.Publisher }

func (c chatLive) MessagePosted(ctx context.Context, t *tenancy.Tenant, orderID string, m orderchat.Message) {
	_, _ = c.pub.Publish(ctx, realtime.OrderChannel(t.ID, orderID), "chat", m)
}

// hallLocator gives the hall a courier's last position.
type hallLocator struct{ pos *tracking.Service }

func (h hallLocator) CourierPosition(ctx context.Context, tenantID int64, courierID string) (*orders.HallPoint, error) {
	f, ok, err := h.pos.Position(ctx, tenantID, courierID)
	if err != nil || !ok {
		return nil, err
	}
	return &orders.HallPoint{Lng: f.Lng, Lat: f.Lat}, nil
}

// planLimits applies a tenant's plan limits to new orders, courier approvals and staff seats.
type planLimits struct {
	plans *plans.Service
	authz *authz.Authorizer
}

func (p planLimits) AllowOrder(ctx context.Context, t *tenancy.Tenant) error {
	return p.plans.Allow(ctx, t, plans.KindOrdersPerMonth)
}

func (p planLimits) AllowCourier(ctx context.Context, t *tenancy.Tenant) error {
	return p.plans.Allow(ctx, t, plans.KindActiveCouriers)
}

// AllowSeat takes a seat only for someone becoming staff: a staff member given another role
// keeps the one seat they have.
func (p planLimits) AllowSeat(ctx context.Context, t *tenancy.Tenant, userID, role string) error {
	if !slices.Contains(authz.StaffRoles(), role) {
		return nil
	}
	held, err := p.authz.RolesOf(ctx, t, userID)
	if err != nil {
		return err
	}
	for _, r := range held {
		if slices.Contains(authz.StaffRoles(), r) {
			return nil
		}
	}
	return p.plans.Allow(ctx, t, plans.KindStaffSeats)
}
