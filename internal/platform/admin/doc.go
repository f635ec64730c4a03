// Package admin owns the super-admin's view of the platform: the tenant list and a tenant's
// detail (plan usage, GMV, orders, couriers, provisioning), suspending and resuming tenants,
// changing a tenant's plan, and the platform dashboard. It holds no tables of its own: it
// reads the control plane and, one tenant at a time, the tenant schemas, and changes tenants
// through the registry and the plans service.
package admin
