package app_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// fakeIntents answers PaymentIntent creation as Stripe does, enough for the app to hand out a
// client secret; the test is about the answer, not about Stripe.
func fakeIntents(t *testing.T) string {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/payment_intents" {
			http.Error(w, `{"error":{"message":"unexpected"}}`, http.StatusNotFound)
			return
		}
		_ = r.ParseForm()
		id := fmt.Sprintf("pi_fake_%d", n.Add(1))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"object":"payment_intent","status":"requires_payment_method","amount":%s,"currency":"cny","client_secret":%q}`,
			id, r.PostForm.Get("amount"), id+"_secret_x")
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// The student app confirms card payments with Stripe.js, which needs the publishable key next
// to the client secret: pay-order and topup-wallet send the configured key; a wallet payment,
// which has nothing to confirm, sends none.
func TestPayAnswersCarryPublishableKey(t *testing.T) {
	e := newErrandEnv(t, "PAOTUI_STRIPE_SECRET_KEY=sk_test_paotui", "PAOTUI_STRIPE_API_URL="+fakeIntents(t),
		"PAOTUI_STRIPE_PUBLISHABLE_KEY=pk_test_paotui")
	var answer struct {
		ClientSecret   string `json:"clientSecret"`
		PublishableKey string `json:"publishableKey"`
	}
	order := func() string {
		body := e.quoteBody(0)
		body["quoteToken"] = e.quote(t, body)
		r := e.Do(e.host, "POST", "/api/v1/orders", e.student.AccessToken, body)
		var o orderView
		r.JSON(t, &o)
		return o.ID
	}

	r := e.Do(e.host, "POST", "/api/v1/orders/"+order()+"/pay", e.student.AccessToken, map[string]string{"method": "card"})
	r.JSON(t, &answer)
	if r.Status != 200 || answer.ClientSecret == "" || answer.PublishableKey != "pk_test_paotui" {
		t.Fatalf("card payment: %d %s", r.Status, r.Body)
	}

	answer.ClientSecret, answer.PublishableKey = "", ""
	r = e.Do(e.host, "POST", "/api/v1/me/wallet/topups", e.student.AccessToken, map[string]any{"amount": 5000, "method": "card"})
	r.JSON(t, &answer)
	if r.Status != 200 || answer.ClientSecret == "" || answer.PublishableKey != "pk_test_paotui" {
		t.Fatalf("card top-up: %d %s", r.Status, r.Body)
	}

	answer.ClientSecret, answer.PublishableKey = "", ""
	r = e.Do(e.host, "POST", "/api/v1/orders/"+order()+"/pay", e.student.AccessToken, map[string]string{"method": "wallet"})
	r.JSON(t, &answer)
	if r.Status != 200 || answer.ClientSecret != "" || answer.PublishableKey != "" {
		t.Fatalf("wallet payment: %d %s", r.Status, r.Body)
	}
}
