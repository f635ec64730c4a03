package payments

import (
	"errors"
	"time"

	"github.com/paotui/paotui/internal/ledger"
)

// Provider is where a payment's money came from. The values are stored in payments.provider
// and never change once shipped.
type Provider string

const (
	ProviderWallet  Provider = "wallet"  // the student's wallet balance
	ProviderStripe  Provider = "stripe"  // a Stripe PaymentIntent (card, Alipay, WeChat Pay)
	ProviderOffline Provider = "offline" // cash (or a transfer) received by staff
	ProviderStaff   Provider = "staff"   // a tenant-funded wallet credit by staff
)

// Purpose is what a payment pays for.
type Purpose string

const (
	PurposeOrder Purpose = "order" // an order's price, into the order's escrow
	PurposeTopup Purpose = "topup" // money loaded into the student's wallet
)

// Status is where a payment is. Only Stripe payments are ever pending, failed or cancelled;
// failed is not final (the student may retry the same intent with another card).
type Status string

const (
	StatusPending   Status = "pending"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
)

// Stripe payment method types a tenant may allow.
const (
	MethodCard      = "card"
	MethodAlipay    = "alipay"
	MethodWeChatPay = "wechat_pay"
)

// Methods lists every payment method type Stripe payments may use.
var Methods = []string{MethodCard, MethodAlipay, MethodWeChatPay}

// Currency is the currency of every payment: Chinese yuan, in 分.
const Currency = "cny"

// Payment is money coming in for an order or a wallet top-up.
type Payment struct {
	ID          string       `json:"id"`
	Purpose     Purpose      `json:"purpose"`
	OrderID     string       `json:"orderId,omitempty"`
	UserID      string       `json:"userId"`
	Provider    Provider     `json:"provider"`
	Method      string       `json:"method,omitempty"`
	Amount      ledger.Money `json:"amount"`
	Refunded    ledger.Money `json:"refunded"`
	Currency    string       `json:"currency"`
	Status      Status       `json:"status"`
	ProviderRef string       `json:"providerRef,omitempty"`
	Reason      string       `json:"reason,omitempty"`
	CreatedBy   string       `json:"createdBy,omitempty"`
	CreatedAt   time.Time    `json:"createdAt"`
	SucceededAt *time.Time   `json:"succeededAt,omitempty"`
}

// RefundStatus is where a refund is. Wallet and cash refunds succeed at once; Stripe refunds
// are pending until Stripe confirms them, and a failed one gives its amount back to the
// payment and the order's escrow.
type RefundStatus string

const (
	RefundPending   RefundStatus = "pending"
	RefundSucceeded RefundStatus = "succeeded"
	RefundFailed    RefundStatus = "failed"
)

// Refund is money going back through the provider one payment came from.
type Refund struct {
	ID          string       `json:"id"`
	PaymentID   string       `json:"paymentId"`
	OrderID     string       `json:"orderId"`
	Provider    Provider     `json:"provider"`
	Amount      ledger.Money `json:"amount"`
	Reason      string       `json:"reason"`
	ProviderRef string       `json:"providerRef,omitempty"`
	Status      RefundStatus `json:"status"`
	CreatedBy   string       `json:"createdBy,omitempty"`
	CreatedAt   time.Time    `json:"createdAt"`
}

var (
	// ErrInsufficientFunds is returned when the wallet holds less than the payment. The error
	// also wraps ledger's *FundsError, which says how much the wallet holds.
	ErrInsufficientFunds = errors.New("wallet balance is too low")
	// ErrAlreadyPaid is returned when the order already has a succeeded payment.
	ErrAlreadyPaid = errors.New("order is already paid")
	// ErrStripeDisabled is returned for a Stripe payment or refund when Stripe is not configured.
	ErrStripeDisabled = errors.New("online payment is not available")
	// ErrMethodNotAllowed is returned for a payment method type the tenant does not allow.
	ErrMethodNotAllowed = errors.New("payment method is not allowed")
	// ErrBadSignature is returned for a webhook whose Stripe-Signature does not verify (or is
	// missing, malformed or too old).
	ErrBadSignature = errors.New("webhook signature is invalid")
	// ErrBadEvent is returned for a signed webhook body that is not a Stripe event of the API
	// version this build understands (the endpoint must be pinned to stripe.APIVersion).
	ErrBadEvent = errors.New("webhook body is not a supported Stripe event")
	// ErrRefundTooLarge is returned when a refund asks for more than the order's payments (or
	// its escrow) still hold.
	ErrRefundTooLarge = errors.New("refund exceeds what is left to refund")
	// ErrReasonRequired is returned when a staff action or a refund comes without a reason.
	ErrReasonRequired = errors.New("a reason is required")
	// ErrIdempotencyMismatch is returned when an Idempotency-Key was already used for a
	// different payment or refund (another order, amount, provider or method).
	ErrIdempotencyMismatch = errors.New("idempotency key was used for a different request")
	// ErrNotFound is returned for an unknown (or malformed) order, user or payment id, or an
	// order that is not the user's.
	ErrNotFound = errors.New("not found")
	// ErrInvalid is returned for an amount that is not positive, an unknown purpose or a
	// malformed argument.
	ErrInvalid = errors.New("invalid payment request")
	// ErrProvider is returned when the payment provider (Stripe) failed or refused the call;
	// it wraps the provider's error. Nothing was written.
	ErrProvider = errors.New("payment provider error")
)
