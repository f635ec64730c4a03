package app_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestStaffFlagsAndClearsAnException(t *testing.T) {
	e := newErrandEnv(t)
	o := e.createPaid(t)
	path := "/api/v1/admin/orders/" + o.ID + "/exception"
	support := e.Login("campus", "13800000003")

	if r := e.Do(e.host, "PUT", path, e.student.AccessToken, map[string]string{"exception": "late", "note": "x"}); r.Status != http.StatusForbidden {
		t.Fatalf("student flagging: %d", r.Status)
	}
	if r := e.Do(e.host, "PUT", path, support.AccessToken, map[string]string{"exception": "item_lost"}); r.Status != 422 || r.Problem(t).Code != "exception_invalid" {
		t.Fatalf("flag without a note: %d %s", r.Status, r.Body)
	}
	if r := e.Do(e.host, "PUT", path, support.AccessToken, map[string]string{"exception": "abducted", "note": "x"}); r.Status != 422 {
		t.Fatalf("unknown exception: %d %s", r.Status, r.Body)
	}
	r := e.Do(e.host, "PUT", path, support.AccessToken, map[string]string{"exception": "shop_closed", "note": "第一食堂今天停业"})
	if r.Status != 200 || !strings.Contains(string(r.Body), `"exception":"shop_closed"`) || !strings.Contains(string(r.Body), `"status":"awaiting_courier"`) {
		t.Fatalf("flag: %d %s", r.Status, r.Body)
	}
	r = e.Do(e.host, "PUT", path, support.AccessToken, map[string]string{"exception": ""})
	if r.Status != 200 || strings.Contains(string(r.Body), `"exception"`) {
		t.Fatalf("clear: %d %s", r.Status, r.Body)
	}
	r = e.Do(e.host, "GET", "/api/v1/admin/orders/"+o.ID, support.AccessToken, nil)
	if !strings.Contains(string(r.Body), `"event":"flag_exception"`) || !strings.Contains(string(r.Body), `"event":"clear_exception"`) ||
		!strings.Contains(string(r.Body), "第一食堂今天停业") {
		t.Fatalf("timeline lacks the flag: %s", r.Body)
	}
}
