// Package jobs owns background work: the tenant task envelope every asynq payload is wrapped
// in, the transactional outbox and its relay to Redis, the worker server with its tenant
// middleware and per-tenant concurrency cap, the single-leader periodic scheduler, and the
// queue health read by the super-admin.
//
// # Tenants
//
// The context a task was enqueued with never reaches the worker, so the tenant travels in the
// payload: every task is an [Envelope] {"tenantId": 42, "data": {...}}. The worker middleware
// loads the tenant and puts it in the handler's ctx (tenancy.From), exactly as the HTTP
// middleware does, so handlers reach tenant data through store.InTenant the same way. Tenant
// id 0 marks platform work, which runs without a tenant.
//
// # Outbox guarantees
//
// A business transaction that must trigger work calls [Outbox.Add] with its own *gorm.DB. The
// row is written to public.outbox in that transaction, so:
//
//   - work is relayed if and only if the business change committed: a rolled-back transaction
//     leaves no row, and a committed one leaves a row that stays until it is relayed;
//   - a Redis outage delays work but never loses it: the relay leaves the row pending, counts
//     the attempt in attempts/last_error, and enqueues it once Redis answers again;
//   - delivery to Redis is at least once, execution is deduplicated: each row is enqueued with
//     task id "outbox:<id>" and kept in Redis for a day after it completes, so a row relayed
//     twice (a relay that died between enqueue and commit, two relays racing) is refused by
//     asynq with ErrTaskIDConflict and runs once. Relays claim rows with FOR UPDATE SKIP
//     LOCKED, so any number of replicas may run one;
//   - a task may still run more than once: asynq retries failed handlers and re-runs tasks
//     whose worker died, so handlers must be idempotent (check state, then act).
//
// Rows carry ids only, never personal data: payloads are kept for the retention period and
// copied into Redis.
//
// # Periodic work
//
// Periodic work is one fan-out task per period (for example "orders:sweep_expired" that lists
// active tenants and enqueues one tenant task each), never a cron entry per tenant: entries are
// fixed at start while tenants come and go, and thousands of entries would fire in the same
// second. Only the [Scheduler] holding the Redis leader lock enqueues periodic tasks, so
// replicas do not duplicate them; a leader change may, at worst, repeat or skip one period,
// which the idempotent sweepers absorb.
package jobs
