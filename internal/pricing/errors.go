package pricing

import "errors"

// Quote errors. Each has its own problem code in the HTTP layer, so a client can say which
// field is wrong.
var (
	// ErrBadRule is returned for a rule or surcharge the tenant configured wrongly (negative
	// or oversized fee, detour outside 1.0..3.0, malformed window) or a missing location.
	ErrBadRule = errors.New("invalid pricing rule")
	// ErrBadPoint is returned for a coordinate that is not a finite lng in [-180, 180] and
	// lat in [-90, 90].
	ErrBadPoint = errors.New("coordinates out of range")
	// ErrUnknownSize is returned for a size class the task type does not price.
	ErrUnknownSize = errors.New("unknown size class")
	// ErrBadMinutes is returned for minutes outside 0..MaxMinutes.
	ErrBadMinutes = errors.New("minutes out of range")
	// ErrBadTip is returned for a negative tip or one above MaxTip.
	ErrBadTip = errors.New("tip out of range")
	// ErrBadCoupon is returned for a negative coupon or one above MaxAmount.
	ErrBadCoupon = errors.New("coupon out of range")
	// ErrBadTime is returned when the order time is missing.
	ErrBadTime = errors.New("order time is required")
)

// Quote token errors, in the order Verify checks them.
var (
	// ErrQuoteMalformed is returned for a string that is not a quote token at all.
	ErrQuoteMalformed = errors.New("quote token is malformed")
	// ErrQuoteTampered is returned for a token whose signature does not match, or that was
	// issued for another tenant.
	ErrQuoteTampered = errors.New("quote token is not genuine")
	// ErrQuoteExpired is returned for a genuine token past its expiry: the student must
	// re-quote.
	ErrQuoteExpired = errors.New("quote has expired")
	// ErrQuoteMismatch is returned for a genuine, live token whose inputs differ from the
	// order's.
	ErrQuoteMismatch = errors.New("quote does not match the order")
)
