// Package signup owns how a campus team becomes a tenant on the base host: checking a
// subdomain, and (with the platform tier) signing up with a plan and paying. Provisioning
// itself is the provision package's job.
package signup
