package orders_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/paotui/paotui/internal/ledger/ledgertest"
)

// The admin screens draw the refund button from `allowed`. While the order is delivered its
// money is still in escrow, so staff are offered a refund and it goes through; once the student
// confirms, the escrow is settled to the courier and the tenant, so the button goes away and
// refund-order refuses it (refund_too_large) without moving money.
func TestAllowedOffersRefundOnlyBeforeSettlement(t *testing.T) {
	t.Parallel()
	c := newCampus(t)
	o := c.order(t, "")
	c.pay(t, o)
	if r := c.Do(c.host, "POST", "/api/v1/courier/online", c.courier.AccessToken, nil); r.Status != http.StatusOK {
		t.Fatalf("go online: %d %s", r.Status, r.Body)
	}
	r := c.Do(c.host, "GET", "/api/v1/orders/"+o.ID, c.student.AccessToken, nil)
	var mine struct {
		DeliveryCode string `json:"deliveryCode"`
	}
	r.JSON(t, &mine)
	if r.Status != http.StatusOK || mine.DeliveryCode == "" {
		t.Fatalf("get-order: %d %s", r.Status, r.Body)
	}
	for _, step := range []struct{ path, body string }{
		{"grab", `{}`},
		{"pickup", `{"code":"SECRET-3-2-1108"}`},
		{"deliver", `{"code":"` + mine.DeliveryCode + `"}`},
	} {
		if r := c.Do(c.host, "POST", "/api/v1/orders/"+o.ID+"/"+step.path, c.courier.AccessToken, step.body); r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", step.path, r.Status, r.Body)
		}
	}

	detail := func(t *testing.T) (status string, allowed []string, refunded int64) {
		t.Helper()
		r := c.Do(c.host, "GET", "/api/v1/admin/orders/"+o.ID, c.owner.AccessToken, nil)
		var d struct {
			Status         string   `json:"status"`
			Allowed        []string `json:"allowed"`
			RefundedAmount int64    `json:"refundedAmount"`
		}
		r.JSON(t, &d)
		if r.Status != http.StatusOK {
			t.Fatalf("get-order-detail: %d %s", r.Status, r.Body)
		}
		return d.Status, d.Allowed, d.RefundedAmount
	}
	refund := "/api/v1/admin/orders/" + o.ID + "/refund"

	status, allowed, _ := detail(t)
	if status != "delivered" || !slices.Contains(allowed, "refund") {
		t.Fatalf("delivered order: status %s, allowed %v; want refund offered", status, allowed)
	}
	if r := c.Do(c.host, "POST", refund, c.owner.AccessToken, map[string]any{"amount": 50, "reason": "late"}); r.Status != http.StatusOK {
		t.Fatalf("refund of a delivered order: %d %s", r.Status, r.Body)
	}

	if r := c.Do(c.host, "POST", "/api/v1/orders/"+o.ID+"/confirm", c.student.AccessToken, nil); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	status, allowed, refunded := detail(t)
	if status != "completed" || slices.Contains(allowed, "refund") {
		t.Fatalf("completed order: status %s, allowed %v; want no refund offered", status, allowed)
	}
	r = c.Do(c.host, "POST", refund, c.owner.AccessToken, map[string]any{"amount": 50, "reason": "complaint"})
	if r.Status != http.StatusUnprocessableEntity || r.Problem(t).Code != "refund_too_large" {
		t.Fatalf("refund of a completed order: %d %s; want 422 refund_too_large", r.Status, r.Body)
	}
	if _, _, after := detail(t); after != refunded || refunded != 50 {
		t.Fatalf("refunded %d before the refused refund, %d after; want 50 both", refunded, after)
	}
	ledgertest.RequireClean(t, c.App.DB, c.tn)
}
