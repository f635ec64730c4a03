package places_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/places"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// adminEnv is the demo campus with the admin settings operations registered, its owner and a
// student signed in.
type adminEnv struct {
	*apptest.Env
	tenant         *tenancy.Tenant
	host           string
	owner, student string
}

// Only one test of the package may call it: apptest.New assigns package-level problem tables
// while wiring the application, so two at once race.
func newAdminEnv(t *testing.T) *adminEnv {
	t.Helper()
	env := apptest.New(t)
	// Until the application wires them, the test adds the operations itself; registering is
	// idempotent, so this keeps working once it does.
	places.RegisterAdminHTTP(env.Server.API, env.App.DB)
	places.RegisterAdminHTTP(env.Server.API, env.App.DB)
	tn := env.Tenant("campus", "13800000000", "demo")
	return &adminEnv{Env: env, tenant: tn, host: env.Host("campus"),
		owner: env.Login("campus", "13800000000").AccessToken, student: env.Login("campus", "13900000001").AccessToken}
}

func (e *adminEnv) call(t *testing.T, method, path, token string, body any, want int) *apptest.Response {
	t.Helper()
	r := e.Do(e.host, method, path, token, body)
	if r.Status != want {
		t.Fatalf("%s %s: %d %s; want %d", method, path, r.Status, r.Body, want)
	}
	return r
}

// wantProblem checks a problem's status and code and, if location is given, its first error.
func (e *adminEnv) wantProblem(t *testing.T, method, path string, body any, status int, code, location string) {
	t.Helper()
	r := e.call(t, method, path, e.owner, body, status)
	p := r.Problem(t)
	if p.Code != code {
		t.Errorf("%s %s: code %q (%s); want %q", method, path, p.Code, p.Detail, code)
	}
	if location != "" && (len(p.Errors) == 0 || p.Errors[0].Location != location) {
		t.Errorf("%s %s: errors %s; want location %q", method, path, r.Body, location)
	}
}

// audited lists the changes in the tenant's audit log whose action starts with prefix, oldest first, as
// "action target" with the target's id replaced by "<id>" when it is not a date.
func (e *adminEnv) audited(t *testing.T, prefix string) []string {
	t.Helper()
	var log struct {
		Items []struct{ Actor, Action, Target string }
	}
	e.call(t, "GET", "/api/v1/audit-log?limit=200", e.owner, nil, http.StatusOK).JSON(t, &log)
	var got []string
	for _, it := range log.Items {
		if !strings.HasPrefix(it.Action, prefix) {
			continue
		}
		if !strings.HasPrefix(it.Actor, "user:") {
			t.Errorf("%s by %q", it.Action, it.Actor)
		}
		target := it.Target
		if kind, _, ok := strings.Cut(target, ":"); ok && (kind == "place" || kind == "zone") {
			target = kind + ":<id>"
		}
		got = append(got, it.Action+" "+target)
	}
	slices.Reverse(got)
	return got
}

func (e *adminEnv) wantAudited(t *testing.T, prefix string, want ...string) {
	t.Helper()
	if got := e.audited(t, prefix); !slices.Equal(got, want) {
		t.Errorf("audited %q\nwant    %q", got, want)
	}
}

type placePage struct {
	Items []places.Place `json:"items"`
	Total int64          `json:"total"`
}

func (e *adminEnv) places(t *testing.T, path, token string) placePage {
	t.Helper()
	var p placePage
	e.call(t, "GET", path, token, nil, http.StatusOK).JSON(t, &p)
	return p
}

// TestAdminSettingsHTTP drives the admin settings operations on one demo campus; it runs beside
// the package's other (database-only) tests.
func TestAdminSettingsHTTP(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	t.Run("places", func(t *testing.T) { adminPlaces(t, e) })
	t.Run("zones", func(t *testing.T) { adminZones(t, e) })
	t.Run("hours", func(t *testing.T) { adminHours(t, e) })
	t.Run("students and strangers are refused", func(t *testing.T) { adminRefusals(t, e) })
}

func adminPlaces(t *testing.T, e *adminEnv) {
	var created places.Place

	t.Run("list includes disabled places, filtered and paginated", func(t *testing.T) {
		all := e.places(t, "/api/v1/admin/places?limit=200", e.owner)
		if all.Total != 20 || len(all.Items) != 20 {
			t.Fatalf("admin list: %d of %d", len(all.Items), all.Total)
		}
		page := e.places(t, "/api/v1/admin/places?limit=5&offset=5", e.owner)
		if page.Total != 20 || len(page.Items) != 5 || page.Items[0].ID != all.Items[5].ID {
			t.Errorf("page 2: %d items of %d", len(page.Items), page.Total)
		}
		dorms := e.places(t, "/api/v1/admin/places?kind=dorm", e.owner)
		if dorms.Total == 0 {
			t.Error("no dorms")
		}
		for _, p := range dorms.Items {
			if p.Kind != "dorm" {
				t.Errorf("kind=dorm listed %+v", p)
			}
		}
		name := all.Items[0].Name
		found := e.places(t, "/api/v1/admin/places?q="+url.QueryEscape(name), e.owner)
		if found.Total < 1 || found.Items[0].Name != name {
			t.Errorf("q=%s found %+v", name, found.Items)
		}
		e.wantProblem(t, "GET", "/api/v1/admin/places?kind=castle", nil, http.StatusUnprocessableEntity, "place_invalid", "query.kind")
	})

	t.Run("create", func(t *testing.T) {
		body := map[string]any{"name": " 东区快递柜 ", "kind": "parcel_station", "at": map[string]float64{"lng": 114.36, "lat": 30.535}, "sort": 5}
		e.call(t, "POST", "/api/v1/admin/places", e.owner, body, http.StatusCreated).JSON(t, &created)
		if created.ID == "" || created.Name != "东区快递柜" || !created.Enabled || created.Sort != 5 || created.At.Lng != 114.36 {
			t.Errorf("created %+v", created)
		}
		e.wantProblem(t, "POST", "/api/v1/admin/places", body, http.StatusConflict, "place_exists", "")
		body["name"], body["at"] = "西区快递柜", map[string]float64{"lng": 200, "lat": 30}
		e.wantProblem(t, "POST", "/api/v1/admin/places", body, http.StatusUnprocessableEntity, "place_invalid", "body.at.lng")
		body["at"], body["kind"] = map[string]float64{"lng": 114.36, "lat": 30.535}, "castle"
		e.wantProblem(t, "POST", "/api/v1/admin/places", body, http.StatusUnprocessableEntity, "place_invalid", "body.kind")
		if n := e.places(t, "/api/v1/places?limit=200", e.student).Total; n != 21 {
			t.Errorf("student sees %d places; want 21", n)
		}
	})

	t.Run("update", func(t *testing.T) {
		path := "/api/v1/admin/places/" + created.ID
		body := map[string]any{"name": "东区快递柜(新)", "kind": "parcel_station", "at": map[string]float64{"lng": 114.361, "lat": 30.536}, "enabled": true, "sort": 1}
		var p places.Place
		e.call(t, "PUT", path, e.owner, body, http.StatusOK).JSON(t, &p)
		if p.ID != created.ID || p.Name != "东区快递柜(新)" || p.At.Lat != 30.536 || p.Sort != 1 {
			t.Errorf("updated %+v", p)
		}
		other := e.places(t, "/api/v1/admin/places?limit=1", e.owner).Items[0]
		if other.ID == created.ID {
			other = e.places(t, "/api/v1/admin/places?limit=1&offset=1", e.owner).Items[0]
		}
		body["name"] = other.Name
		e.wantProblem(t, "PUT", path, body, http.StatusConflict, "place_exists", "")
		body["name"] = "无名之地"
		e.wantProblem(t, "PUT", "/api/v1/admin/places/00000000-0000-0000-0000-000000000001", body, http.StatusNotFound, "place_not_found", "")
	})

	t.Run("delete disables", func(t *testing.T) {
		e.call(t, "DELETE", "/api/v1/admin/places/"+created.ID, e.owner, nil, http.StatusNoContent)
		for _, p := range e.places(t, "/api/v1/places?limit=200", e.student).Items {
			if p.ID == created.ID {
				t.Error("student still sees the deleted place")
			}
		}
		admin := e.places(t, "/api/v1/admin/places?limit=200", e.owner)
		i := slices.IndexFunc(admin.Items, func(p places.Place) bool { return p.ID == created.ID })
		if admin.Total != 21 || i < 0 || admin.Items[i].Enabled {
			t.Errorf("admin list after delete: total %d, index %d", admin.Total, i)
		}
		e.wantProblem(t, "DELETE", "/api/v1/admin/places/00000000-0000-0000-0000-000000000001", nil, http.StatusNotFound, "place_not_found", "")
	})

	t.Run("every change is audited", func(t *testing.T) {
		e.wantAudited(t, "settings.place.", "settings.place.create place:<id>", "settings.place.update place:<id>", "settings.place.delete place:<id>")
	})
}

type featureCollection struct {
	Type     string    `json:"type"`
	Features []feature `json:"features"`
}

type feature struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	Properties struct {
		Name    string `json:"name"`
		Enabled bool   `json:"enabled"`
	} `json:"properties"`
	Geometry json.RawMessage `json:"geometry"`
}

func (e *adminEnv) zones(t *testing.T) featureCollection {
	t.Helper()
	var fc featureCollection
	e.call(t, "GET", "/api/v1/admin/zones", e.owner, nil, http.StatusOK).JSON(t, &fc)
	if fc.Type != "FeatureCollection" {
		t.Fatalf("list-zones type %q", fc.Type)
	}
	return fc
}

// inRange reports whether the tenant's delivery range, as orders load it, contains p.
func (e *adminEnv) inRange(t *testing.T, p places.Point) bool {
	t.Helper()
	var r *places.Range
	err := e.App.DB.InTenant(context.Background(), e.tenant, func(tx *gorm.DB) error {
		var err error
		r, err = places.LoadRange(tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return r.Contains(p)
}

func adminZones(t *testing.T, e *adminEnv) {
	notch := outsidePoints(t)[notchPoint]
	const east = "东区"
	path := "/api/v1/admin/zones/" + url.PathEscape(east)
	// A square over the demo zone's notch, drawn clockwise (stored counterclockwise).
	eastSquare := json.RawMessage(`{"type":"Polygon","coordinates":[[[114.369,30.537],[114.369,30.541],[114.374,30.541],[114.374,30.537],[114.369,30.537]]]}`)

	if fc := e.zones(t); len(fc.Features) != 1 || !fc.Features[0].Properties.Enabled {
		t.Fatalf("demo zones: %+v", fc)
	}
	if e.inRange(t, notch) {
		t.Fatal("the notch is in range before the new zone")
	}

	t.Run("invalid geometry is refused", func(t *testing.T) {
		for name, g := range map[string]string{
			"not GeoJSON":  `"somewhere"`,
			"point":        `{"type":"Point","coordinates":[114.37,30.54]}`,
			"open ring":    `{"type":"Polygon","coordinates":[[[114.369,30.537],[114.369,30.541],[114.374,30.541],[114.374,30.537]]]}`,
			"crosses self": `{"type":"Polygon","coordinates":[[[0,0],[3,3],[3,0],[0,1],[0,0]]]}`,
		} {
			t.Run(name, func(t *testing.T) {
				e.wantProblem(t, "PUT", path, `{"geometry":`+g+`}`, http.StatusUnprocessableEntity, "zone_invalid", "body.geometry")
			})
		}
		e.wantProblem(t, "PUT", "/api/v1/admin/zones/"+url.PathEscape(strings.Repeat("区", 61)), map[string]any{"geometry": eastSquare},
			http.StatusUnprocessableEntity, "zone_invalid", "path.name")
		if fc := e.zones(t); len(fc.Features) != 1 {
			t.Errorf("refused zones were stored: %d features", len(fc.Features))
		}
	})

	t.Run("a new zone extends the delivery range", func(t *testing.T) {
		var f feature
		e.call(t, "PUT", path, e.owner, map[string]any{"geometry": eastSquare}, http.StatusOK).JSON(t, &f)
		if f.Type != "Feature" || f.ID == "" || f.Properties.Name != east || !f.Properties.Enabled || len(f.Geometry) == 0 {
			t.Errorf("put-zone answered %+v", f)
		}
		fc := e.zones(t)
		i := slices.IndexFunc(fc.Features, func(x feature) bool { return x.Properties.Name == east })
		if len(fc.Features) != 2 || i < 0 || fc.Features[i].ID != f.ID {
			t.Fatalf("list-zones after put: %+v", fc)
		}
		if g, err := places.ParseGeometry(fc.Features[i].Geometry); err != nil || !places.NewRange([]places.Zone{{Geometry: g, Enabled: true}}).Contains(notch) {
			t.Errorf("listed geometry %s: %v", fc.Features[i].Geometry, err)
		}
		if !e.inRange(t, notch) {
			t.Error("the notch is still out of range")
		}
	})

	t.Run("disable, enable and delete", func(t *testing.T) {
		var f feature
		e.call(t, "POST", path+"/enabled", e.owner, map[string]bool{"enabled": false}, http.StatusOK).JSON(t, &f)
		if f.Properties.Enabled || e.inRange(t, notch) {
			t.Error("a disabled zone still counts")
		}
		// Putting a new shape keeps the zone disabled.
		e.call(t, "PUT", path, e.owner, map[string]any{"geometry": eastSquare}, http.StatusOK).JSON(t, &f)
		if f.Properties.Enabled {
			t.Error("put-zone re-enabled the zone")
		}
		e.call(t, "POST", path+"/enabled", e.owner, map[string]bool{"enabled": true}, http.StatusOK)
		if !e.inRange(t, notch) {
			t.Error("re-enabled zone does not count")
		}
		e.call(t, "DELETE", path, e.owner, nil, http.StatusNoContent)
		if fc := e.zones(t); len(fc.Features) != 1 || e.inRange(t, notch) {
			t.Errorf("after delete: %d zones", len(fc.Features))
		}
		e.wantProblem(t, "DELETE", path, nil, http.StatusNotFound, "zone_not_found", "")
		e.wantProblem(t, "POST", path+"/enabled", map[string]bool{"enabled": true}, http.StatusNotFound, "zone_not_found", "")
	})

	t.Run("every change is audited", func(t *testing.T) {
		e.wantAudited(t, "settings.zone.", "settings.zone.put zone:<id>", "settings.zone.disable zone:<id>", "settings.zone.put zone:<id>",
			"settings.zone.enable zone:<id>", "settings.zone.delete zone:<id>")
	})
}

type hoursView struct {
	Timezone    string              `json:"timezone"`
	Week        map[string][]string `json:"week"`
	ClosedDates []struct {
		Date   string `json:"date"`
		Reason string `json:"reason"`
	} `json:"closedDates"`
}

func (e *adminEnv) hours(t *testing.T) hoursView {
	t.Helper()
	var h hoursView
	e.call(t, "GET", "/api/v1/admin/service-hours", e.owner, nil, http.StatusOK).JSON(t, &h)
	return h
}

func adminHours(t *testing.T, e *adminEnv) {

	t.Run("blueprint hours", func(t *testing.T) {
		h := e.hours(t)
		if h.Timezone != "Asia/Shanghai" || !slices.Equal(h.Week["mon"], []string{"07:30-23:00"}) || len(h.Week) != 7 || len(h.ClosedDates) != 0 {
			t.Errorf("service hours %+v", h)
		}
	})

	t.Run("put and get round trip", func(t *testing.T) {
		week := map[string][]string{"mon": {"13:00-23:00", "07:30-12:00"}, "sat": {"09:00-24:00"}}
		var put hoursView
		e.call(t, "PUT", "/api/v1/admin/service-hours", e.owner, map[string]any{"week": week}, http.StatusOK).JSON(t, &put)
		h := e.hours(t)
		want := map[string][]string{"mon": {"07:30-12:00", "13:00-23:00"}, "sat": {"09:00-24:00"},
			"tue": {}, "wed": {}, "thu": {}, "fri": {}, "sun": {}}
		for day, ws := range want {
			if !slices.Equal(h.Week[day], ws) || !slices.Equal(put.Week[day], ws) {
				t.Errorf("%s: got %v, put answered %v; want %v", day, h.Week[day], put.Week[day], ws)
			}
		}
	})

	t.Run("bad weeks are refused", func(t *testing.T) {
		for name, tc := range map[string]struct {
			week     map[string][]string
			location string
		}{
			"backwards":  {map[string][]string{"tue": {"23:00-07:00"}}, "body.week.tue[0]"},
			"not a time": {map[string][]string{"fri": {"08:00-12:00", "noon-1pm"}}, "body.week.fri[1]"},
			"overlap":    {map[string][]string{"sun": {"08:00-12:00", "11:00-14:00"}}, "body.week.sun[1]"},
		} {
			t.Run(name, func(t *testing.T) {
				e.wantProblem(t, "PUT", "/api/v1/admin/service-hours", map[string]any{"week": tc.week},
					http.StatusUnprocessableEntity, "hours_invalid", tc.location)
			})
		}
		if h := e.hours(t); !slices.Equal(h.Week["mon"], []string{"07:30-12:00", "13:00-23:00"}) {
			t.Errorf("refused weeks changed the hours: %v", h.Week)
		}
	})

	t.Run("closed dates", func(t *testing.T) {
		var cd struct{ Date, Reason string }
		e.call(t, "POST", "/api/v1/admin/closed-dates", e.owner, map[string]string{"date": "2099-10-01", "reason": " 国庆假期 "}, http.StatusOK).JSON(t, &cd)
		if cd.Date != "2099-10-01" || cd.Reason != "国庆假期" {
			t.Errorf("add-closed-date answered %+v", cd)
		}
		e.call(t, "POST", "/api/v1/admin/closed-dates", e.owner, map[string]string{"date": "2099-05-01", "reason": "劳动节"}, http.StatusOK)
		h := e.hours(t)
		if len(h.ClosedDates) != 2 || h.ClosedDates[0].Date != "2099-05-01" || h.ClosedDates[1].Reason != "国庆假期" {
			t.Errorf("closed dates %+v", h.ClosedDates)
		}
		e.wantProblem(t, "POST", "/api/v1/admin/closed-dates", map[string]string{"date": "2099-13-01", "reason": "x"},
			http.StatusUnprocessableEntity, "hours_invalid", "body.date")
		e.call(t, "DELETE", "/api/v1/admin/closed-dates/2099-05-01", e.owner, nil, http.StatusNoContent)
		e.wantProblem(t, "DELETE", "/api/v1/admin/closed-dates/2099-05-01", nil, http.StatusNotFound, "closed_date_not_found", "")
		if h := e.hours(t); len(h.ClosedDates) != 1 || h.ClosedDates[0].Date != "2099-10-01" {
			t.Errorf("closed dates after remove %+v", h.ClosedDates)
		}
	})

	t.Run("every change is audited", func(t *testing.T) {
		e.wantAudited(t, "settings.service_hours.", "settings.service_hours.put service_hours")
		e.wantAudited(t, "settings.closed_date.", "settings.closed_date.add closed_date:2099-10-01",
			"settings.closed_date.add closed_date:2099-05-01", "settings.closed_date.remove closed_date:2099-05-01")
	})
}

func adminRefusals(t *testing.T, e *adminEnv) {
	hours, changes := e.hours(t), len(e.audited(t, "settings."))
	ops := []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/admin/places", nil},
		{"POST", "/api/v1/admin/places", map[string]any{"name": "x", "kind": "dorm", "at": map[string]float64{"lng": 114.36, "lat": 30.535}}},
		{"PUT", "/api/v1/admin/places/00000000-0000-0000-0000-000000000001", map[string]any{}},
		{"DELETE", "/api/v1/admin/places/00000000-0000-0000-0000-000000000001", nil},
		{"GET", "/api/v1/admin/zones", nil},
		{"PUT", "/api/v1/admin/zones/x", map[string]any{"geometry": nil}},
		{"POST", "/api/v1/admin/zones/x/enabled", map[string]bool{"enabled": false}},
		{"DELETE", "/api/v1/admin/zones/x", nil},
		{"GET", "/api/v1/admin/service-hours", nil},
		{"PUT", "/api/v1/admin/service-hours", map[string]any{"week": map[string]any{}}},
		{"POST", "/api/v1/admin/closed-dates", map[string]string{"date": "2099-01-01", "reason": "x"}},
		{"DELETE", "/api/v1/admin/closed-dates/2099-10-01", nil},
	}
	for _, op := range ops {
		if r := e.Do(e.host, op.method, op.path, e.student, op.body); r.Status != http.StatusForbidden || r.Problem(t).Code != "permission_denied" {
			t.Errorf("student %s %s: %d %s", op.method, op.path, r.Status, r.Body)
		}
		if r := e.Do(e.host, op.method, op.path, "", op.body); r.Status != http.StatusUnauthorized {
			t.Errorf("anonymous %s %s: %d %s", op.method, op.path, r.Status, r.Body)
		}
	}
	if h := e.hours(t); !reflect.DeepEqual(h, hours) {
		t.Errorf("refused calls changed the hours: %+v", h)
	}
	if n := len(e.audited(t, "settings.")); n != changes {
		t.Errorf("refused calls were audited as %d changes", n-changes)
	}
}
