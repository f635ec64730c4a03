// Package plans owns the platform's plans (public.plans): their display prices, the Stripe
// price ids super-admins attach to them, and the limits they put on a tenant (active couriers,
// orders per month, staff seats, custom domains); which plan each tenant is on; and the limit
// check tenant code makes before it creates an order, approves a courier or grants a staff
// role. A refusal is a *LimitError carrying the usage, the limit and the cheapest plan that
// would lift it, which the HTTP layer turns into a plan_limit_reached problem (see Problem).
//
// Plans live in the control plane; usage is counted in the tenant's schema. Subscriptions and
// payment of plans belong to billing.
package plans
