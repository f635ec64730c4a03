// Package payments owns money coming in and going back: paying an order or loading a wallet
// through a provider (the wallet itself, Stripe PaymentIntents with card, Alipay or WeChat Pay,
// cash marked by staff, a staff credit), Stripe webhooks, and refunds back through the provider
// a payment came from. The tables are payments and refunds in the tenant schema and
// public.stripe_events in the control plane; every amount that moves is a ledger journal.
//
// # Transactions
//
// Every method that changes money takes the caller's tenant transaction, so the order change
// (made by the orders domain), the payment row, its ledger journal and its outbox rows commit
// or roll back together. A refusal (ErrInsufficientFunds, ErrAlreadyPaid, ErrRefundTooLarge,
// ...) writes nothing and leaves the transaction usable: the work is done inside a savepoint
// that is rolled back, so a caller may, say, fall back from the wallet to Stripe. Any other
// error may have aborted the transaction; the caller must roll back.
//
// Callers serialise payments of one order by locking the order row; PayFromWallet, MarkOffline,
// StartStripe and Refund take that lock themselves too (SELECT ... FOR UPDATE on orders), which
// is a no-op when the caller holds it already.
//
// # Accounts
//
//	wallet pay     wallet:u −x, escrow:o +x                                 (payment)
//	cash (staff)   clearing:offline −x, escrow:o +x                         (payment)
//	staff credit   subsidy −x, wallet:u +x                                  (adjustment, memo = reason)
//	stripe order   clearing:stripe −x, escrow:o +x                          (payment, on the webhook)
//	stripe top-up  clearing:stripe −x, wallet:u +x                          (topup, on the webhook)
//	refund wallet  escrow:o −x, wallet:u +x                                 (refund)
//	refund stripe  escrow:o −x, refunds:stripe +x; when Stripe confirms
//	               refunds:stripe −x, clearing:stripe +x                    (refund, twice)
//	refund cash    escrow:o −x, clearing:offline +x                         (refund)
//
// Cash goes back at the desk when staff record the refund, so nothing is in flight and no
// refunds:offline step is needed. A staff credit is tenant-funded money (compensation,
// goodwill, a correction), so it comes from the subsidy account; cash a student hands over to
// load the wallet would be clearing:offline → wallet, which this package does not offer yet.
//
// # Stripe
//
// StartStripe creates the pending payment row and the PaymentIntent inside the caller's
// transaction: one API call, keyed by the payment id so a retry never makes a second intent. If
// the transaction rolls back after the call, an orphan intent remains at Stripe whose client
// secret nobody received; its webhooks find no payment and are dropped. The client secret is
// returned, never stored; a replay with the same Idempotency-Key reads it back from Stripe.
//
// Webhooks are verified on the raw body, recorded in public.stripe_events (the event id is the
// primary key: a replayed event is a duplicate and does nothing) together with an outbox row
// "payments:stripe_event" in one control-plane transaction. The job re-fetches the intent (or
// refund) from Stripe rather than trusting the event body or the order events arrive in, and
// applies its current status in the tenant's schema; running it again changes nothing.
// A succeeded intent is always booked, even if our row said failed or cancelled: the money has
// arrived, and "payments:succeeded" lets the orders domain decide (pay the order, or refund a
// duplicate).
//
// Payment method types are allowed per tenant by the settings key "payments":
// {"stripe_methods": ["card", "alipay", "wechat_pay"]}. Without that row only "card" is
// allowed: Alipay and WeChat Pay must be activated on the Stripe account first.
package payments
