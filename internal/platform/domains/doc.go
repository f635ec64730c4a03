// Package domains owns a tenant's custom domains: the owner adds a host name of their own
// (when the plan includes custom domains), proves control of it with a DNS TXT record at
// _paotui.<domain>, and from then on the tenant resolves at that name on every replica. The
// rows live in the control plane (public.tenant_domains, read by tenancy.Resolver); changes
// are recorded in both the tenant's and the platform's audit logs.
package domains
