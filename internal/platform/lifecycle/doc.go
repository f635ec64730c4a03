// Package lifecycle owns the end of a tenant's life: the owner's export of all the tenant's
// data (public.tenant_exports, a zip of every table as JSON and CSV, kept in storage for
// tenancy.export_ttl) and the deletion of a tenant, asked for by its owner or a platform admin:
// the tenant is held for deletion at once (its hosts answer "paused"), a platform admin can
// restore it during tenancy.deletion_grace, and then the purge job drops its schema, shreds its
// keys, removes its domains and export files and leaves the registry row as a tombstone, so the
// subdomain is never handed to someone else.
package lifecycle
