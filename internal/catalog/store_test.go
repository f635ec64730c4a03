package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"reflect"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/blueprint"
	"github.com/paotui/paotui/internal/catalog"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
	"github.com/paotui/paotui/migrations"
)

const schema = store.Schema("tenant_1")

var defaultKeys = []string{"parcel_pickup", "food_purchase", "item_delivery", "queueing"}

// newTenant gives t its own database with one tenant schema migrated to the latest version.
func newTenant(t *testing.T) *store.DB {
	t.Helper()
	db, d := storetest.New(t)
	if _, _, err := store.NewMigrator(d.URL, 4, nil).UpTenant(context.Background(), string(schema)); err != nil {
		t.Fatal(err)
	}
	return db
}

// seeded is newTenant with the default blueprint's task types.
func seeded(t *testing.T) *store.DB {
	t.Helper()
	db := newTenant(t)
	bp := loadBlueprint(t, "default")
	run(t, db, func(tx *gorm.DB) error { return catalog.SeedFromBlueprint(tx, bp) })
	return db
}

func loadBlueprint(t *testing.T, name string) *blueprint.Blueprint {
	t.Helper()
	bp, err := blueprint.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return bp
}

// run runs fn in a tenant transaction and fails the test on error.
func run(t *testing.T, db *store.DB, fn func(tx *gorm.DB) error) {
	t.Helper()
	if err := db.InTenant(context.Background(), schema, fn); err != nil {
		t.Fatal(err)
	}
}

func list(t *testing.T, db *store.DB, includeDisabled bool) []catalog.TaskType {
	t.Helper()
	var out []catalog.TaskType
	run(t, db, func(tx *gorm.DB) (err error) { out, err = catalog.List(tx, includeDisabled); return err })
	return out
}

func keys(types []catalog.TaskType) []string {
	out := make([]string, len(types))
	for i, tt := range types {
		out[i] = tt.Key
	}
	return out
}

// wantInvalid checks that err is ErrInvalid naming field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var ve *catalog.ValidationError
	if !errors.Is(err, catalog.ErrInvalid) || !errors.As(err, &ve) {
		t.Fatalf("err = %v; want a *ValidationError (ErrInvalid) on %s", err, field)
	}
	if ve.Field != field {
		t.Errorf("field = %q (%v); want %q", ve.Field, err, field)
	}
}

// same compares task types as the API shows them, ignoring the write time.
func same(a, b catalog.TaskType) bool {
	a.UpdatedAt, b.UpdatedAt = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

func TestSeedFromBlueprint(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"default", "demo"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := newTenant(t)
			bp := loadBlueprint(t, name)
			run(t, db, func(tx *gorm.DB) error { return catalog.SeedFromBlueprint(tx, bp) })
			got := list(t, db, true)
			if !slices.Equal(keys(got), defaultKeys) {
				t.Fatalf("keys = %v; want %v", keys(got), defaultKeys)
			}
			for i, tt := range got {
				want := catalog.FromBlueprint(bp.TaskTypes[i])
				want.Sort, want.Version, want.UpdatedAt = i, 1, tt.UpdatedAt
				if !reflect.DeepEqual(tt, want) {
					t.Errorf("type %d = %+v\nwant       %+v", i, tt, want)
				}
			}
			if got[0].Name.ZH != "代取快递" || got[3].Pricing.PerMinuteFee != 10 || got[0].Pricing.SizeFees["large"] != 300 {
				t.Errorf("default types read back wrong: %+v", got)
			}
		})
	}

	t.Run("idempotent and keeps admin changes", func(t *testing.T) {
		t.Parallel()
		db := seeded(t)
		bp := loadBlueprint(t, "default")
		run(t, db, func(tx *gorm.DB) error {
			pp, err := catalog.Get(tx, "parcel_pickup")
			if err != nil {
				return err
			}
			pp.Name.ZH = "取快递"
			if _, err := catalog.Update(tx, pp.Key, pp, pp.Version); err != nil {
				return err
			}
			if err := catalog.Reorder(tx, []string{"queueing", "parcel_pickup", "food_purchase", "item_delivery"}); err != nil {
				return err
			}
			return catalog.SeedFromBlueprint(tx, bp)
		})
		got := list(t, db, true)
		if want := []string{"queueing", "parcel_pickup", "food_purchase", "item_delivery"}; !slices.Equal(keys(got), want) {
			t.Errorf("after re-seed keys = %v; want %v", keys(got), want)
		}
		if got[1].Name.ZH != "取快递" || got[1].Version != 3 {
			t.Errorf("re-seed touched the edited type: %+v", got[1])
		}
	})

	t.Run("blueprint breaking catalog rules adds nothing", func(t *testing.T) {
		t.Parallel()
		db := newTenant(t)
		bp := loadBlueprint(t, "default")
		bp.TaskTypes[2].Fields[0].Options = []string{"x"} // options on a text field
		err := db.InTenant(context.Background(), schema, func(tx *gorm.DB) error { return catalog.SeedFromBlueprint(tx, bp) })
		wantInvalid(t, err, "fields[0].options")
		if got := list(t, db, true); len(got) != 0 {
			t.Errorf("seeded %v", keys(got))
		}
	})
}

// tip is a valid new type using every optional part of a definition.
func tip() catalog.TaskType {
	return catalog.TaskType{
		Key: "print_pickup", Name: catalog.Text{ZH: " 代取打印 ", EN: "Print pickup"}, Enabled: true,
		Fields: []catalog.Field{
			{Key: "shop", Label: catalog.Text{ZH: "打印店", EN: "Shop"}, Type: catalog.FieldSelect, Required: true, Options: []string{"南门", "图书馆"}},
			{Key: "pages", Label: catalog.Text{ZH: "页数", EN: "Pages"}, Type: catalog.FieldNumber, Min: ptr[int64](1), Max: ptr[int64](500)},
			{Key: "ready_at", Label: catalog.Text{ZH: "取件时间", EN: "Ready at"}, Type: catalog.FieldTime},
		},
		Pricing:        catalog.Pricing{BaseFee: 200, IncludedMeters: 800, PerKmFee: 100, MinFee: 200, SizeFees: map[string]int64{"thick": 100}},
		ServiceHours:   map[string][]string{"mon": {"08:00-12:00", "14:00-18:00"}, "sat": {"10:00-16:00"}},
		CourierShareBP: ptr(9000),
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	db := seeded(t)

	t.Run("appended at version 1 and read back whole", func(t *testing.T) {
		run(t, db, func(tx *gorm.DB) error {
			created, err := catalog.Create(tx, tip())
			if err != nil {
				return err
			}
			want := tip()
			want.Name.ZH = "代取打印"
			want.Sort, want.Version = 4, 1
			if !same(created, want) || created.UpdatedAt.IsZero() {
				t.Errorf("created = %+v\nwant      %+v", created, want)
			}
			got, err := catalog.Get(tx, "print_pickup")
			if err != nil || !same(got, created) {
				t.Errorf("Get = %+v, %v; want %+v", got, err, created)
			}
			return nil
		})
	})

	t.Run("duplicate key leaves the transaction usable", func(t *testing.T) {
		run(t, db, func(tx *gorm.DB) error {
			dup := tip()
			dup.Key = "parcel_pickup"
			if _, err := catalog.Create(tx, dup); !errors.Is(err, catalog.ErrDuplicate) {
				t.Errorf("Create(existing key) = %v; want ErrDuplicate", err)
			}
			_, err := catalog.List(tx, true)
			return err
		})
	})

	cases := []struct {
		name   string
		change func(*catalog.TaskType)
		field  string
	}{
		{"uppercase key", func(tt *catalog.TaskType) { tt.Key = "Print" }, "key"},
		{"one-letter key", func(tt *catalog.TaskType) { tt.Key = "p" }, "key"},
		{"key with dash", func(tt *catalog.TaskType) { tt.Key = "print-pickup" }, "key"},
		{"missing english name", func(tt *catalog.TaskType) { tt.Name.EN = "  " }, "name.en"},
		{"invalid field type", func(tt *catalog.TaskType) { tt.Fields[1].Type = "date" }, "fields[1].type"},
		{"select without options", func(tt *catalog.TaskType) { tt.Fields[0].Options = nil }, "fields[0].options"},
		{"duplicate option", func(tt *catalog.TaskType) { tt.Fields[0].Options = []string{"a", " a"} }, "fields[0].options[1]"},
		{"duplicate field key", func(tt *catalog.TaskType) { tt.Fields[2].Key = "shop" }, "fields[2].key"},
		{"bad field key", func(tt *catalog.TaskType) { tt.Fields[1].Key = "Pages" }, "fields[1].key"},
		{"field without label", func(tt *catalog.TaskType) { tt.Fields[1].Label.ZH = "" }, "fields[1].label.zh"},
		{"min above max", func(tt *catalog.TaskType) { tt.Fields[1].Min = ptr[int64](600) }, "fields[1].min"},
		{"max on a time field", func(tt *catalog.TaskType) { tt.Fields[2].Max = ptr[int64](5) }, "fields[2].max"},
		{"negative base fee", func(tt *catalog.TaskType) { tt.Pricing.BaseFee = -1 }, "pricing.baseFee"},
		{"negative per-km fee", func(tt *catalog.TaskType) { tt.Pricing.PerKmFee = -100 }, "pricing.perKmFee"},
		{"absurd min fee", func(tt *catalog.TaskType) { tt.Pricing.MinFee = 1 << 40 }, "pricing.minFee"},
		{"negative size fee", func(tt *catalog.TaskType) { tt.Pricing.SizeFees["thick"] = -5 }, "pricing.sizeFees.thick"},
		{"bad size class", func(tt *catalog.TaskType) { tt.Pricing.SizeFees["Big One"] = 5 }, "pricing.sizeFees.Big One"},
		{"unknown weekday", func(tt *catalog.TaskType) { tt.ServiceHours["holiday"] = []string{"08:00-09:00"} }, "serviceHours.holiday"},
		{"window ends before it starts", func(tt *catalog.TaskType) { tt.ServiceHours["mon"][1] = "18:00-14:00" }, "serviceHours.mon[1]"},
		{"courier share above 100%", func(tt *catalog.TaskType) { tt.CourierShareBP = ptr(10001) }, "courierShareBp"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tt := tip()
			tt.Key = "another_type"
			tc.change(&tt)
			run(t, db, func(tx *gorm.DB) error {
				_, err := catalog.Create(tx, tt)
				wantInvalid(t, err, tc.field)
				return nil
			})
		})
	}
	if got := keys(list(t, db, true)); !slices.Equal(got, append(slices.Clone(defaultKeys), "print_pickup")) {
		t.Errorf("after refused creates keys = %v", got)
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	db := seeded(t)
	var v1 catalog.TaskType
	run(t, db, func(tx *gorm.DB) (err error) { v1, err = catalog.Get(tx, "food_purchase"); return err })

	edit := v1
	edit.Key = ""
	edit.Pricing.BaseFee = 450
	edit.Fields = append(slices.Clone(v1.Fields), catalog.Field{Key: "spicy", Label: catalog.Text{ZH: "辣度", EN: "Spice"},
		Type: catalog.FieldSelect, Options: []string{"不辣", "微辣", "特辣"}})
	edit.ServiceHours = map[string][]string{"fri": {"11:00-13:00"}}
	edit.CourierShareBP = ptr(8500)
	edit.Sort = 99 // ignored: positions are Reorder's
	var v2 catalog.TaskType
	run(t, db, func(tx *gorm.DB) (err error) {
		v2, err = catalog.Update(tx, "food_purchase", edit, v1.Version)
		return err
	})
	want := edit
	want.Key, want.Sort, want.Version = "food_purchase", v1.Sort, v1.Version+1
	if !same(v2, want) {
		t.Errorf("updated = %+v\nwant      %+v", v2, want)
	}

	run(t, db, func(tx *gorm.DB) error {
		stale := v1
		stale.Name.EN = "Lost update"
		if _, err := catalog.Update(tx, "food_purchase", stale, v1.Version); !errors.Is(err, catalog.ErrVersionConflict) {
			t.Errorf("Update(stale version) = %v; want ErrVersionConflict", err)
		}
		unknown := stale
		unknown.Key = ""
		if _, err := catalog.Update(tx, "laundry", unknown, 1); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("Update(unknown) = %v; want ErrNotFound", err)
		}
		renamed := v2
		renamed.Key = "meals"
		_, err := catalog.Update(tx, "food_purchase", renamed, v2.Version)
		wantInvalid(t, err, "key")
		bad := v2
		bad.Pricing.MinFee = -1
		_, err = catalog.Update(tx, "food_purchase", bad, v2.Version)
		wantInvalid(t, err, "pricing.minFee")
		cleared := v2
		cleared.ServiceHours, cleared.CourierShareBP = map[string][]string{}, nil
		v3, err := catalog.Update(tx, "food_purchase", cleared, v2.Version)
		if err != nil || v3.ServiceHours != nil || v3.CourierShareBP != nil || v3.Version != 3 {
			t.Errorf("clearing overrides = %+v, %v; want no overrides at version 3", v3, err)
		}
		return nil
	})
}

func TestSetEnabled(t *testing.T) {
	t.Parallel()
	db := seeded(t)
	run(t, db, func(tx *gorm.DB) error { return catalog.SetEnabled(tx, "item_delivery", false) })
	if got, want := keys(list(t, db, false)), []string{"parcel_pickup", "food_purchase", "queueing"}; !slices.Equal(got, want) {
		t.Errorf("students see %v; want %v", got, want)
	}
	if got := keys(list(t, db, true)); !slices.Equal(got, defaultKeys) {
		t.Errorf("admins see %v; want %v", got, defaultKeys)
	}
	run(t, db, func(tx *gorm.DB) error {
		if err := catalog.SetEnabled(tx, "item_delivery", false); err != nil {
			return err
		}
		got, err := catalog.Get(tx, "item_delivery")
		if err != nil || got.Enabled || got.Version != 2 {
			t.Errorf("Get(disabled) = %+v, %v; want disabled at version 2 (disabling twice changes nothing)", got, err)
		}
		if err := catalog.SetEnabled(tx, "laundry", true); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("SetEnabled(unknown) = %v; want ErrNotFound", err)
		}
		return catalog.SetEnabled(tx, "item_delivery", true)
	})
	if got := keys(list(t, db, false)); !slices.Equal(got, defaultKeys) {
		t.Errorf("after enabling again students see %v", got)
	}
}

func TestReorder(t *testing.T) {
	t.Parallel()
	db := seeded(t)
	order := []string{"queueing", "parcel_pickup", "item_delivery", "food_purchase"}
	run(t, db, func(tx *gorm.DB) error { return catalog.Reorder(tx, order) })
	got := list(t, db, true)
	if !slices.Equal(keys(got), order) {
		t.Fatalf("order = %v; want %v", keys(got), order)
	}
	for i, tt := range got {
		moved := tt.Key != defaultKeys[i]
		if tt.Sort != i || (tt.Version == 2) != moved {
			t.Errorf("%s: sort %d version %d; want sort %d, a new version only if it moved (%t)", tt.Key, tt.Sort, tt.Version, i, moved)
		}
	}

	cases := []struct {
		name  string
		keys  []string
		field string
	}{
		{"missing key", []string{"queueing", "parcel_pickup", "item_delivery"}, "keys"},
		{"unknown key", []string{"queueing", "parcel_pickup", "item_delivery", "food_purchase", "laundry"}, "keys[4]"},
		{"duplicate", []string{"queueing", "parcel_pickup", "queueing", "food_purchase"}, "keys[2]"},
		{"duplicate in place of a missing key", []string{"queueing", "queueing", "item_delivery", "food_purchase"}, "keys[1]"},
		{"empty", nil, "keys"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run(t, db, func(tx *gorm.DB) error {
				wantInvalid(t, catalog.Reorder(tx, tc.keys), tc.field)
				return nil
			})
		})
	}
	if got := keys(list(t, db, true)); !slices.Equal(got, order) {
		t.Errorf("refused reorders changed the order to %v", got)
	}
}

func TestGetUnknown(t *testing.T) {
	t.Parallel()
	db := seeded(t)
	run(t, db, func(tx *gorm.DB) error {
		for _, key := range []string{"laundry", "", "'; DROP TABLE task_types; --"} {
			if _, err := catalog.Get(tx, key); !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("Get(%q) = %v; want ErrNotFound", key, err)
			}
		}
		return nil
	})
}

// The table refuses what the Go rules refuse, for writes that bypass this package.
func TestDatabaseConstraints(t *testing.T) {
	t.Parallel()
	db := newTenant(t)
	for name, sql := range map[string]string{
		"bad key":            `INSERT INTO task_types (key, name_zh, name_en, sort, pricing) VALUES ('Bad Key', 'a', 'b', 0, '{}')`,
		"empty name":         `INSERT INTO task_types (key, name_zh, name_en, sort, pricing) VALUES ('ok_key', '', 'b', 0, '{}')`,
		"negative sort":      `INSERT INTO task_types (key, name_zh, name_en, sort, pricing) VALUES ('ok_key', 'a', 'b', -1, '{}')`,
		"fields not a list":  `INSERT INTO task_types (key, name_zh, name_en, sort, fields, pricing) VALUES ('ok_key', 'a', 'b', 0, '{}', '{}')`,
		"pricing not object": `INSERT INTO task_types (key, name_zh, name_en, sort, pricing) VALUES ('ok_key', 'a', 'b', 0, '[]')`,
		"hours not object":   `INSERT INTO task_types (key, name_zh, name_en, sort, pricing, service_hours) VALUES ('ok_key', 'a', 'b', 0, '{}', '[]')`,
		"share above 10000":  `INSERT INTO task_types (key, name_zh, name_en, sort, pricing, courier_share_bp) VALUES ('ok_key', 'a', 'b', 0, '{}', 10001)`,
		"missing pricing":    `INSERT INTO task_types (key, name_zh, name_en, sort) VALUES ('ok_key', 'a', 'b', 0)`,
	} {
		err := db.InTenant(context.Background(), schema, func(tx *gorm.DB) error { return tx.Exec(sql).Error })
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A tenant provisioned before task_types existed has its blueprint's types only as the
// settings document "task_types"; the migration that creates the table copies them over.
func TestMigrationBackfillsFromSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	raw, err := fs.ReadFile(migrations.Tenant(), "00001_create_users.sql")
	if err != nil {
		t.Fatal(err)
	}
	first := fstest.MapFS{"00001_create_users.sql": {Data: raw}}
	bp := loadBlueprint(t, "default")
	bp.TaskTypes[1].Enabled = ptr(false) // a blueprint may ship a type switched off

	for _, tc := range []struct {
		name     string
		settings bool
	}{{"existing tenant", true}, {"tenant without the settings document", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db, d := storetest.New(t)
			m := store.NewMigrator(d.URL, 1, nil)
			if _, to, err := m.WithTenantFS(first).UpTenant(ctx, string(schema)); err != nil || to != 1 {
				t.Fatalf("migrate to version 1: %d, %v", to, err)
			}
			if tc.settings {
				doc, err := json.Marshal(bp.TaskTypes) // exactly what provisioning stores
				if err != nil {
					t.Fatal(err)
				}
				run(t, db, func(tx *gorm.DB) error {
					return tx.Exec(`INSERT INTO settings (key, value) VALUES ('task_types', ?)`, string(doc)).Error
				})
			}
			if _, to, err := m.UpTenant(ctx, string(schema)); err != nil || to < 3 {
				t.Fatalf("migrate to latest: %d, %v", to, err)
			}
			got := list(t, db, true)
			if !tc.settings {
				if len(got) != 0 {
					t.Errorf("backfilled %v from nothing", keys(got))
				}
				return
			}
			if !slices.Equal(keys(got), defaultKeys) {
				t.Fatalf("keys = %v; want %v", keys(got), defaultKeys)
			}
			for i, tt := range got {
				want := catalog.FromBlueprint(bp.TaskTypes[i])
				want.Sort, want.Version = i, 1
				if !same(tt, want) {
					t.Errorf("backfilled %d = %+v\nwant          %+v", i, tt, want)
				}
			}
			if got[1].Enabled || !got[0].Enabled {
				t.Errorf("enabled flags = %v, %v; want the blueprint's", got[0].Enabled, got[1].Enabled)
			}
			if p := got[0].Pricing; p.BaseFee != 300 || p.PerKmFee != 100 || p.SizeFees["medium"] != 100 {
				t.Errorf("parcel_pickup pricing = %+v", p)
			}
			// The copied types are ordinary types: the admin API accepts them unchanged.
			run(t, db, func(tx *gorm.DB) error {
				_, err := catalog.Update(tx, got[3].Key, got[3], got[3].Version)
				return err
			})
		})
	}
}
