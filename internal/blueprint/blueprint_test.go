package blueprint

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadShippedBlueprints(t *testing.T) {
	def, err := Load("default")
	if err != nil {
		t.Fatalf("default: %v", err)
	}
	if len(def.TaskTypes) != 4 || def.Commission.CourierShareBP != 8000 || len(def.Places) != 0 {
		t.Fatalf("default blueprint unexpected: %d task types, share %d, %d places",
			len(def.TaskTypes), def.Commission.CourierShareBP, len(def.Places))
	}
	demo, err := Load("demo")
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	if demo.Branding.PrimaryColor != "#c2185b" || len(demo.TaskTypes) != 4 {
		t.Fatalf("demo must override branding and inherit task types: %+v", demo.Branding)
	}
	if len(demo.Places) != 20 || len(demo.Zones) != 1 {
		t.Fatalf("demo campus: %d places, %d zones; want 20 and 1 (outside points skipped)", len(demo.Places), len(demo.Zones))
	}
	if len(demo.Accounts) == 0 || demo.Accounts[0].Roles[0] != "owner" {
		t.Fatalf("demo accounts missing")
	}
}

func TestValidationNamesField(t *testing.T) {
	base := `timezone: Asia/Shanghai
branding: {primary_color: "#112233", accent_color: "#445566"}
commission: {courier_share_bp: 8000}
dispatch: {mode: grab, grab_window: 1m, offer_timeout: 30s}
orders: {payment_timeout: 15m, auto_confirm_after: 24h, free_cancel_until: accepted}
task_types:
  - key: parcel_pickup
    name: {zh: 代取快递, en: Parcel}
    pricing: {base_fee: 300}
`
	cases := []struct {
		name, yaml, want string
	}{
		{"valid", base, ""},
		{"unknown key", base + "colour: red\n", "field colour not found"},
		{"bad colour", strings.Replace(base, "#112233", "red", 1), "branding.primary_color"},
		{"bad timezone", strings.Replace(base, "Asia/Shanghai", "Mars/Olympus", 1), "timezone"},
		{"share over 100%", strings.Replace(base, "8000", "12000", 1), "commission.courier_share_bp"},
		{"bad mode", strings.Replace(base, "mode: grab", "mode: auction", 1), "dispatch.mode"},
		{"negative fee", strings.Replace(base, "base_fee: 300", "base_fee: -1", 1), "task_types[0].pricing"},
		{"bad duration", strings.Replace(base, "payment_timeout: 15m", "payment_timeout: soon", 1), "not a duration"},
		{"bad hours", base + "service_hours: {mon: [\"23:00-07:00\"]}\n", "service_hours.mon[0]"},
		{"open until midnight", base + "service_hours: {mon: [\"07:00-24:00\"]}\n", ""},
		{"opens at 24:00", base + "service_hours: {mon: [\"24:00-24:00\"]}\n", "service_hours.mon[0]"},
		{"past midnight", base + "service_hours: {mon: [\"07:00-24:30\"]}\n", "service_hours.mon[0]"},
		{"unknown role", base + "accounts: [{phone: \"13800000000\", roles: [emperor]}]\n", "accounts[0].roles"},
		{"bad extends", "extends: nowhere\n" + base, "nowhere"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{"x/tenant.yaml": {Data: []byte(tc.yaml)}}
			_, err := LoadFS(fsys, "x")
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want error containing %q, got %v", tc.want, err)
			}
		})
	}
}

func TestParseCampusRejectsBadGeoJSON(t *testing.T) {
	for name, raw := range map[string]string{
		"not json":         `{`,
		"missing name":     `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kind":"dorm"},"geometry":{"type":"Point","coordinates":[114,30]}}]}`,
		"out of range":     `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kind":"dorm","name":"x"},"geometry":{"type":"Point","coordinates":[200,30]}}]}`,
		"polygon not zone": `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kind":"dorm","name":"x"},"geometry":{"type":"Polygon","coordinates":[[[1,1],[2,1],[2,2],[1,1]]]}}]}`,
	} {
		if _, _, err := ParseCampus([]byte(raw)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseCampus(f *testing.F) {
	f.Add([]byte(`{"type":"FeatureCollection","features":[]}`))
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kind":"gate","name":"g"},"geometry":{"type":"Point","coordinates":[114.3,30.5]}}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		places, _, err := ParseCampus(raw)
		if err != nil {
			return
		}
		for _, p := range places {
			if p.At[0] < -180 || p.At[0] > 180 || p.At[1] < -90 || p.At[1] > 90 || p.Name == "" {
				t.Fatalf("accepted bad place %+v", p)
			}
		}
	})
}
