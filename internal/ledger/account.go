package ledger

import "fmt"

// AccountKind says whose money an account holds. The values are stored in
// ledger_accounts.kind and never change once shipped.
type AccountKind string

const (
	// KindWallet is a student's prepaid balance, one per user.
	KindWallet AccountKind = "wallet"
	// KindEscrow holds what was paid for one order until it is settled or refunded, one per
	// order.
	KindEscrow AccountKind = "escrow"
	// KindEarnings is what the tenant owes a courier until it is paid out, one per courier.
	KindEarnings AccountKind = "earnings"
	// KindRevenue is the tenant's commission income, one per tenant.
	KindRevenue AccountKind = "revenue"
	// KindClearing mirrors a payment provider ("stripe", "offline", ...): its balance is minus
	// what the provider has brought into the books, net of what went back out through it.
	KindClearing AccountKind = "clearing"
	// KindRefunds holds refunds handed to a provider but not yet confirmed by it (Stripe refunds
	// are asynchronous and may fail), one per provider.
	KindRefunds AccountKind = "refunds"
	// KindSubsidy funds promotions (coupon discounts, sign-up credit), one per tenant; its
	// balance is minus what promotions have cost the tenant.
	KindSubsidy AccountKind = "subsidy"
)

var kinds = map[AccountKind]struct{ owned, negative bool }{
	KindWallet:   {owned: true},
	KindEscrow:   {owned: true},
	KindEarnings: {owned: true},
	KindRevenue:  {},
	KindClearing: {owned: true, negative: true},
	KindRefunds:  {owned: true},
	KindSubsidy:  {negative: true},
}

// AllowsNegative reports whether accounts of kind k may hold a negative balance. Only the two
// kinds that mirror money outside the tenant's books may: a provider's clearing account goes
// negative as money comes in, the subsidy account as promotions are paid for. Every other
// account holds money that belongs to someone, and below zero it would be money that never
// existed. The migration enforces the same rule with a CHECK.
func (k AccountKind) AllowsNegative() bool { return kinds[k].negative }

// AccountRef names an account: its kind and its owner (a user id, an order id, a provider
// name), or no owner for the tenant-wide kinds. Accounts are created on first use.
type AccountRef struct {
	Kind  AccountKind
	Owner string
}

// Wallet is a student's wallet.
func Wallet(userID string) AccountRef { return AccountRef{KindWallet, userID} }

// Escrow is one order's escrow.
func Escrow(orderID string) AccountRef { return AccountRef{KindEscrow, orderID} }

// Earnings is a courier's earnings.
func Earnings(courierID string) AccountRef { return AccountRef{KindEarnings, courierID} }

// Revenue is the tenant's commission revenue.
func Revenue() AccountRef { return AccountRef{Kind: KindRevenue} }

// Clearing is a payment provider's clearing account, e.g. Clearing("stripe").
func Clearing(provider string) AccountRef { return AccountRef{KindClearing, provider} }

// Refunds holds refunds in flight at a provider, e.g. Refunds("stripe").
func Refunds(provider string) AccountRef { return AccountRef{KindRefunds, provider} }

// Subsidy is the tenant's promotion subsidy.
func Subsidy() AccountRef { return AccountRef{Kind: KindSubsidy} }

// String is "kind:owner", or "kind" for a tenant-wide account.
func (a AccountRef) String() string {
	if a.Owner == "" {
		return string(a.Kind)
	}
	return string(a.Kind) + ":" + a.Owner
}

// maxOwner matches the length CHECK on ledger_accounts.owner.
const maxOwner = 100

func (a AccountRef) validate() error {
	k, ok := kinds[a.Kind]
	switch {
	case !ok:
		return fmt.Errorf("%w: unknown account kind %q", ErrInvalid, a.Kind)
	case k.owned && a.Owner == "":
		return fmt.Errorf("%w: %s account needs an owner", ErrInvalid, a.Kind)
	case !k.owned && a.Owner != "":
		return fmt.Errorf("%w: %s is tenant-wide and has no owner", ErrInvalid, a.Kind)
	case len(a.Owner) > maxOwner:
		return fmt.Errorf("%w: account owner longer than %d bytes", ErrInvalid, maxOwner)
	}
	return nil
}
