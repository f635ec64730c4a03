package dispatch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/dispatch/solver"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/realtime"
)

// WaitingOrder is an order dispatch may offer now.
type WaitingOrder struct {
	ID     string
	Pickup solver.Point
	Reward int64 // the courier's share in 分, shown with the offer
	PaidAt time.Time
	// Excluded are couriers who declined or let an offer for it expire. Dispatch adds the ones
	// its own table knows, so implementations may leave it empty.
	Excluded []string
}

// Orders is what dispatch needs of the orders domain.
type Orders interface {
	// Waiting lists orders in awaiting_courier that dispatch may offer at now: in dispatch
	// mode all of them, in hybrid those paid more than grabWindow ago. Dispatch itself leaves
	// out orders with a pending offer, so implementations need not.
	Waiting(tx *gorm.DB, now time.Time, mode string, grabWindow time.Duration) ([]WaitingOrder, error)
	// Assign gives the order to the courier inside tx: the courier gate (approved, online,
	// credit), the concurrent-orders limit and the order's status are checked in the same
	// decision; it returns orders' errors (e.g. already taken) unchanged. Dispatch calls it
	// inside a savepoint, so an error that aborted a statement does not doom tx.
	Assign(tx *gorm.DB, t *tenancy.Tenant, orderID, courierID, via, reason string) error
}

// Couriers is what dispatch needs of the couriers domain.
type Couriers interface {
	// Candidates are online, approved couriers above the credit threshold, with their
	// position (those without a recent position are left out), load (orders carried now),
	// idle time, credit and today's earnings. MaxLoad ≤ 0 means the tenant's MaxActiveOrders.
	// Dispatch adds each courier's pending offers to Load.
	Candidates(ctx context.Context, tx *gorm.DB, t *tenancy.Tenant, now time.Time) ([]solver.Courier, error)
}

// Publisher sends live events; realtime implements it over Redis pub/sub.
type Publisher interface {
	Publish(ctx context.Context, channel, typ string, data any) (string, error)
}

// Live channels (formats owned by realtime) and the event types dispatch publishes on them.
const (
	// EventOffer (courier channel): a new offer; data is an OfferEvent.
	EventOffer = "offer"
	// EventOfferClosed (courier channel): a pending offer expired or was withdrawn; data is an
	// OfferClosedEvent.
	EventOfferClosed = "offer_closed"
	// EventOrderWaiting (admin feed): an order waited for a courier longer than the tenant's
	// WaitingAlert; data is an OrderWaitingEvent. Sent once per order.
	EventOrderWaiting = "order_waiting"
)

// CourierChannel is the live channel of one courier of a tenant.
func CourierChannel(tenantID int64, courierID string) string {
	return realtime.CourierChannel(tenantID, courierID)
}

// AdminChannel is the tenant's admin live feed.
func AdminChannel(tenantID int64) string { return realtime.AdminChannel(tenantID) }

// OfferEvent tells a courier about a new offer; the app then reads list-my-offers.
type OfferEvent struct {
	OfferID   string    `json:"offerId"`
	OrderID   string    `json:"orderId"`
	Reward    int64     `json:"reward"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// OfferClosedEvent tells a courier a pending offer is gone.
type OfferClosedEvent struct {
	OfferID string `json:"offerId"`
	OrderID string `json:"orderId"`
	Status  string `json:"status"` // expired or withdrawn
}

// OrderWaitingEvent is the admin feed's alert for an order nobody has taken.
type OrderWaitingEvent struct {
	OrderID        string `json:"orderId"`
	WaitingSeconds int64  `json:"waitingSeconds"`
}

// Offer statuses. Declined and expired count against the courier's acceptance rate; withdrawn
// (the order was cancelled or taken another way meanwhile) counts against nobody.
const (
	StatusPending   = "pending"
	StatusAccepted  = "accepted"
	StatusDeclined  = "declined"
	StatusExpired   = "expired"
	StatusWithdrawn = "withdrawn"
)

// Dispatch modes of settings.Business.DispatchMode.
const (
	ModeGrab     = "grab"
	ModeDispatch = "dispatch"
	ModeHybrid   = "hybrid"
)

// MaxReasonRunes is the longest decline reason kept.
const MaxReasonRunes = 200

var (
	// ErrOfferNotFound (offer_not_found) is returned for an offer id this tenant does not have.
	ErrOfferNotFound = errors.New("offer not found")
	// ErrOfferNotYours (offer_not_yours) is returned when a courier acts on another's offer.
	ErrOfferNotYours = errors.New("this offer was made to another courier")
	// ErrOfferClosed (offer_closed) is returned for an offer already accepted, declined,
	// expired or withdrawn.
	ErrOfferClosed = errors.New("this offer is no longer open")
	// ErrOfferExpired (offer_expired) is returned when the courier answers after the deadline;
	// the offer is then marked expired.
	ErrOfferExpired = errors.New("the time to answer this offer has passed")
	// ErrReasonTooLong (decline_reason_too_long) is returned for a decline reason over
	// MaxReasonRunes characters.
	ErrReasonTooLong = fmt.Errorf("a decline reason has at most %d characters", MaxReasonRunes)
	// ErrOrderNotFound (order_not_found) is returned by OrderDispatch for an unknown order.
	ErrOrderNotFound = errors.New("order not found")
	// ErrDispatchOff (dispatch_off) is returned by RunBatch when the tenant is in grab mode.
	ErrDispatchOff = errors.New("automatic dispatch is off: the tenant dispatches in grab mode")
)

// Batch is one solver run that made offers, with the figures admins compare: how many orders
// and couriers it saw, how many it assigned and at what total cost, and what nearest-courier
// dispatch (solver.Greedy) would have done on the same batch.
type Batch struct {
	ID             string    `json:"id"`
	StartedAt      time.Time `json:"startedAt"`
	Mode           string    `json:"mode"`
	Orders         int       `json:"orders"`
	Couriers       int       `json:"couriers"`
	Assigned       int       `json:"assigned"`
	TotalCost      float64   `json:"totalCost"`
	GreedyCost     float64   `json:"greedyCost"`
	GreedyAssigned int       `json:"greedyAssigned"`
	DurationMs     float64   `json:"durationMs"` // the solver's time, cost matrix included
}

// BatchOffer is an offer a batch made and why.
type BatchOffer struct {
	OfferID     string        `json:"offerId"`
	OrderID     string        `json:"orderId"`
	CourierID   string        `json:"courierId"`
	Cost        float64       `json:"cost"`
	Explanation []solver.Term `json:"explanation"`
	Reward      int64         `json:"reward"` // the courier's share of the order, in 分
	ExpiresAt   time.Time     `json:"expiresAt"`
}

// BatchResult is what RunBatch did. Batch.ID is empty when no offer was made (nothing waiting,
// nobody online, or no feasible pair); the counts are filled in all the same.
type BatchResult struct {
	Batch  Batch        `json:"batch"`
	Offers []BatchOffer `json:"offers"`
	// Closed counts the stale pending offers the run closed first: overdue ones expired, ones
	// whose order stopped waiting withdrawn.
	Closed int `json:"closed"`
}

// CourierOffer is an offer as its courier sees it, with the order's summary.
type CourierOffer struct {
	ID          string    `json:"id"`
	OrderID     string    `json:"orderId"`
	Status      string    `json:"status"`
	Reward      int64     `json:"reward"`
	PickupName  string    `json:"pickupName"`
	DropoffName string    `json:"dropoffName"`
	ExpiresAt   time.Time `json:"expiresAt"`
	CreatedAt   time.Time `json:"createdAt"`
}

// OfferView is an offer as admins see it: who, what became of it, its cost with the terms
// that make it up, and the batch it came from.
type OfferView struct {
	ID            string        `json:"id"`
	OrderID       string        `json:"orderId"`
	CourierID     string        `json:"courierId"`
	Status        string        `json:"status"`
	Cost          float64       `json:"cost"`
	Explanation   []solver.Term `json:"explanation"`
	Reward        int64         `json:"reward"`
	ExpiresAt     time.Time     `json:"expiresAt"`
	CreatedAt     time.Time     `json:"createdAt"`
	DecidedAt     *time.Time    `json:"decidedAt,omitempty"`
	DeclineReason string        `json:"declineReason,omitempty"`
	Batch         Batch         `json:"batch"`
}
