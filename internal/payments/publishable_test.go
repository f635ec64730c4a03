package payments_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/payments"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// userTokens takes a tenant token to be the user id itself: these tests are about the
// answer, not about sign-in.
type userTokens struct{}

func (userTokens) VerifyTenant(_ context.Context, _ *tenancy.Tenant, token string) (*httpx.Principal, error) {
	return &httpx.Principal{UserID: token}, nil
}

func (userTokens) VerifyPlatform(context.Context, string) (*httpx.Principal, error) {
	return nil, httpx.ErrUnauthorized()
}

// The student app confirms a top-up with Stripe.js, which needs the publishable key: the
// topup-wallet answer carries it next to the client secret, and leaves it out when none is
// configured (the app then knows it cannot confirm a card payment).
func TestTopupAnswerCarriesPublishableKey(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	topup := func(svc *payments.Service, user string) (int, map[string]any) {
		t.Helper()
		srv := httpx.New(httpx.Deps{Config: cfg, Hosts: hosts{e.tenant}, Verifier: userTokens{}, Log: testLog()})
		payments.RegisterWalletHTTP(srv.API, svc)
		body, _ := json.Marshal(map[string]any{"amount": 2000, "method": "card"})
		req := httptest.NewRequest(http.MethodPost, "/api/v1/me/wallet/topups", bytes.NewReader(body))
		req.Host = "tenant.example"
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+user)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("answer %d is not JSON: %s", rec.Code, rec.Body)
		}
		return rec.Code, out
	}
	u := e.user(t)

	code, out := topup(e.svc.WithPublishableKey("pk_test_paotui"), u)
	if code != http.StatusOK || out["clientSecret"] == "" || out["publishableKey"] != "pk_test_paotui" {
		t.Fatalf("with a key: %d %v", code, out)
	}

	without := payments.New(e.db, e.fake, jobs.NewOutbox(), testLog())
	code, out = topup(without, u)
	if _, has := out["publishableKey"]; code != http.StatusOK || out["clientSecret"] == "" || has {
		t.Fatalf("without a key: %d %v, want a client secret and no publishableKey", code, out)
	}
}

// OrderPayments hands the orders domain the key to send with pay-order's client secret; with
// Stripe disabled there is nothing to confirm, so there is no key either.
func TestOrderPaymentsPublishableKey(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if got := (payments.OrderPayments{Service: e.svc.WithPublishableKey("pk_live_x")}).PublishableKey(); got != "pk_live_x" {
		t.Errorf("with Stripe: %q, want pk_live_x", got)
	}
	off := payments.New(e.db, nil, jobs.NewOutbox(), testLog()).WithPublishableKey("pk_live_x")
	if got := (payments.OrderPayments{Service: off}).PublishableKey(); got != "" {
		t.Errorf("Stripe disabled: %q, want none", got)
	}
}
