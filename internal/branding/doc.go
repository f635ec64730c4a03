// Package branding owns how a tenant looks to its users: display name, colours, logo URL,
// service phone and announcement. Every tenant-facing screen (and the "service paused" page)
// reads it through the public get-branding operation of the tenant's host.
package branding
