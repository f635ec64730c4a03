// Package settings owns a tenant's business rules as its admin edits them: commission split,
// payment timeout, auto-confirm delay, free-cancel limit, distance detour factor, time-of-day
// surcharges, allowed online payment methods and dispatch mode. They are stored as the
// documents of the tenant's settings table that the blueprint seeded and the domains read
// (orders, pricing, payments, dispatch); this package validates every change as a whole and
// audits it.
package settings
