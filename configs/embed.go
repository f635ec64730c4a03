// Package configs embeds the default configuration and the Casbin model and built-in policy,
// so the binary runs without files on disk.
package configs

import "embed"

// Default is configs/paotui.yaml as shipped: every key with its development default.
//
//go:embed paotui.yaml
var Default []byte

// RBAC holds rbac/model.conf and rbac/policy.csv.
//
//go:embed rbac
var RBAC embed.FS
