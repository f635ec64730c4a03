package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// The owner changes the business rules over HTTP and they take effect: a higher detour and a
// new all-day surcharge raise the next quote, Alipay becomes payable, and bad values are
// refused naming the field.
func TestBusinessSettingsTakeEffect(t *testing.T) {
	e := newErrandEnv(t)
	path := "/api/v1/admin/settings/business"
	r := e.Do(e.host, "GET", path, e.owner.AccessToken, nil)
	var b map[string]any
	r.JSON(t, &b)
	if r.Status != 200 || b["courierShareBp"] != float64(8000) || b["paymentTimeout"] != "15m" || b["dispatchMode"] != "grab" {
		t.Fatalf("get: %d %s", r.Status, r.Body)
	}
	if r := e.Do(e.host, "GET", path, e.student.AccessToken, nil); r.Status != http.StatusForbidden {
		t.Fatalf("student reading settings: %d", r.Status)
	}
	quoteTotal := func() float64 {
		r := e.Do(e.host, "POST", "/api/v1/orders/quote", e.student.AccessToken, e.quoteBody(0))
		var q struct{ Total float64 }
		r.JSON(t, &q)
		return q.Total
	}
	before := quoteTotal()

	// Keep the tenant's surcharges and add one whose window surrounds now (tenant time), so the
	// next quote must be exactly ¥3 dearer whatever the hour.
	now := time.Now().In(mustLoc(t))
	window := func(d time.Duration) string { return now.Add(d).Format("15:04") }
	surcharges, _ := b["surcharges"].([]any)
	b["surcharges"] = append(surcharges, map[string]any{"name": map[string]string{"zh": "活动服务费", "en": "Event fee"},
		"from": window(-time.Hour), "to": window(time.Hour), "fee": 300})
	b["stripeMethods"] = []string{"card", "alipay"}
	b["courierShareBp"] = 7500
	r = e.Do(e.host, "PUT", path, e.owner.AccessToken, b)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"alipay"`) {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	if after := quoteTotal(); after != before+300 {
		t.Fatalf("quote %v -> %v after a ¥3 surcharge", before, after)
	}
	r = e.Do(e.host, "GET", "/api/v1/audit-log?limit=10", e.owner.AccessToken, nil)
	if !strings.Contains(string(r.Body), "settings.business.update") {
		t.Fatalf("update not audited: %s", r.Body)
	}
	for field, value := range map[string]any{
		"courierShareBp": 12000, "paymentTimeout": "5s", "freeCancelUntil": "delivered",
		"stripeMethods": []string{"bitcoin"}, "detourFactor": 0.5, "dispatchMode": "auction",
	} {
		bad := map[string]any{}
		for k, v := range b {
			bad[k] = v
		}
		bad[field] = value
		r := e.Do(e.host, "PUT", path, e.owner.AccessToken, bad)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), field) {
			t.Errorf("%s=%v: %d %s", field, value, r.Status, r.Body)
		}
	}
}
