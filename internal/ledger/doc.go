// Package ledger owns the tenant's money: a double-entry ledger in the tenant schema
// (ledger_accounts, ledger_journals, ledger_entries). Every movement of money is one journal
// whose entries sum to zero, posted with Post in the same transaction as the business change it
// belongs to (an order paid, settled, refunded), so the two commit or roll back together.
// Check proves the books sound; ledgertest.RequireClean runs it in tests.
//
// # Accounts
//
// An account is named by a kind and an owner and created on first use:
//
//	wallet:<user id>        a student's prepaid balance
//	escrow:<order id>       what was paid for one order, until settled or refunded
//	earnings:<courier id>   what the tenant owes a courier, until paid out
//	revenue                 the tenant's commission income
//	clearing:<provider>     mirror of a payment provider: "stripe", "offline", ...
//	refunds:<provider>      refunds handed to a provider and not yet confirmed by it
//	subsidy                 what promotions (coupons, credit) cost the tenant
//
// Escrow is one account per order rather than one per tenant. Its balance is then exactly what
// the order still holds, so the overdraft rule bounds every refund and settlement by what that
// order was paid (partial refunds add up to at most the payment, with no extra bookkeeping), a
// finished order visibly ends at zero, and concurrent payments of different orders lock
// different rows instead of queueing on one tenant-wide escrow row. The price is one account
// row per order.
//
// # Sign convention
//
// A positive amount puts money into an account, a negative one takes it out; a balance is
// the money the account holds. The same rule holds for every kind, with no debit/credit
// normal sides to remember. Because every journal sums to zero, all balances of a tenant sum to
// zero: the money held inside the books (wallets, escrow, earnings, revenue, refunds in flight)
// is exactly matched by the negative balances of the accounts that mirror the outside world.
// Typical journals:
//
//	top-up        clearing:stripe −100, wallet:u +100
//	payment       wallet:u −90, subsidy −10, escrow:o +100    (a 10 分 coupon)
//	settlement    escrow:o −100, earnings:c +80, revenue +20  (Split(100, 8000))
//	refund        escrow:o −30, wallet:u +30                  (partial, back to the wallet)
//	card refund   escrow:o −30, refunds:stripe +30; on the provider's confirmation
//	              refunds:stripe −30, clearing:stripe +30
//	withdrawal    earnings:c −80, clearing:bank +80
//
// # What may go negative
//
// Only clearing and subsidy accounts: they mirror money outside the tenant's books (what a
// provider has brought in, what promotions have cost), so they run negative by design. Every
// other account holds money that belongs to someone; below zero it would be money that never
// existed. Post refuses such a journal with a *FundsError, and a CHECK on ledger_accounts
// refuses it again should any other writer try.
//
// # Concurrency
//
// Post creates and then locks the accounts a journal touches in one fixed order (kind, then
// owner, byte-wise), checks the balances under those locks and writes the journal, its entries
// and the new balances in one statement. Concurrent journals over the same accounts therefore
// queue rather than deadlock and never overdraw; the locks last until the caller's transaction
// ends. Tenant-wide accounts (revenue, subsidy, a provider's clearing) are shared by many
// journals, so keep the time between Post and commit short.
//
// # Defence in depth
//
// Beyond Post's checks the database enforces: a deferred constraint trigger rejects, at commit,
// any journal with fewer than two entries or entries not summing to zero; journals and entries
// are append-only (corrections are new journals); the overdraft CHECK; amounts are never zero.
//
// # Commission split
//
// Split gives the courier their share of an order rounded to the nearest 分, exact halves to
// the even 分 (banker's rounding, so over many orders neither side gains from rounding), and
// the tenant the rest, so the two always add up to the amount and no 分 is lost.
//
// # Idempotency
//
// A journal may carry an idempotency key, unique per tenant and namespaced by its source
// ("stripe:pi_123", "order:<id>:settle"). Posting a key again does not post anything: it
// returns the first journal's id with ErrDuplicate when the movement is the same (kind, ref and
// entries), so a retried webhook or job can treat it as done, or ErrKeyReused when it differs,
// which is a bug in the caller. Both are plain errors, not SQL errors: the transaction stays
// usable. Two transactions posting the same key at once end with one journal; the second waits
// for the first and then sees ErrDuplicate.
package ledger
