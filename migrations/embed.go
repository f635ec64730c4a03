// Package migrations embeds the versioned SQL: platform/ for the control plane (public schema)
// and tenant/ for every tenant schema. Files are goose SQL, NNNNN_verb_object.sql, never edited
// once merged; changes are expand/contract because tenants migrate one by one.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed platform/*.sql tenant/*.sql
var files embed.FS

// Platform returns the control-plane migrations.
func Platform() fs.FS { sub, _ := fs.Sub(files, "platform"); return sub }

// Tenant returns the tenant-schema migrations, written unqualified.
func Tenant() fs.FS { sub, _ := fs.Sub(files, "tenant"); return sub }
