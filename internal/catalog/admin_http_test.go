package catalog_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/catalog"
)

// adminEnv is the demo campus with the admin task type operations registered, its owner and a
// student signed in.
type adminEnv struct {
	*apptest.Env
	host           string
	owner, student string
}

func newAdminEnv(t *testing.T) *adminEnv {
	t.Helper()
	env := apptest.New(t)
	// Until the application wires them, the test adds the operations itself; registering is
	// idempotent, so this keeps working once it does.
	catalog.RegisterAdminHTTP(env.Server.API, env.App.DB)
	catalog.RegisterAdminHTTP(env.Server.API, env.App.DB)
	env.Tenant("campus", "13800000000", "demo")
	return &adminEnv{Env: env, host: env.Host("campus"),
		owner: env.Login("campus", "13800000000").AccessToken, student: env.Login("campus", "13900000001").AccessToken}
}

// call sends a request and checks the status, returning the response.
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

type typeList struct {
	Items []catalog.TaskType `json:"items"`
	Total int                `json:"total"`
}

func (e *adminEnv) adminTypes(t *testing.T) typeList {
	t.Helper()
	var l typeList
	e.call(t, "GET", "/api/v1/admin/task-types", e.owner, nil, http.StatusOK).JSON(t, &l)
	return l
}

func (e *adminEnv) studentKeys(t *testing.T) []string {
	t.Helper()
	var l typeList
	e.call(t, "GET", "/api/v1/task-types", e.student, nil, http.StatusOK).JSON(t, &l)
	return typeKeys(l.Items)
}

func typeKeys(types []catalog.TaskType) []string {
	out := make([]string, len(types))
	for i, tt := range types {
		out[i] = tt.Key
	}
	return out
}

// laundry is a new task type as the admin form sends it.
func laundry() map[string]any {
	return map[string]any{
		"key":  "laundry",
		"name": map[string]string{"zh": "代洗衣物", "en": "Laundry"},
		"fields": []map[string]any{
			{"key": "bags", "label": map[string]string{"zh": "袋数", "en": "Bags"}, "type": "number", "required": true, "min": 1, "max": 5},
			{"key": "notes", "label": map[string]string{"zh": "备注", "en": "Notes"}, "type": "textarea", "required": false},
		},
		"pricing": map[string]any{"baseFee": 500, "includedMeters": 1000, "perKmFee": 100, "minFee": 500},
	}
}

// TestAdminTaskTypesHTTP is the package's only test on a whole application (apptest.New wires
// package-level tables, so two at once race); it runs beside the database-only tests.
func TestAdminTaskTypesHTTP(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	demo := []string{"parcel_pickup", "food_purchase", "item_delivery", "queueing"}

	t.Run("list includes everything, paginated", func(t *testing.T) {
		l := e.adminTypes(t)
		if !slices.Equal(typeKeys(l.Items), demo) || l.Total != 4 {
			t.Fatalf("admin list = %v (total %d); want %v", typeKeys(l.Items), l.Total, demo)
		}
		var page typeList
		e.call(t, "GET", "/api/v1/admin/task-types?limit=2&offset=1", e.owner, nil, http.StatusOK).JSON(t, &page)
		if !slices.Equal(typeKeys(page.Items), demo[1:3]) || page.Total != 4 {
			t.Errorf("page = %v (total %d); want %v of 4", typeKeys(page.Items), page.Total, demo[1:3])
		}
	})

	t.Run("create", func(t *testing.T) {
		var tt catalog.TaskType
		e.call(t, "POST", "/api/v1/admin/task-types", e.owner, laundry(), http.StatusCreated).JSON(t, &tt)
		if tt.Key != "laundry" || !tt.Enabled || tt.Version != 1 || tt.Sort != 4 || len(tt.Fields) != 2 || tt.Pricing.BaseFee != 500 {
			t.Errorf("created %+v", tt)
		}
		if got := e.studentKeys(t); !slices.Equal(got, append(slices.Clone(demo), "laundry")) {
			t.Errorf("student sees %v", got)
		}
		e.wantProblem(t, "POST", "/api/v1/admin/task-types", laundry(), http.StatusConflict, "task_type_exists", "")
	})

	t.Run("invalid definitions name the field", func(t *testing.T) {
		badType := laundry()
		badType["key"] = "ironing"
		badType["fields"].([]map[string]any)[1]["type"] = "essay"
		e.wantProblem(t, "POST", "/api/v1/admin/task-types", badType, http.StatusUnprocessableEntity, "task_type_invalid", "body.fields[1].type")

		badKey := laundry()
		badKey["key"] = "Ironing Service"
		e.wantProblem(t, "POST", "/api/v1/admin/task-types", badKey, http.StatusUnprocessableEntity, "task_type_invalid", "body.key")

		// "order" would collide with PUT /admin/task-types/order.
		reserved := laundry()
		reserved["key"] = "order"
		e.wantProblem(t, "POST", "/api/v1/admin/task-types", reserved, http.StatusUnprocessableEntity, "task_type_invalid", "body.key")

		if l := e.adminTypes(t); l.Total != 5 {
			t.Errorf("refused creates left %v", typeKeys(l.Items))
		}
	})

	t.Run("update with optimistic concurrency", func(t *testing.T) {
		edit := laundry()
		delete(edit, "key")
		edit["name"] = map[string]string{"zh": "代洗衣服", "en": "Laundry run"}
		edit["enabled"] = true
		edit["version"] = 1
		var tt catalog.TaskType
		e.call(t, "PUT", "/api/v1/admin/task-types/laundry", e.owner, edit, http.StatusOK).JSON(t, &tt)
		if tt.Version != 2 || tt.Name.ZH != "代洗衣服" || tt.Name.EN != "Laundry run" {
			t.Errorf("updated %+v", tt)
		}
		// A second admin still holding version 1 must not overwrite the first one's edit.
		edit["name"] = map[string]string{"zh": "旧名字", "en": "Stale"}
		e.wantProblem(t, "PUT", "/api/v1/admin/task-types/laundry", edit, http.StatusConflict, "task_type_version_conflict", "")
		if l := e.adminTypes(t); l.Items[4].Name.EN != "Laundry run" {
			t.Errorf("conflicting edit changed the name to %q", l.Items[4].Name.EN)
		}

		edit["version"] = 2
		edit["pricing"] = map[string]any{"baseFee": -1, "includedMeters": 0, "perKmFee": 0, "minFee": 0}
		e.wantProblem(t, "PUT", "/api/v1/admin/task-types/laundry", edit, http.StatusUnprocessableEntity, "task_type_invalid", "body.pricing.baseFee")
		edit["pricing"] = laundry()["pricing"]
		e.wantProblem(t, "PUT", "/api/v1/admin/task-types/ironing", edit, http.StatusNotFound, "task_type_not_found", "")
	})

	t.Run("disable and enable", func(t *testing.T) {
		var tt catalog.TaskType
		e.call(t, "POST", "/api/v1/admin/task-types/laundry/enabled", e.owner, map[string]bool{"enabled": false}, http.StatusOK).JSON(t, &tt)
		if tt.Enabled || tt.Version != 3 {
			t.Errorf("disabled %+v", tt)
		}
		if got := e.studentKeys(t); slices.Contains(got, "laundry") {
			t.Errorf("student still sees laundry: %v", got)
		}
		if l := e.adminTypes(t); l.Total != 5 || l.Items[4].Enabled {
			t.Errorf("admin list after disabling: %v", typeKeys(l.Items))
		}
		e.call(t, "POST", "/api/v1/admin/task-types/laundry/enabled", e.owner, map[string]bool{"enabled": true}, http.StatusOK)
		if got := e.studentKeys(t); !slices.Contains(got, "laundry") {
			t.Errorf("student does not see laundry again: %v", got)
		}
		e.wantProblem(t, "POST", "/api/v1/admin/task-types/ironing/enabled", map[string]bool{"enabled": true}, http.StatusNotFound, "task_type_not_found", "")
	})

	t.Run("reorder", func(t *testing.T) {
		order := []string{"laundry", "queueing", "parcel_pickup", "item_delivery", "food_purchase"}
		var l typeList
		e.call(t, "PUT", "/api/v1/admin/task-types/order", e.owner, map[string]any{"keys": order}, http.StatusOK).JSON(t, &l)
		if !slices.Equal(typeKeys(l.Items), order) {
			t.Errorf("reorder answered %v", typeKeys(l.Items))
		}
		if got := e.studentKeys(t); !slices.Equal(got, order) {
			t.Errorf("student sees %v; want %v", got, order)
		}
		e.wantProblem(t, "PUT", "/api/v1/admin/task-types/order", map[string]any{"keys": order[1:]}, http.StatusUnprocessableEntity, "task_type_invalid", "body.keys")
		e.wantProblem(t, "PUT", "/api/v1/admin/task-types/order", map[string]any{"keys": append(slices.Clone(order), "ironing")},
			http.StatusUnprocessableEntity, "task_type_invalid", "body.keys[5]")
	})

	t.Run("students and strangers are refused", func(t *testing.T) {
		ops := []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/v1/admin/task-types", nil},
			{"POST", "/api/v1/admin/task-types", laundry()},
			{"PUT", "/api/v1/admin/task-types/laundry", map[string]any{"version": 1}},
			{"POST", "/api/v1/admin/task-types/laundry/enabled", map[string]bool{"enabled": false}},
			{"PUT", "/api/v1/admin/task-types/order", map[string]any{"keys": []string{}}},
		}
		for _, op := range ops {
			if r := e.Do(e.host, op.method, op.path, e.student, op.body); r.Status != http.StatusForbidden || r.Problem(t).Code != "permission_denied" {
				t.Errorf("student %s %s: %d %s", op.method, op.path, r.Status, r.Body)
			}
			if r := e.Do(e.host, op.method, op.path, "", op.body); r.Status != http.StatusUnauthorized {
				t.Errorf("anonymous %s %s: %d %s", op.method, op.path, r.Status, r.Body)
			}
		}
		if got := e.studentKeys(t); len(got) != 5 || got[0] != "laundry" {
			t.Errorf("refused calls changed the types: %v", got)
		}
	})

	t.Run("every change is audited", func(t *testing.T) {
		var log struct {
			Items []struct{ Actor, Action, Target string }
		}
		e.call(t, "GET", "/api/v1/audit-log?limit=200", e.owner, nil, http.StatusOK).JSON(t, &log)
		count := map[string]int{}
		for _, it := range log.Items {
			if strings.HasPrefix(it.Action, "settings.") {
				count[it.Action]++
				if !strings.HasPrefix(it.Actor, "user:") {
					t.Errorf("%s by %q", it.Action, it.Actor)
				}
			}
		}
		want := map[string]int{"settings.task_type.create": 1, "settings.task_type.update": 1, "settings.task_type.disable": 1,
			"settings.task_type.enable": 1, "settings.task_type.reorder": 1}
		for action, n := range want {
			if count[action] != n {
				t.Errorf("%s audited %d times; want %d (all: %v)", action, count[action], n, count)
			}
		}
		if len(count) != len(want) {
			t.Errorf("audited actions %v; want %v (refused changes leave no entry)", count, want)
		}
	})
}
