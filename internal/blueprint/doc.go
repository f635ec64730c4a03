// Package blueprint owns tenant blueprints: the declarative YAML under tenants/ that a new
// tenant starts from (task types, pricing, service hours, roles, notification templates,
// branding; for the demo also places, a delivery zone and accounts). Load validates everything
// up front with errors that name the file and field, so provisioning never half-applies a bad
// blueprint.
package blueprint
