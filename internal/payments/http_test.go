package payments_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stripe/stripe-go/v76"

	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/payments"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// hosts resolves every host to the base host except tenant.example, a tenant's host.
type hosts struct{ tenant *tenancy.Tenant }

func (h hosts) Resolve(_ context.Context, host string) (tenancy.Host, error) {
	if host == "tenant.example" {
		return tenancy.Host{Kind: tenancy.KindTenant, Tenant: h.tenant}, nil
	}
	return tenancy.Host{Kind: tenancy.KindBase}, nil
}

func (h hosts) BySlug(context.Context, string) (*tenancy.Tenant, error) {
	return nil, tenancy.ErrNotFound
}

func TestWebhookEndpoint(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httpx.New(httpx.Deps{Config: cfg, Hosts: hosts{e.tenant}, Log: testLog()})
	payments.RegisterHTTP(srv.API, e.svc, whsec)

	u := e.user(t)
	o := e.order(t, u, 1500)
	p, _ := e.startStripe(t, payments.PurposeOrder, o, u, 1500, "")
	payload, header := event(t, "evt_http", stripe.EventTypePaymentIntentSucceeded, intentObject(e, p, "succeeded"), whsec)
	_, forged := event(t, "evt_http", stripe.EventTypePaymentIntentSucceeded, intentObject(e, p, "succeeded"), "whsec_other")

	post := func(host, sig string, body []byte) (int, map[string]any) {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/api/v1/webhooks/stripe", bytes.NewReader(body))
		req.Host = host
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("Stripe-Signature", sig)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}

	if code, out := post("paotui.example", forged, payload); code != http.StatusBadRequest || out["code"] != "stripe_signature_invalid" {
		t.Errorf("forged: %d %v", code, out)
	}
	if code, out := post("tenant.example", header, payload); code != http.StatusNotFound {
		t.Errorf("on a tenant host: %d %v, want 404", code, out)
	}
	if code, out := post("paotui.example", header, payload); code != http.StatusOK || out["received"] != true || out["duplicate"] != false {
		t.Errorf("first delivery: %d %v", code, out)
	}
	if code, out := post("paotui.example", header, payload); code != http.StatusOK || out["duplicate"] != true {
		t.Errorf("redelivery: %d %v", code, out)
	}
	if n := len(e.outbox(t, payments.TaskStripeEvent)); n != 1 {
		t.Errorf("%d outbox rows, want 1", n)
	}
}
