package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/payments/stripemock"
)

const billingSecret = "whsec_billing_test"

// billingEnv is an application billing through stripe-mock, with its worker running.
type billingEnv struct {
	*apptest.Env
	t        *testing.T
	platform string // platform owner's token
	events   atomic.Int64
}

func newBillingEnv(t *testing.T, extra ...string) *billingEnv {
	t.Helper()
	env := append([]string{"PAOTUI_STRIPE_SECRET_KEY=sk_test_paotui", "PAOTUI_STRIPE_API_URL=" + stripemock.URL(t),
		"PAOTUI_BILLING_WEBHOOK_SECRET=" + billingSecret}, extra...)
	return startBillingEnv(t, env)
}

// usageStripe sits in front of stripe-mock and answers usage records itself, keeping them:
// stripe-mock v0.203 no longer knows the legacy usage-record endpoint that API version
// 2023-10-16 (the one stripe-go v76 speaks) bills metered prices with.
type usageStripe struct {
	mock    *httputil.ReverseProxy
	mu      sync.Mutex
	records []url.Values // with "item" set to the subscription item
	// subscriptionUpdates are the forms of subscription updates, passed on to stripe-mock.
	subscriptionUpdates []url.Values
}

func (s *usageStripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/v1/subscriptions/") {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		s.mu.Lock()
		s.subscriptionUpdates = append(s.subscriptionUpdates, form)
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	item, ok := strings.CutPrefix(r.URL.Path, "/v1/subscription_items/")
	if item, found := strings.CutSuffix(item, "/usage_records"); ok && found && r.Method == http.MethodPost {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		form.Set("item", item)
		s.mu.Lock()
		s.records = append(s.records, form)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"id":"mbur_%d","object":"usage_record","livemode":false,"quantity":%s,"subscription_item":%q,"timestamp":%s}`,
			len(s.records), form.Get("quantity"), item, form.Get("timestamp"))
		return
	}
	s.mock.ServeHTTP(w, r)
}

func startBillingEnv(t *testing.T, env []string) *billingEnv {
	t.Helper()
	e := &billingEnv{Env: apptest.New(t, env...), t: t}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.App.RunWorker(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	e.platform = e.PlatformLogin("owner@paotui.test", "owner-password", "owner")
	return e
}

// plan creates a plan with Stripe prices: trialDays 0 goes through Checkout.
func (e *billingEnv) plan(id string, trialDays int, metered bool) {
	e.t.Helper()
	prices := map[string]string{"monthly": "price_" + id + "_m", "yearly": "price_" + id + "_y"}
	if metered {
		prices["metered"] = "price_" + id + "_orders"
	}
	r := e.Do(e.PlatformHost(), "POST", "/api/v1/platform/plans", e.platform, map[string]any{
		"id": id, "name": map[string]string{"zh": id, "en": id}, "currency": "cny",
		"monthlyAmount": 9900, "yearlyAmount": 99000, "trialDays": trialDays, "stripePrices": prices,
		"limits": map[string]any{"maxActiveCouriers": 30, "maxOrdersPerMonth": 1000, "maxStaffSeats": nil, "customDomain": false},
		"sort":   5,
	})
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		e.t.Fatalf("create plan %s: %d %s", id, r.Status, r.Body)
	}
}

type signupStatus struct {
	SignupID     string `json:"signupId"`
	TenantID     int64  `json:"tenantId"`
	Slug         string `json:"slug"`
	State        string `json:"state"`
	Ready        bool   `json:"ready"`
	AdminURL     string `json:"adminUrl"`
	CheckoutURL  string `json:"checkoutUrl"`
	Subscription string `json:"subscription"`
}

func (e *billingEnv) code(phone string) string {
	e.t.Helper()
	if r := e.Do("localhost", "POST", "/api/v1/signup/sms-code", "", map[string]string{"phone": phone}); r.Status != 200 {
		e.t.Fatalf("send signup code: %d %s", r.Status, r.Body)
	}
	return e.App.SMS.LastCode(phone)
}

func (e *billingEnv) signup(slug, phone, plan string) *apptest.Response {
	return e.Do("localhost", "POST", "/api/v1/signup", "", map[string]any{
		"teamName": "Team " + slug, "subdomain": slug, "school": "北苑大学", "phone": phone, "code": e.code(phone), "planId": plan,
	})
}

func (e *billingEnv) status(id string) signupStatus {
	e.t.Helper()
	r := e.Do("localhost", "GET", "/api/v1/signup/"+id, "", nil)
	if r.Status != 200 {
		e.t.Fatalf("signup status: %d %s", r.Status, r.Body)
	}
	var s signupStatus
	r.JSON(e.t, &s)
	return s
}

// eventually polls cond until it holds or 20 s pass.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never happened; last: %s", what, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// send posts a Stripe event to the billing webhook, signed with secret.
func (e *billingEnv) send(id, typ string, object map[string]any, secret string) (int, []byte) {
	e.t.Helper()
	payload, _ := json.Marshal(map[string]any{"id": id, "object": "event", "api_version": stripe.APIVersion,
		"created": time.Now().Unix(), "type": typ, "data": map[string]any{"object": object}})
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: time.Now()})
	return e.post(payload, signed.Header)
}

func (e *billingEnv) post(payload []byte, sig string) (int, []byte) {
	req, _ := http.NewRequest("POST", e.HTTP.URL+"/api/v1/webhooks/stripe-billing", bytes.NewReader(payload))
	req.Host = "localhost"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", sig)
	res, err := e.HTTP.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, body
}

func (e *billingEnv) event(typ string, object map[string]any) string {
	e.t.Helper()
	id := fmt.Sprintf("evt_%s_%d", strings.ReplaceAll(typ, ".", "_"), e.events.Add(1))
	if code, body := e.send(id, typ, object, billingSecret); code != 200 {
		e.t.Fatalf("webhook %s: %d %s", typ, code, body)
	}
	return id
}

func subscriptionObject(tenantID int64, plan, status string) map[string]any {
	now := time.Now().Unix()
	return map[string]any{
		"id": "sub_" + strconv.FormatInt(tenantID, 10), "object": "subscription", "status": status, "customer": "cus_t" + strconv.FormatInt(tenantID, 10),
		"metadata": map[string]string{"tenant_id": strconv.FormatInt(tenantID, 10)}, "cancel_at_period_end": false,
		"current_period_start": now - 60, "current_period_end": now + 30*86400,
		"items": map[string]any{"object": "list", "data": []map[string]any{
			{"id": "si_lic_" + plan, "object": "subscription_item", "price": map[string]any{"id": "price_" + plan + "_m", "object": "price",
				"recurring": map[string]any{"interval": "month", "usage_type": "licensed"}}},
			{"id": "si_use_" + plan, "object": "subscription_item", "price": map[string]any{"id": "price_" + plan + "_orders", "object": "price",
				"recurring": map[string]any{"interval": "month", "usage_type": "metered"}}},
		}},
	}
}

func invoiceObject(tenantID int64, status string, paid int64) map[string]any {
	id := strconv.FormatInt(tenantID, 10)
	return map[string]any{"id": "in_" + id, "object": "invoice", "status": status, "number": "PT-" + id + "-0001",
		"currency": "cny", "amount_due": 9900, "amount_paid": paid, "customer": "cus_t" + id, "subscription": "sub_" + id,
		"hosted_invoice_url": "https://invoice.stripe.test/in_" + id, "created": time.Now().Unix(),
		"period_start": time.Now().Unix() - 60, "period_end": time.Now().Unix() + 30*86400,
		"subscription_details": map[string]any{"metadata": map[string]string{"tenant_id": id}}}
}

// TestSignupCheckoutWebhooksAndBillingLifecycle is the "done means": a team signs up on
// a paid plan, pays through Checkout (stripe-mock), and signed webhooks open its subdomain; a
// failed payment starts the grace period, after which the tenant is paused, and a paid invoice
// opens it again. Replayed and forged webhooks change nothing.
func TestSignupCheckoutWebhooksAndBillingLifecycle(t *testing.T) {
	target, _ := url.Parse(stripemock.URL(t))
	front := &usageStripe{mock: httputil.NewSingleHostReverseProxy(target)}
	srv := httptest.NewServer(front)
	defer srv.Close()
	e := startBillingEnv(t, []string{"PAOTUI_STRIPE_SECRET_KEY=sk_test_paotui", "PAOTUI_STRIPE_API_URL=" + srv.URL,
		"PAOTUI_BILLING_WEBHOOK_SECRET=" + billingSecret, "PAOTUI_BILLING_GRACE_PERIOD=2s"})
	e.plan("starter", 0, true)

	if r := e.Do("localhost", "GET", "/api/v1/signup/subdomains/north", "", nil); r.Status != 200 || !strings.Contains(string(r.Body), `"available":true`) {
		t.Fatalf("north should be free: %d %s", r.Status, r.Body)
	}
	r := e.signup("north", "13900001111", "starter")
	if r.Status != http.StatusAccepted {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	var st signupStatus
	r.JSON(t, &st)
	if st.SignupID == "" || st.Slug != "north" || st.Ready || st.AdminURL == "" || !strings.HasSuffix(st.AdminURL, "north.localhost:8080/admin") {
		t.Fatalf("signup answer: %+v", st)
	}
	// Provisioning and the Checkout session run as jobs; the team is held until it pays.
	eventually(t, "provisioned and waiting for payment", func() (bool, string) {
		st = e.status(st.SignupID)
		return st.State == "awaiting_payment" && st.CheckoutURL != "" && st.Subscription == "incomplete" && !st.Ready, fmt.Sprintf("%+v", st)
	})
	if r := e.Do("localhost", "GET", "/api/v1/signup/subdomains/north", "", nil); !strings.Contains(string(r.Body), `"reason":"taken"`) {
		t.Fatalf("north after signup: %s", r.Body)
	}
	id := st.TenantID
	eventually(t, "provisioning finished", func() (bool, string) {
		var step string
		e.App.DB.Gorm.Raw(`SELECT step FROM public.tenant_provisioning WHERE tenant_id = ?`, id).Scan(&step)
		return step == "done", step
	})
	tn, err := e.App.Registry.ByID(context.Background(), id)
	if err != nil || tn.Status != "suspended" || tn.Hold != "billing" {
		t.Fatalf("tenant before payment: %+v %v", tn, err)
	}
	if st = e.status(st.SignupID); st.State != "awaiting_payment" || st.Ready {
		t.Fatalf("status of a provisioned tenant waiting for payment: %+v", st)
	}
	owner := e.Login("north", "13900001111")
	host := e.Host("north")
	reachable := func() (int, string) {
		r := e.Do(host, "GET", "/api/v1/users", owner.AccessToken, nil)
		if r.Status == 200 {
			return 200, ""
		}
		return r.Status, r.Problem(t).Code
	}
	if code, problem := reachable(); code != http.StatusForbidden || problem != "tenant_suspended" {
		t.Fatalf("before payment the tenant should be paused: %d %s", code, problem)
	}
	var billing struct {
		Status string `json:"status"`
		Banner *struct {
			Code string `json:"code"`
		} `json:"banner"`
		GraceUntil *time.Time `json:"graceUntil"`
	}
	getBilling := func() {
		t.Helper()
		r := e.Do(host, "GET", "/api/v1/admin/billing", owner.AccessToken, nil)
		if r.Status != 200 {
			t.Fatalf("get-billing: %d %s", r.Status, r.Body)
		}
		billing.Banner, billing.GraceUntil = nil, nil
		r.JSON(t, &billing)
	}
	getBilling()
	if billing.Status != "incomplete" || billing.Banner == nil || billing.Banner.Code != "checkout_pending" {
		t.Fatalf("billing before payment: %+v", billing)
	}

	// Forged: signed with another secret, or tampered with. Neither is recorded.
	forgedSub := subscriptionObject(id, "starter", "active")
	if code, body := e.send("evt_forged_1", "customer.subscription.created", forgedSub, "whsec_wrong"); code != 400 || !strings.Contains(string(body), "stripe_signature_invalid") {
		t.Fatalf("forged webhook: %d %s", code, body)
	}
	payload, _ := json.Marshal(map[string]any{"id": "evt_forged_2", "object": "event", "api_version": stripe.APIVersion,
		"created": time.Now().Unix(), "type": "customer.subscription.created", "data": map[string]any{"object": forgedSub}})
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: billingSecret, Timestamp: time.Now()})
	if code, _ := e.post(bytes.Replace(payload, []byte(`"active"`), []byte(`"trialing"`), 1), signed.Header); code != 400 {
		t.Fatalf("tampered webhook: %d", code)
	}
	var recorded int64
	e.App.DB.Gorm.Raw(`SELECT count(*) FROM public.billing_events`).Scan(&recorded)
	if recorded != 0 {
		t.Fatalf("forged webhooks were recorded: %d", recorded)
	}
	time.Sleep(300 * time.Millisecond)
	if code, _ := reachable(); code == 200 {
		t.Fatal("a forged webhook opened the tenant")
	}

	// Paid through Checkout: the session and the subscription arrive, signed.
	checkout := e.event("checkout.session.completed", map[string]any{"id": "cs_north", "object": "checkout.session", "mode": "subscription",
		"client_reference_id": strconv.FormatInt(id, 10), "customer": "cus_t" + strconv.FormatInt(id, 10), "subscription": "sub_" + strconv.FormatInt(id, 10),
		"status": "complete", "payment_status": "paid", "metadata": map[string]string{"tenant_id": strconv.FormatInt(id, 10)}})
	e.event("customer.subscription.created", subscriptionObject(id, "starter", "active"))
	eventually(t, "tenant active and reachable", func() (bool, string) {
		st = e.status(st.SignupID)
		code, problem := reachable()
		return st.Ready && st.State == "ready" && code == 200, fmt.Sprintf("%+v %d %s", st, code, problem)
	})
	getBilling()
	if billing.Status != "active" || billing.Banner != nil {
		t.Fatalf("billing after payment: %+v", billing)
	}

	// Replayed: acknowledged as a duplicate, nothing changes.
	var before int64
	e.App.DB.Gorm.Raw(`SELECT count(*) FROM public.outbox WHERE task_type = 'billing:stripe_event'`).Scan(&before)
	cs := map[string]any{"id": "cs_north", "object": "checkout.session", "mode": "subscription", "client_reference_id": strconv.FormatInt(id, 10),
		"customer": "cus_t" + strconv.FormatInt(id, 10), "subscription": "sub_" + strconv.FormatInt(id, 10)}
	if code, body := e.send(checkout, "checkout.session.completed", cs, billingSecret); code != 200 || !strings.Contains(string(body), `"duplicate":true`) {
		t.Fatalf("replayed webhook: %d %s", code, body)
	}
	var after int64
	e.App.DB.Gorm.Raw(`SELECT count(*) FROM public.outbox WHERE task_type = 'billing:stripe_event'`).Scan(&after)
	if after != before {
		t.Fatalf("a replayed webhook queued work: %d -> %d", before, after)
	}

	// A failed payment: past due with a banner, still serving during the grace period.
	e.event("invoice.payment_failed", invoiceObject(id, "open", 0))
	eventually(t, "past due", func() (bool, string) {
		getBilling()
		return billing.Status == "past_due" && billing.Banner != nil && billing.Banner.Code == "past_due" && billing.GraceUntil != nil,
			fmt.Sprintf("%+v", billing)
	})
	if code, problem := reachable(); code != 200 && time.Now().Before(*billing.GraceUntil) {
		t.Fatalf("a past-due tenant within its grace period must keep working: %d %s", code, problem)
	}
	// The grace period (2 s here) ends: paused, with the branded paused answer.
	eventually(t, "suspended after the grace period", func() (bool, string) {
		code, problem := reachable()
		return code == http.StatusForbidden && problem == "tenant_suspended", fmt.Sprintf("%d %s", code, problem)
	})
	getBilling() // allowed while paused, so the owner can pay
	if billing.Banner == nil || billing.Banner.Code != "paused_unpaid" {
		t.Fatalf("billing while paused: %+v", billing)
	}
	// Paying reactivates it.
	e.event("invoice.paid", invoiceObject(id, "paid", 9900))
	eventually(t, "active again after paying", func() (bool, string) {
		code, problem := reachable()
		return code == 200, fmt.Sprintf("%d %s", code, problem)
	})
	getBilling()
	if billing.Status != "active" || billing.Banner != nil {
		t.Fatalf("billing after paying: %+v", billing)
	}

	// The invoice is listed for the owner and the platform, as paid (the late "open" never wins).
	e.event("invoice.updated", invoiceObject(id, "open", 0))
	for _, c := range []struct{ host, path, token string }{
		{host, "/api/v1/admin/billing/invoices", owner.AccessToken},
		{e.PlatformHost(), "/api/v1/platform/tenants/" + strconv.FormatInt(id, 10) + "/invoices", e.platform},
	} {
		var page struct {
			Items []struct {
				ID, Status string
				AmountPaid int64 `json:"amountPaid"`
			} `json:"items"`
			Total int64 `json:"total"`
		}
		eventually(t, "invoice listed", func() (bool, string) {
			r := e.Do(c.host, "GET", c.path, c.token, nil)
			r.JSON(t, &page)
			return r.Status == 200 && page.Total == 1 && len(page.Items) == 1 && page.Items[0].Status == "paid" && page.Items[0].AmountPaid == 9900, string(r.Body)
		})
	}
	// The audit trail names billing as the actor of both status changes.
	var actions []string
	e.App.DB.Gorm.Raw(`SELECT action FROM public.platform_audit_log WHERE tenant_id = ? AND actor = 'billing' ORDER BY id`, id).Scan(&actions)
	if strings.Join(actions, ",") != "tenant.active,tenant.suspended,tenant.active" {
		t.Fatalf("billing audit: %v", actions)
	}

	// The platform sees the subscription on the tenant's page, and the tenant in MRR.
	r = e.Do(e.PlatformHost(), "GET", "/api/v1/platform/tenants/"+strconv.FormatInt(id, 10), e.platform, nil)
	var detail struct {
		Subscription *struct {
			Status string `json:"status"`
			PlanID string `json:"planId"`
		} `json:"subscription"`
	}
	r.JSON(t, &detail)
	if r.Status != 200 || detail.Subscription == nil || detail.Subscription.Status != "active" || detail.Subscription.PlanID != "starter" {
		t.Fatalf("get-tenant subscription: %d %s", r.Status, r.Body)
	}
	r = e.Do(e.PlatformHost(), "GET", "/api/v1/platform/dashboard", e.platform, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"amount":9900`) {
		t.Fatalf("dashboard MRR should count the paying tenant: %d %s", r.Status, r.Body)
	}

	// Metered usage: the subscription's metered item gets the period's order count, once.
	n, err := e.App.Billing.ReportUsage(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("first usage report: %d %v", n, err)
	}
	if n, err := e.App.Billing.ReportUsage(context.Background()); err != nil || n != 0 {
		t.Fatalf("an unchanged count was reported again: %d %v", n, err)
	}
	front.mu.Lock()
	records := front.records
	front.mu.Unlock()
	if len(records) != 1 || records[0].Get("item") != "si_use_starter" || records[0].Get("action") != "set" || records[0].Get("quantity") != "0" {
		t.Fatalf("usage records sent to Stripe: %v", records)
	}
	// A platform admin moving a Stripe-billed tenant changes the subscription at Stripe too
	// (or the next subscription event would move it back).
	e.plan("growth", 0, false)
	r = e.Do(e.PlatformHost(), "PUT", "/api/v1/platform/tenants/"+strconv.FormatInt(id, 10)+"/plan", e.platform,
		map[string]string{"planId": "growth", "reason": "agreed on the phone"})
	if r.Status != 200 || !strings.Contains(string(r.Body), `"planId":"growth"`) {
		t.Fatalf("set-tenant-plan of a billed tenant: %d %s", r.Status, r.Body)
	}
	front.mu.Lock()
	updates := front.subscriptionUpdates
	front.mu.Unlock()
	if len(updates) != 1 || updates[0].Get("items[0][price]") != "price_growth_m" || updates[0].Get("proration_behavior") != "create_prorations" {
		t.Fatalf("subscription updates sent to Stripe: %v", updates)
	}
	var sub struct {
		PlanID string `json:"planId"`
	}
	r = e.Do(host, "GET", "/api/v1/admin/billing", owner.AccessToken, nil)
	r.JSON(t, &sub)
	if sub.PlanID != "growth" {
		t.Fatalf("the subscription's plan after set-tenant-plan: %s", r.Body)
	}

	// The owner sees the plans to change to on the team's own host.
	r = e.Do(host, "GET", "/api/v1/admin/billing/plans", owner.AccessToken, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"id":"growth"`) || !strings.Contains(string(r.Body), `"id":"campus"`) {
		t.Fatalf("list-offered-plans: %d %s", r.Status, r.Body)
	}

	// The customer portal opens (stripe-mock answers with a session URL).
	r = e.Do(host, "POST", "/api/v1/admin/billing/portal", owner.AccessToken, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"url":"http`) {
		t.Fatalf("portal: %d %s", r.Status, r.Body)
	}
}
