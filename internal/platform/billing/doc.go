// Package billing runs tenants' subscriptions through Stripe Billing: it opens a subscription
// at signup (a trial without a card, or a Checkout session), mirrors Stripe's webhooks into
// public.subscriptions and public.invoices, turns the subscription's state into the tenant's
// (past due starts a grace period with a banner, after which the tenant is held; paying lifts
// the hold), changes plans with Stripe's proration, opens the customer portal, extends trials
// and reports metered usage.
//
// Stripe is the source of truth for money; the subscription row is a mirror that only ever
// moves forward in event time (events arrive out of order and more than once). Webhooks are
// verified, recorded once in public.billing_events and applied by an outbox job, so a crash
// between receiving and applying loses nothing.
package billing
