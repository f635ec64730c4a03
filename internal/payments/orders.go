package payments

import (
	"context"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/ledger"
)

// OrderPayments is the Service as the orders domain calls it (its Payments interface): the same
// calls on order payments, answering only what an order needs, the error and a Stripe payment's
// client secret. The Service methods say what each call does.
type OrderPayments struct{ Service *Service }

// PayFromWallet is Service.PayFromWallet.
func (o OrderPayments) PayFromWallet(tx *gorm.DB, orderID, userID string, amount ledger.Money, idemKey string) error {
	_, err := o.Service.PayFromWallet(tx, orderID, userID, amount, idemKey)
	return err
}

// StartStripe is Service.StartStripe for an order.
func (o OrderPayments) StartStripe(ctx context.Context, tx *gorm.DB, tenantID int64, orderID, userID string,
	amount ledger.Money, method, idemKey string) (clientSecret string, err error) {
	_, secret, err := o.Service.StartStripe(ctx, tx, tenantID, PurposeOrder, orderID, userID, amount, method, idemKey)
	return secret, err
}

// PublishableKey is Service.PublishableKey: what an order's Stripe payment is confirmed with,
// sent along with StartStripe's client secret.
func (o OrderPayments) PublishableKey() string { return o.Service.PublishableKey() }

// MarkOffline is Service.MarkOffline.
func (o OrderPayments) MarkOffline(tx *gorm.DB, orderID, userID string, amount ledger.Money, actor, reason string) error {
	_, err := o.Service.MarkOffline(tx, orderID, userID, amount, actor, reason)
	return err
}

// Refund is Service.Refund.
func (o OrderPayments) Refund(ctx context.Context, tx *gorm.DB, orderID string, amount ledger.Money, reason, actor, idemKey string) error {
	_, err := o.Service.Refund(ctx, tx, orderID, amount, reason, actor, idemKey)
	return err
}
