package migrations

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

var name = regexp.MustCompile(`^(\d{5})_[a-z]+(_[a-z0-9]+)+\.sql$`)

// Every migration is NNNNN_verb_object.sql with a unique version and goose Up and Down
// sections; tenant migrations are unqualified so they run in whichever schema is on the path.
func TestMigrationFiles(t *testing.T) {
	for set, fsys := range map[string]fs.FS{"platform": Platform(), "tenant": Tenant()} {
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 {
			t.Fatalf("%s: no migrations", set)
		}
		seen := map[string]string{}
		for _, e := range entries {
			m := name.FindStringSubmatch(e.Name())
			if m == nil {
				t.Errorf("%s/%s: name must be NNNNN_verb_object.sql", set, e.Name())
				continue
			}
			if other, dup := seen[m[1]]; dup {
				t.Errorf("%s: version %s used by %s and %s", set, m[1], other, e.Name())
			}
			seen[m[1]] = e.Name()
			raw, err := fs.ReadFile(fsys, e.Name())
			if err != nil {
				t.Fatal(err)
			}
			sql := string(raw)
			if !strings.Contains(sql, "-- +goose Up") || !strings.Contains(sql, "-- +goose Down") {
				t.Errorf("%s/%s: needs -- +goose Up and -- +goose Down", set, e.Name())
			}
			if set == "tenant" && (strings.Contains(sql, "public.") || strings.Contains(sql, "tenant_")) {
				t.Errorf("%s/%s: tenant migrations must not name a schema", set, e.Name())
			}
		}
	}
}
