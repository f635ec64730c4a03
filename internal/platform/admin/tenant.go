package admin

import (
	"errors"
	"time"

	"github.com/paotui/paotui/internal/platform/billing"
	"github.com/paotui/paotui/internal/platform/plans"
	"github.com/paotui/paotui/internal/platform/provision"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

var (
	// ErrTenantNotFound is returned for an unknown tenant id.
	ErrTenantNotFound = errors.New("tenant not found")
	// ErrAlreadySuspended is returned when suspending a suspended tenant.
	ErrAlreadySuspended = errors.New("the tenant is already suspended")
	// ErrNotSuspendable is returned when suspending a tenant that is provisioning or deleted:
	// only a running service can be paused.
	ErrNotSuspendable = errors.New("only an active tenant can be suspended")
	// ErrAlreadyActive is returned when resuming an active tenant.
	ErrAlreadyActive = errors.New("the tenant is already active")
	// ErrNotResumable is returned when resuming a tenant that is not suspended. Resuming a
	// provisioning tenant would mark it active before its schema is ready.
	ErrNotResumable = errors.New("only a suspended tenant can be resumed")
	// ErrTenantDeleted is returned when changing the plan of a deleted tenant.
	ErrTenantDeleted = errors.New("the tenant is deleted")
	// ErrReasonRequired is returned for a blank or overlong reason.
	ErrReasonRequired = errors.New("a reason of 1-200 characters is required")
)

// Page bounds of the tenant list.
const (
	DefaultLimit = 50
	MaxLimit     = 100
)

// ListFilter narrows List. Zero values do not filter.
type ListFilter struct {
	Query  string // substring of slug or name, case-insensitive
	Status tenancy.Status
	PlanID string
	Limit  int // 0 means DefaultLimit; at most MaxLimit
	Offset int
}

// PlatformTenant is a tenant as the super-admin's list shows it.
type PlatformTenant struct {
	ID           int64          `json:"id"`
	Slug         string         `json:"slug"`
	Name         string         `json:"name"`
	Status       tenancy.Status `json:"status" enum:"provisioning,active,suspended,deleted"`
	StatusReason string         `json:"statusReason" doc:"Why the status was last changed; empty if never said."`
	PlanID       *string        `json:"planId" doc:"null: the tenant has no plan and nothing is limited."`
	CreatedAt    time.Time      `json:"createdAt"`
}

// TenantGMV is money kept from completed orders: paid minus refunded, in minor units (分).
type TenantGMV struct {
	ThisMonth int64 `json:"thisMonth" doc:"Orders completed since the first of this month in the tenant's time zone, 分."`
	AllTime   int64 `json:"allTime" doc:"分."`
}

// TenantCouriers are a tenant's couriers able to work and those working now.
type TenantCouriers struct {
	Approved int64 `json:"approved"`
	Online   int64 `json:"online"`
}

// OrderStatuses are every order status, so a count map always has all of them.
var OrderStatuses = []string{"awaiting_payment", "awaiting_courier", "accepted", "picked_up", "delivered",
	"completed", "cancelled", "expired", "refunded"}

// TenantFigures are what a tenant's own schema tells about it.
type TenantFigures struct {
	GMV      TenantGMV        `json:"gmv"`
	Orders   map[string]int64 `json:"ordersByStatus" doc:"Every order status, with 0 for none."`
	Couriers TenantCouriers   `json:"couriers"`
}

// TenantDetail is one tenant with its plan, usage and figures.
type TenantDetail struct {
	PlatformTenant
	// Usage and Figures are absent while the tenant's schema is not in service (provisioning or
	// deleted).
	Usage        *plans.Usage
	Figures      *TenantFigures
	Provisioning *provision.Progress  // nil for an active or suspended tenant
	Subscription *billing.BillingView // nil without billing or a subscription
}

// PlatformMRR is the monthly recurring revenue of the active tenants in one currency.
type PlatformMRR struct {
	Currency string `json:"currency" example:"cny"`
	Amount   int64  `json:"amount" doc:"Sum of the plans' monthly display amounts, minor units."`
	Tenants  int64  `json:"tenants" doc:"Active tenants on a plan in this currency."`
}

// SignupWeek is the number of signups in one ISO week.
type SignupWeek struct {
	Week      string    `json:"week" example:"2026-W07" doc:"ISO 8601 week."`
	WeekStart time.Time `json:"weekStart" doc:"Monday 00:00 of the week, Asia/Shanghai."`
	Signups   int64     `json:"signups"`
}

// PlatformDashboard is the platform at a glance.
type PlatformDashboard struct {
	TenantsByStatus map[string]int64 `json:"tenantsByStatus" doc:"Every tenant status, with 0 for none."`
	Signups         []SignupWeek     `json:"signupsByWeek" doc:"The last 12 ISO weeks, oldest first, the current week last."`
	OrdersThisMonth int64            `json:"ordersThisMonth" doc:"Orders of active tenants created since the first of the month in each tenant's time zone, counted as the orders_per_month limit counts them (expired and unpaid cancelled orders left out)."`
	GMVThisMonth    int64            `json:"gmvThisMonth" doc:"Paid minus refunded of active tenants' orders completed this month, 分."`
	MRR             []PlatformMRR    `json:"mrr" doc:"Per currency: the monthly display amount of each active tenant's plan. Without billing a yearly subscriber's actual monthly share is unknown, so the monthly price stands in for it."`
	// Unreadable lists the active tenants whose figures could not be read (and are left out of
	// the sums), so a failing schema shows up instead of silently lowering the totals.
	Unreadable []string `json:"unreadableTenants"`
}
