package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/paotui/paotui/internal/ledger/ledgertest"
	"github.com/paotui/paotui/internal/payments/stripemock"
)

func TestMain(m *testing.M) {
	code := m.Run()
	stripemock.Stop()
	os.Exit(code)
}

// stripeState sits in front of stripe-mock (which is stateless: it checks request shapes and
// answers fixtures) and remembers the PaymentIntent the app created, so re-fetching it after
// the webhook finds it succeeded with the app's amount and metadata.
type stripeState struct {
	mock string
	mu   sync.Mutex
	pi   map[string]any
}

func (s *stripeState) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req, _ := http.NewRequest(r.Method, s.mock+r.URL.RequestURI(), bytes.NewReader(body))
	req.Header = r.Header.Clone()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode == 200 && strings.HasPrefix(r.URL.Path, "/v1/payment_intents") {
		var obj map[string]any
		if json.Unmarshal(raw, &obj) == nil {
			s.mu.Lock()
			if r.Method == http.MethodPost && r.URL.Path == "/v1/payment_intents" {
				form, _ := url.ParseQuery(string(body))
				meta := map[string]any{}
				for k, v := range form {
					if strings.HasPrefix(k, "metadata[") {
						meta[strings.TrimSuffix(strings.TrimPrefix(k, "metadata["), "]")] = v[0]
					}
				}
				obj["metadata"] = meta
				obj["amount"] = json.Number(form.Get("amount"))
				obj["currency"] = form.Get("currency")
				s.pi = obj
			} else if r.Method == http.MethodGet && s.pi != nil {
				obj = map[string]any{}
				for k, v := range s.pi {
					obj[k] = v
				}
				obj["status"] = "succeeded"
			}
			s.mu.Unlock()
			raw, _ = json.Marshal(obj)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(raw)
}

// The Stripe path: the student pays by card, Stripe (stripe-mock) takes the
// PaymentIntent, a signed payment_intent.succeeded webhook arrives on the platform endpoint,
// the worker re-fetches the intent and the order moves to awaiting_courier. A replayed webhook
// changes nothing, a forged one is refused.
func TestStripePaymentThroughWebhook(t *testing.T) {
	state := &stripeState{mock: stripemock.URL(t)}
	front := httptest.NewServer(state)
	defer front.Close()
	const secret = "whsec_paotui_test"
	e := newErrandEnv(t, "PAOTUI_STRIPE_SECRET_KEY=sk_test_paotui", "PAOTUI_STRIPE_API_URL="+front.URL,
		"PAOTUI_STRIPE_WEBHOOK_SECRET="+secret)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.App.RunWorker(ctx) }()
	defer func() { cancel(); <-done }()

	body := e.quoteBody(0)
	body["quoteToken"] = e.quote(t, body)
	r := e.Do(e.host, "POST", "/api/v1/orders", e.student.AccessToken, body)
	var o orderView
	r.JSON(t, &o)
	r = e.Do(e.host, "POST", "/api/v1/orders/"+o.ID+"/pay", e.student.AccessToken, map[string]string{"method": "card"})
	var started struct {
		Order        orderView `json:"order"`
		ClientSecret string    `json:"clientSecret"`
	}
	r.JSON(t, &started)
	if r.Status != 200 || started.ClientSecret == "" || started.Order.Status != "awaiting_payment" {
		t.Fatalf("start card payment: %d %s", r.Status, r.Body)
	}
	state.mu.Lock()
	pi := state.pi
	state.mu.Unlock()
	if pi == nil {
		t.Fatal("no PaymentIntent reached Stripe")
	}
	pi["status"] = "succeeded"
	event, _ := json.Marshal(map[string]any{
		"id": "evt_paotui_1", "object": "event", "api_version": stripe.APIVersion, "created": time.Now().Unix(),
		"type": "payment_intent.succeeded", "data": map[string]any{"object": pi},
	})
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: event, Secret: secret, Timestamp: time.Now()})
	post := func(sig string) *http.Response {
		req, _ := http.NewRequest("POST", e.HTTP.URL+"/api/v1/webhooks/stripe", bytes.NewReader(event))
		req.Host = "localhost"
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Signature", sig)
		res, err := e.HTTP.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	forged := strings.Replace(signed.Header, "v1=", "v1=00", 1)
	if res := post(forged); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("forged webhook: %d", res.StatusCode)
	}
	if res := post(signed.Header); res.StatusCode != 200 {
		raw, _ := io.ReadAll(res.Body)
		t.Fatalf("webhook: %d %s", res.StatusCode, raw)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		r = e.Do(e.host, "GET", "/api/v1/orders/"+o.ID, e.student.AccessToken, nil)
		var got orderView
		r.JSON(t, &got)
		if got.Status == "awaiting_courier" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("order not paid after the webhook: %s", r.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	res := post(signed.Header)
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(raw), `"duplicate":true`) {
		t.Fatalf("replayed webhook: %d %s", res.StatusCode, raw)
	}
	ledgertest.RequireClean(t, e.App.DB, e.tenant(t))
}
