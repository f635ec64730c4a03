package couriers_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/couriers"
)

type profileJSON struct {
	UserID         string   `json:"userId"`
	Status         string   `json:"status"`
	RealName       string   `json:"realName"`
	StudentNo      string   `json:"studentNo"`
	Masked         bool     `json:"masked"`
	Online         bool     `json:"online"`
	DecisionReason string   `json:"decisionReason"`
	Allowed        []string `json:"allowed"`
}

// The operations through the real router: permissions, status codes, problem codes and what
// each side sees.
func TestHTTP(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	svc := couriers.New(env.App.DB, env.App.Keys, env.App.Authz, env.App.Redis, env.App.Log)
	// Until the application wires them, the test adds the operations; registering twice is
	// harmless, so this keeps working once it does.
	couriers.RegisterHTTP(env.Server.API, svc)
	couriers.RegisterHTTP(env.Server.API, svc)
	tn := env.Tenant("campus", "13800000000")
	host := env.Host("campus")
	owner := env.Login("campus", "13800000000").AccessToken
	stu := env.Login("campus", "13900000001")
	rival := env.Login("campus", "13900000002").AccessToken

	call := func(t *testing.T, method, path, token string, body any, status int, code string) *apptest.Response {
		t.Helper()
		r := env.Do(host, method, path, token, body)
		if r.Status != status {
			t.Fatalf("%s %s: %d %s; want %d", method, path, r.Status, r.Body, status)
		}
		if code != "" {
			if p := r.Problem(t); p.Code != code {
				t.Fatalf("%s %s: code %q (%s); want %q", method, path, p.Code, p.Detail, code)
			}
		}
		return r
	}
	profile := func(t *testing.T, r *apptest.Response) profileJSON {
		t.Helper()
		var p profileJSON
		r.JSON(t, &p)
		return p
	}
	me := stu.User.ID
	admin := "/api/v1/admin/couriers/" + me

	call(t, "GET", "/api/v1/courier/profile", stu.AccessToken, nil, http.StatusNotFound, "courier_profile_not_found")
	r := call(t, "POST", "/api/v1/courier/application", stu.AccessToken, map[string]any{"realName": "欧阳娜娜", "studentNo": "12"},
		http.StatusUnprocessableEntity, "courier_application_invalid")
	if p := r.Problem(t); len(p.Errors) != 1 || p.Errors[0].Location != "body.studentNo" {
		t.Fatalf("errors %s", r.Body)
	}
	p := profile(t, call(t, "POST", "/api/v1/courier/application", stu.AccessToken,
		map[string]any{"realName": "欧阳娜娜", "studentNo": "20210456", "vehicle": "bike"}, http.StatusCreated, ""))
	if p.UserID != me || p.Status != "pending" || p.RealName != "欧阳娜娜" || p.StudentNo != "20210456" || p.Masked || len(p.Allowed) != 0 {
		t.Fatalf("own profile %+v", p)
	}
	if p := profile(t, call(t, "GET", "/api/v1/courier/profile", stu.AccessToken, nil, http.StatusOK, "")); p.RealName != "欧阳娜娜" {
		t.Fatalf("own profile %+v", p)
	}

	// An applicant is still a student: no going online, no staff pages.
	call(t, "POST", "/api/v1/courier/online", stu.AccessToken, nil, http.StatusForbidden, "permission_denied")
	call(t, "GET", "/api/v1/admin/couriers", stu.AccessToken, nil, http.StatusForbidden, "permission_denied")
	call(t, "POST", admin+"/approve", stu.AccessToken, nil, http.StatusForbidden, "permission_denied")

	var list struct {
		Items []profileJSON `json:"items"`
		Total int64         `json:"total"`
	}
	call(t, "GET", "/api/v1/admin/couriers?status=pending", owner, nil, http.StatusOK, "").JSON(t, &list)
	if list.Total != 1 || len(list.Items) != 1 || list.Items[0].RealName != "欧***" || list.Items[0].StudentNo != "20****56" ||
		!list.Items[0].Masked || len(list.Items[0].Allowed) != 2 {
		t.Fatalf("pending list %+v", list)
	}
	call(t, "GET", "/api/v1/admin/couriers?online=true", owner, nil, http.StatusOK, "").JSON(t, &list)
	if list.Total != 0 || list.Items == nil {
		t.Fatalf("online list %+v (items must be [], not null)", list)
	}
	call(t, "GET", "/api/v1/admin/couriers?online=maybe", owner, nil, http.StatusUnprocessableEntity, "")
	call(t, "GET", "/api/v1/admin/couriers?status=banned", owner, nil, http.StatusUnprocessableEntity, "")

	call(t, "POST", admin+"/reject", owner, map[string]string{"reason": " "}, http.StatusUnprocessableEntity, "reason_required")
	call(t, "POST", admin+"/suspend", owner, map[string]string{"reason": "投诉"}, http.StatusConflict, "courier_illegal_transition")
	call(t, "POST", "/api/v1/admin/couriers/00000000-0000-0000-0000-000000000000/approve", owner, nil,
		http.StatusNotFound, "courier_profile_not_found")
	call(t, "POST", "/api/v1/admin/couriers/not-a-uuid/approve", owner, nil, http.StatusUnprocessableEntity, "")
	p = profile(t, call(t, "POST", admin+"/approve", owner, nil, http.StatusOK, ""))
	if p.Status != "approved" || !p.Masked {
		t.Fatalf("approved %+v", p)
	}

	call(t, "POST", "/api/v1/courier/application", rival, map[string]any{"realName": "李四", "studentNo": "20210456"},
		http.StatusConflict, "student_no_taken")
	call(t, "POST", "/api/v1/courier/application", stu.AccessToken, map[string]any{"realName": "欧阳娜娜", "studentNo": "20210456"},
		http.StatusConflict, "already_courier")

	// Approved: the courier role came with it.
	if p := profile(t, call(t, "POST", "/api/v1/courier/online", stu.AccessToken, nil, http.StatusOK, "")); !p.Online || p.RealName != "欧阳娜娜" {
		t.Fatalf("online %+v", p)
	}
	if ok, err := env.App.Redis.SIsMember(context.Background(), couriers.OnlineKey(tn.ID), me).Result(); err != nil || !ok {
		t.Fatalf("not in the online set: %v", err)
	}
	var earnings struct {
		Balance  *int64           `json:"balance"`
		TimeZone string           `json:"timeZone"`
		Items    []map[string]any `json:"items"`
	}
	call(t, "GET", "/api/v1/courier/earnings?limit=5", stu.AccessToken, nil, http.StatusOK, "").JSON(t, &earnings)
	if earnings.Balance == nil || *earnings.Balance != 0 || earnings.TimeZone != "Asia/Shanghai" || earnings.Items == nil {
		t.Fatalf("earnings %+v", earnings)
	}
	call(t, "GET", "/api/v1/courier/earnings?limit=500", stu.AccessToken, nil, http.StatusUnprocessableEntity, "")
	call(t, "GET", "/api/v1/courier/earnings", rival, nil, http.StatusForbidden, "permission_denied")

	var detail struct {
		profileJSON
		Stats *struct {
			Balance         int64 `json:"balance"`
			CompletedOrders int64 `json:"completedOrders"`
		} `json:"stats"`
	}
	call(t, "GET", admin, owner, nil, http.StatusOK, "").JSON(t, &detail)
	if detail.UserID != me || !detail.Masked || !detail.Online || detail.Stats == nil {
		t.Fatalf("detail %+v", detail)
	}

	if p := profile(t, call(t, "POST", admin+"/suspend", owner, map[string]string{"reason": "多次超时"}, http.StatusOK, "")); p.Status != "suspended" || p.Online {
		t.Fatalf("suspended %+v", p)
	}
	call(t, "POST", "/api/v1/courier/online", stu.AccessToken, nil, http.StatusForbidden, "courier_suspended")
	if p := profile(t, call(t, "GET", "/api/v1/courier/profile", stu.AccessToken, nil, http.StatusOK, "")); p.DecisionReason != "多次超时" {
		t.Fatalf("the courier does not see why: %+v", p)
	}
	call(t, "POST", admin+"/reinstate", owner, nil, http.StatusOK, "")
	call(t, "POST", "/api/v1/courier/offline", stu.AccessToken, nil, http.StatusOK, "")

	// The OpenAPI document has every operation under its exact id.
	ids := map[string]bool{}
	for _, item := range env.Server.API.OpenAPI().Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post} {
			if op != nil {
				ids[op.OperationID] = true
			}
		}
	}
	for _, id := range []string{"apply-courier", "get-my-courier-profile", "go-online", "go-offline", "get-courier-earnings",
		"list-couriers", "get-courier", "approve-courier", "reject-courier", "suspend-courier", "reinstate-courier"} {
		if !ids[id] {
			t.Errorf("operation %s not registered", id)
		}
	}
}
