// Package dispatch owns automatic dispatch: the batches that offer waiting orders to couriers
// (solver picks the pairs), the offers couriers accept or decline within the tenant's time
// limit, the alerts raised on the admin feed for orders nobody takes, and the explanations
// admins read of why a courier was chosen. Its tables are dispatch_batches, dispatch_offers
// and dispatch_alerts.
//
// Orders and couriers belong to other domains and are reached through the small interfaces
// declared here (Orders, Couriers); the order itself changes hands only through
// Orders.Assign, inside the offer's transaction. Dispatch reads a few columns of the orders
// table directly (status, paid_at, pickup and drop-off names) where it only needs to know
// whether an order still waits and what to show: never to change one.
//
// # Guarantees
//
//   - One batch per tenant at a time (a transaction-scoped advisory lock), and one pending offer
//     per order (a unique partial index, the last line of defence): two workers never offer one
//     order twice.
//   - A courier who declined an order or let its offer expire is never offered it again.
//   - An offer expires at its deadline through a delayed task written to the outbox in the
//     batch's transaction; every batch also closes overdue and stale offers it finds, so a lost
//     task delays an expiry by one tick at most.
//   - Live events (offers to couriers, waiting alerts to admins) are published after commit. A
//     lost event is repaired by clients re-reading; the tables are the truth.
//
// # Periodic work
//
// The scheduler enqueues TaskTick every ten seconds; HandleTick enqueues one TaskBatch per
// active tenant (unique per tenant, so batches never pile up) and HandleBatch raises waiting
// alerts (in every mode, grab included: an order nobody grabs needs a human too) and then runs
// a batch (dispatch and hybrid modes).
package dispatch
