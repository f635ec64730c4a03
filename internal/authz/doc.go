// Package authz owns authorization: Casbin RBAC with domains, one domain per tenant ("t:<id>").
//
// The model and the built-in role templates (domain "*") are embedded from configs/rbac; a
// tenant's own schema holds only its user → role lines and its custom roles, in casbin_rules.
// Each tenant gets its own enforcer, loaded on first use from the templates plus that tenant's
// rows, cached in the process and dropped when a role changes here or on another replica
// (Redis pub/sub), with a TTL as a safety net for lost messages.
//
// Role changes are written by GrantTx and RevokeTx inside the caller's tenant transaction, so
// the change and its audit entry commit together; the caller then calls Invalidate.
package authz
