// Package tenants embeds the tenant blueprints: default/ (what every tenant starts from) and
// demo/ (the demo campus `make run` seeds). internal/blueprint loads and validates them.
package tenants

import "embed"

// FS holds <name>/tenant.yaml and the files they reference.
//
//go:embed default demo
var FS embed.FS
