// Package tenancy owns the tenant registry in the control plane: slugs and their rules, status,
// custom domains, resolving a request's Host to a tenant (cached, invalidated across replicas
// through Redis), and provisioning a tenant's schema from a blueprint.
package tenancy
