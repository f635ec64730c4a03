package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/payments/stripemock"
)

// phones hands out distinct mainland numbers, so no case trips another's per-phone limits.
type phones struct{ n int }

func (p *phones) next() string {
	p.n++
	return fmt.Sprintf("1370000%04d", p.n)
}

// signupWith posts a signup with the code given (signup, by contrast, asks for a fresh one).
func (e *billingEnv) signupWith(slug, phone, code, plan string) *apptest.Response {
	e.t.Helper()
	return e.Do("localhost", "POST", "/api/v1/signup", "", signupBody(slug, phone, code, plan))
}

func signupBody(slug, phone, code, plan string) map[string]any {
	return map[string]any{"teamName": "Team " + slug, "subdomain": slug, "school": "北苑大学", "phone": phone, "code": code, "planId": plan}
}

// rawSignup is signupWith for goroutines: it reports a transport error instead of failing the test.
func (e *billingEnv) rawSignup(slug, phone, code, plan string) (int, []byte, error) {
	payload, _ := json.Marshal(signupBody(slug, phone, code, plan))
	req, err := http.NewRequest("POST", e.HTTP.URL+"/api/v1/signup", bytes.NewReader(payload))
	if err != nil {
		return 0, nil, err
	}
	req.Host = "localhost"
	req.Header.Set("Content-Type", "application/json")
	res, err := e.HTTP.Client().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, body, err
}

func (e *billingEnv) tenantCount(slug string) int64 {
	e.t.Helper()
	var n int64
	if err := e.App.DB.Gorm.Raw(`SELECT count(*) FROM public.tenants WHERE slug = ?`, slug).Scan(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *billingEnv) availability(slug string) (status int, available bool, reason string) {
	e.t.Helper()
	r := e.Do("localhost", "GET", "/api/v1/signup/subdomains/"+url.PathEscape(slug), "", nil)
	if r.Status != http.StatusOK {
		return r.Status, false, r.Problem(e.t).Code
	}
	var a struct {
		Available bool   `json:"available"`
		Reason    string `json:"reason"`
	}
	r.JSON(e.t, &a)
	return r.Status, a.Available, a.Reason
}

// refused checks that r is the problem code with status, and returns its Retry-After.
func refused(t *testing.T, what string, r *apptest.Response, status int, code string) string {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: want %d %s, got %d %s", what, status, code, r.Status, r.Body)
	}
	if got := r.Problem(t).Code; got != code {
		t.Fatalf("%s: want problem %s, got %s (%s)", what, code, got, r.Body)
	}
	return r.Header.Get("Retry-After")
}

// retryWithin checks a Retry-After header is a whole number of seconds in (0, max].
func retryWithin(t *testing.T, what, header string, max time.Duration) {
	t.Helper()
	s, err := strconv.Atoi(header)
	if err != nil || s <= 0 || time.Duration(s)*time.Second > max {
		t.Fatalf("%s: Retry-After %q, want 1..%d seconds", what, header, int(max.Seconds()))
	}
}

// newSignupEnv is an application for signups on the free plan: no Stripe, no worker, so the
// abuse limits are the only thing a test changes.
func newSignupEnv(t *testing.T, extra ...string) *billingEnv {
	t.Helper()
	return &billingEnv{Env: apptest.New(t, extra...), t: t}
}

// TestSignupRefusalsHaveTheirOwnCodes is the refusals: each way a signup can be refused
// answers its own problem code (clients translate by code), refused signups register nothing,
// two teams racing for one subdomain end with exactly one tenant, and the abuse limits answer
// 429 with a Retry-After scoped to the client or the phone they count.
func TestSignupRefusalsHaveTheirOwnCodes(t *testing.T) {
	t.Run("subdomain, code, plan and status", func(t *testing.T) {
		// Limits high: this part is about the refusals, not the abuse limits.
		e := newBillingEnv(t, "PAOTUI_SIGNUP_PER_IP_PER_HOUR=1000", "PAOTUI_AUTH_SMS_PER_IP_PER_HOUR=1000")
		var ph phones
		e.Tenant("taken", ph.next())
		long := strings.Repeat("a", 40)

		for _, tc := range []struct {
			name, slug, plan string
			status           int
			code, reason     string
		}{
			{"taken", "taken", "campus", http.StatusConflict, "subdomain_taken", "taken"},
			{"taken in capitals", "Taken", "campus", http.StatusConflict, "subdomain_taken", "taken"},
			{"reserved admin", "admin", "campus", http.StatusConflict, "subdomain_reserved", "reserved"},
			{"reserved www", "www", "campus", http.StatusConflict, "subdomain_reserved", "reserved"},
			{"underscore", "A_b", "campus", http.StatusUnprocessableEntity, "subdomain_invalid", "invalid"},
			{"too short", "ab", "campus", http.StatusUnprocessableEntity, "subdomain_invalid", "invalid"},
			{"hyphens at the ends", "-x-", "campus", http.StatusUnprocessableEntity, "subdomain_invalid", "invalid"},
			{"40 characters", long, "campus", http.StatusUnprocessableEntity, "subdomain_invalid", "invalid"},
			// Past the operation's own maxLength huma refuses it before the service sees it.
			{"64 characters", strings.Repeat("b", 64), "campus", http.StatusUnprocessableEntity, "validation_failed", ""},
			{"unknown plan", "fresh-plan", "platinum", http.StatusNotFound, "plan_not_found", ""},
			// pro has a price but no Stripe price id yet.
			{"plan without a Stripe price", "fresh-pro", "pro", http.StatusConflict, "plan_not_purchasable", ""},
		} {
			phone := ph.next()
			refused(t, tc.name, e.signupWith(tc.slug, phone, e.code(phone), tc.plan), tc.status, tc.code)
			if tc.reason == "" {
				continue
			}
			if status, available, reason := e.availability(tc.slug); status != 200 || available || reason != tc.reason {
				t.Fatalf("check-subdomain %s: %d available=%v reason=%q, want reason %s", tc.name, status, available, reason, tc.reason)
			}
		}
		if status, _, code := e.availability(strings.Repeat("b", 64)); status != http.StatusUnprocessableEntity || code != "validation_failed" {
			t.Fatalf("check-subdomain of 64 characters: %d %s", status, code)
		}

		phone := ph.next()
		good := e.code(phone)
		wrong := fmt.Sprintf("%06d", (mustAtoi(t, good)+1)%1000000)
		refused(t, "wrong SMS code", e.signupWith("fresh-code", phone, wrong, "campus"), http.StatusUnauthorized, "sms_code_invalid")

		refused(t, "unknown signup id", e.Do("localhost", "GET", "/api/v1/signup/"+uuid.NewString(), "", nil), http.StatusNotFound, "signup_not_found")
		refused(t, "malformed signup id", e.Do("localhost", "GET", "/api/v1/signup/nope", "", nil), http.StatusNotFound, "signup_not_found")

		// Nothing refused was registered: the one tenant is the one made above, and the free
		// subdomains the refused signups asked for are still free.
		var tenants, signups int64
		e.App.DB.Gorm.Raw(`SELECT count(*) FROM public.tenants`).Scan(&tenants)
		e.App.DB.Gorm.Raw(`SELECT count(*) FROM public.signups`).Scan(&signups)
		if tenants != 1 || signups != 0 {
			t.Fatalf("refused signups left %d tenants and %d signups", tenants, signups)
		}
		for _, slug := range []string{"fresh-plan", "fresh-pro", "fresh-code"} {
			if _, available, reason := e.availability(slug); !available {
				t.Fatalf("%s should still be free, got reason %q", slug, reason)
			}
		}
		// The right code was not burnt by the wrong try: the team can still sign up with it.
		if r := e.signupWith("fresh-code", phone, good, "campus"); r.Status != http.StatusAccepted {
			t.Fatalf("signup with the right code after a wrong one: %d %s", r.Status, r.Body)
		}
	})

	t.Run("two teams racing for one subdomain", func(t *testing.T) {
		e := newBillingEnv(t, "PAOTUI_SIGNUP_PER_IP_PER_HOUR=1000", "PAOTUI_AUTH_SMS_PER_IP_PER_HOUR=1000")
		var ph phones
		// Started together, both usually pass the early availability check, so it is the
		// registry's unique slug that decides (the loser's SMS code is then already used).
		slugs := []string{"race-a", "race-b", "race-c", "race-d", "race-e"}
		for _, slug := range slugs {
			who := [2]string{ph.next(), ph.next()}
			codes := [2]string{e.code(who[0]), e.code(who[1])}
			type answer struct {
				status int
				body   []byte
				err    error
			}
			var got [2]answer
			var ready, done sync.WaitGroup
			start := make(chan struct{})
			for i := range 2 {
				ready.Add(1)
				done.Go(func() {
					ready.Done()
					<-start
					got[i].status, got[i].body, got[i].err = e.rawSignup(slug, who[i], codes[i], "campus")
				})
			}
			ready.Wait()
			close(start)
			done.Wait()

			won, lost := 0, 0
			var winner signupStatus
			for _, a := range got {
				if a.err != nil {
					t.Fatalf("%s: %v", slug, a.err)
				}
				switch {
				case a.status == http.StatusAccepted:
					won++
					if err := json.Unmarshal(a.body, &winner); err != nil {
						t.Fatal(err)
					}
				case a.status == http.StatusConflict && strings.Contains(string(a.body), `"code":"subdomain_taken"`):
					lost++
				default:
					t.Fatalf("%s: unexpected answer %d %s", slug, a.status, a.body)
				}
			}
			if won != 1 || lost != 1 {
				t.Fatalf("%s: %d won and %d lost, want one of each", slug, won, lost)
			}
			if n := e.tenantCount(slug); n != 1 {
				t.Fatalf("%s: %d tenant rows", slug, n)
			}
			var owned int64
			e.App.DB.Gorm.Raw(`SELECT count(*) FROM public.signups s JOIN public.tenants t ON t.id = s.tenant_id WHERE t.slug = ?`, slug).Scan(&owned)
			if owned != 1 || winner.Slug != slug || winner.TenantID == 0 {
				t.Fatalf("%s: %d signups, winner %+v", slug, owned, winner)
			}
		}
		// The losers left nothing behind: one signup per subdomain in all.
		var signups int64
		e.App.DB.Gorm.Raw(`SELECT count(*) FROM public.signups`).Scan(&signups)
		if signups != int64(len(slugs)) {
			t.Fatalf("%d signups for %d subdomains", signups, len(slugs))
		}
	})

	t.Run("per client address", func(t *testing.T) {
		// Proxies trusted so a test can speak for another client through X-Forwarded-For.
		e := newSignupEnv(t, "PAOTUI_SIGNUP_PER_IP_PER_HOUR=2", "PAOTUI_HTTP_TRUSTED_PROXIES=127.0.0.1/32")
		var ph phones
		for i := range 2 {
			if r := e.signup(fmt.Sprintf("ip-ok-%d", i), ph.next(), "campus"); r.Status != http.StatusAccepted {
				t.Fatalf("signup %d within the limit: %d %s", i+1, r.Status, r.Body)
			}
		}
		phone := ph.next()
		code := e.code(phone)
		retry := refused(t, "third signup from one client", e.signupWith("ip-over", phone, code, "campus"), http.StatusTooManyRequests, "signup_rate_limited")
		retryWithin(t, "per-IP limit", retry, time.Hour)
		if n := e.tenantCount("ip-over"); n != 0 {
			t.Fatal("a signup over the limit registered a tenant")
		}
		// Another client is not held back, and the refused try did not use the SMS code up.
		r := e.DoWithHeader("localhost", "POST", "/api/v1/signup", map[string]string{"X-Forwarded-For": "203.0.113.7"},
			signupBody("ip-over", phone, code, "campus"))
		if r.Status != http.StatusAccepted {
			t.Fatalf("the same signup from another client: %d %s", r.Status, r.Body)
		}
	})

	t.Run("per phone", func(t *testing.T) {
		// A short resend gap lets one phone ask for a second code at once.
		e := newSignupEnv(t, "PAOTUI_SIGNUP_PER_PHONE_PER_DAY=1", "PAOTUI_AUTH_SMS_RESEND_INTERVAL=1ms")
		var ph phones
		phone := ph.next()
		if r := e.signup("phone-ok", phone, "campus"); r.Status != http.StatusAccepted {
			t.Fatalf("first signup: %d %s", r.Status, r.Body)
		}
		time.Sleep(5 * time.Millisecond)
		retry := refused(t, "second signup by one phone", e.signup("phone-over", phone, "campus"), http.StatusTooManyRequests, "signup_rate_limited")
		retryWithin(t, "per-phone limit", retry, 24*time.Hour)
		if n := e.tenantCount("phone-over"); n != 0 {
			t.Fatal("a signup over the phone's limit registered a tenant")
		}
		// The same client with another phone is not held back.
		if r := e.signup("phone-over", ph.next(), "campus"); r.Status != http.StatusAccepted {
			t.Fatalf("another phone from the same client: %d %s", r.Status, r.Body)
		}
	})
}

// trialStripe sits in front of stripe-mock, whose subscriptions are one fixture (status active,
// a trial that ended in 2009), and answers for subscriptions what Stripe would: trialing until
// the end set at creation (trial_period_days) or by an update (trial_end). It also keeps the
// forms of subscription updates, so a test can see what billing asked Stripe for.
type trialStripe struct {
	mock    string
	mu      sync.Mutex
	ends    map[string]int64 // subscription id -> trial end, unix seconds
	updates []url.Values
}

func (s *trialStripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	if res.StatusCode == 200 && strings.HasPrefix(r.URL.Path, "/v1/subscriptions") {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var obj map[string]any
		if dec.Decode(&obj) == nil {
			form, _ := url.ParseQuery(string(body))
			id, _ := obj["id"].(string)
			s.mu.Lock()
			switch {
			case r.Method == http.MethodPost && r.URL.Path == "/v1/subscriptions":
				if days, err := strconv.Atoi(form.Get("trial_period_days")); err == nil && days > 0 {
					s.ends[id] = time.Now().Add(time.Duration(days) * 24 * time.Hour).Unix()
				}
			case r.Method == http.MethodPost:
				s.updates = append(s.updates, form)
				if end, err := strconv.ParseInt(form.Get("trial_end"), 10, 64); err == nil {
					s.ends[id] = end
				}
			}
			if end, ok := s.ends[id]; ok {
				obj["status"], obj["trial_end"] = "trialing", end
			}
			s.mu.Unlock()
			raw, _ = json.Marshal(obj)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(raw)
}

func (s *trialStripe) lastUpdate() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.updates) == 0 {
		return nil
	}
	return s.updates[len(s.updates)-1]
}

// planWith creates a plan with Stripe prices and the limits given (nil: unlimited).
func (e *billingEnv) planWith(id string, trialDays int, maxStaffSeats any) {
	e.t.Helper()
	r := e.Do(e.PlatformHost(), "POST", "/api/v1/platform/plans", e.platform, map[string]any{
		"id": id, "name": map[string]string{"zh": id, "en": id}, "currency": "cny",
		"monthlyAmount": 9900, "yearlyAmount": 99000, "trialDays": trialDays,
		"stripePrices": map[string]string{"monthly": "price_" + id + "_m", "yearly": "price_" + id + "_y"},
		"limits":       map[string]any{"maxActiveCouriers": 30, "maxOrdersPerMonth": 1000, "maxStaffSeats": maxStaffSeats, "customDomain": false},
		"sort":         5,
	})
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		e.t.Fatalf("create plan %s: %d %s", id, r.Status, r.Body)
	}
}

type billingView struct {
	PlanID   string     `json:"planId"`
	Interval string     `json:"interval"`
	Status   string     `json:"status"`
	TrialEnd *time.Time `json:"trialEnd"`
	Banner   *struct {
		Code  string     `json:"code"`
		Until *time.Time `json:"until"`
	} `json:"banner"`
}

// TestTrialSignupPlanChangeAndExtendTrial: a plan with a trial opens the team's service without
// payment or webhook; the platform's finance admins (not support) can extend the trial, at
// Stripe and here, audited; the owner (not an admin) changes plan, and a plan the team already
// outgrew, or the same plan, is refused with its own code.
func TestTrialSignupPlanChangeAndExtendTrial(t *testing.T) {
	front := &trialStripe{mock: stripemock.URL(t), ends: map[string]int64{}}
	srv := httptest.NewServer(front)
	defer srv.Close()
	e := newBillingEnv(t, "PAOTUI_STRIPE_API_URL="+srv.URL)
	e.planWith("trial", 7, nil)
	e.planWith("bigger", 7, nil)
	e.planWith("solo", 7, 1)

	const ownerPhone, adminPhone = "13900002222", "13900003333"
	started := time.Now()
	r := e.signup("trialteam", ownerPhone, "trial")
	if r.Status != http.StatusAccepted {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	var st signupStatus
	r.JSON(t, &st)
	eventually(t, "trial signup ready", func() (bool, string) {
		st = e.status(st.SignupID)
		return st.Ready && st.State == "ready" && st.Subscription == "trialing" && st.CheckoutURL == "", fmt.Sprintf("%+v", st)
	})
	var events int64
	e.App.DB.Gorm.Raw(`SELECT count(*) FROM public.billing_events`).Scan(&events)
	if events != 0 {
		t.Fatalf("the trial needed %d webhooks", events)
	}
	id := st.TenantID
	host := e.Host("trialteam")
	owner := e.Login("trialteam", ownerPhone)
	getBilling := func(token string) billingView {
		t.Helper()
		r := e.Do(host, "GET", "/api/v1/admin/billing", token, nil)
		if r.Status != 200 {
			t.Fatalf("get-billing: %d %s", r.Status, r.Body)
		}
		var v billingView
		r.JSON(t, &v)
		return v
	}
	// The Stripe subscription is adopted by the setup job, which may finish after provisioning.
	eventually(t, "trial subscription at Stripe", func() (bool, string) {
		var sub *string
		e.App.DB.Gorm.Raw(`SELECT stripe_subscription_id FROM public.subscriptions WHERE tenant_id = ?`, id).Scan(&sub)
		return sub != nil, "no subscription id"
	})
	b := getBilling(owner.AccessToken)
	trialEnd := started.Add(7 * 24 * time.Hour)
	if b.Status != "trialing" || b.PlanID != "trial" || b.Banner == nil || b.Banner.Code != "trial" || b.TrialEnd == nil ||
		b.TrialEnd.Before(trialEnd.Add(-time.Minute)) || b.TrialEnd.After(trialEnd.Add(time.Minute)) {
		t.Fatalf("billing in the trial: %+v (banner %+v)", b, b.Banner)
	}

	// Extending the trial: finance may, support may not.
	path := "/api/v1/platform/tenants/" + strconv.FormatInt(id, 10) + "/trial"
	extend := map[string]any{"days": 5, "reason": "exam week"}
	support := e.PlatformLogin("support@paotui.test", "support-password", "support")
	refused(t, "support extending a trial", e.Do(e.PlatformHost(), "POST", path, support, extend), http.StatusForbidden, "permission_denied")
	finance := e.PlatformLogin("finance@paotui.test", "finance-password", "finance")
	r = e.Do(e.PlatformHost(), "POST", path, finance, extend)
	if r.Status != 200 {
		t.Fatalf("extend-trial: %d %s", r.Status, r.Body)
	}
	want := b.TrialEnd.Add(5 * 24 * time.Hour)
	if b = getBilling(owner.AccessToken); b.TrialEnd == nil || !b.TrialEnd.Equal(want) || b.Status != "trialing" {
		t.Fatalf("trial end after extending by 5 days: %v, want %v", b.TrialEnd, want)
	}
	if got := front.lastUpdate().Get("trial_end"); got != strconv.FormatInt(want.Unix(), 10) {
		t.Fatalf("Stripe was asked for trial_end %q, want %d", got, want.Unix())
	}
	var audited []struct {
		Actor string
		Meta  string
	}
	e.App.DB.Gorm.Raw(`SELECT actor, meta::text AS meta FROM public.platform_audit_log WHERE tenant_id = ? AND action = 'tenant.trial.extend'`, id).Scan(&audited)
	if len(audited) != 1 || !strings.HasPrefix(audited[0].Actor, "platform:") || !strings.Contains(audited[0].Meta, "exam week") ||
		!strings.Contains(audited[0].Meta, `"days": 5`) {
		t.Fatalf("extend-trial audit: %+v", audited)
	}

	// A team on the free plan has a subscription record but no trial to extend.
	r = e.signup("freeteam", "13900004444", "campus")
	if r.Status != http.StatusAccepted {
		t.Fatalf("free signup: %d %s", r.Status, r.Body)
	}
	var free signupStatus
	r.JSON(t, &free)
	refused(t, "extending a trial that is not running",
		e.Do(e.PlatformHost(), "POST", "/api/v1/platform/tenants/"+strconv.FormatInt(free.TenantID, 10)+"/trial", finance, extend),
		http.StatusConflict, "subscription_not_trialing")

	// A second staff seat, held by an admin: billing is the owner's alone.
	r = e.Do(host, "POST", "/api/v1/staff/roles", owner.AccessToken, map[string]string{"phone": adminPhone, "role": "admin"})
	if r.Status != 200 {
		t.Fatalf("grant admin: %d %s", r.Status, r.Body)
	}
	admin := e.Login("trialteam", adminPhone)
	refused(t, "admin reading billing", e.Do(host, "GET", "/api/v1/admin/billing", admin.AccessToken, nil), http.StatusForbidden, "permission_denied")
	refused(t, "admin changing plan", e.Do(host, "PUT", "/api/v1/admin/billing/plan", admin.AccessToken,
		map[string]string{"planId": "bigger", "interval": "month"}), http.StatusForbidden, "permission_denied")

	planID := func() string {
		var p string
		e.App.DB.Gorm.Raw(`SELECT plan_id FROM public.tenants WHERE id = ?`, id).Scan(&p)
		return p
	}
	change := func(plan string) *apptest.Response {
		return e.Do(host, "PUT", "/api/v1/admin/billing/plan", owner.AccessToken, map[string]string{"planId": plan, "interval": "month"})
	}
	r = change("solo")
	refused(t, "downgrade below the staff in place", r, http.StatusConflict, "plan_downgrade_blocked")
	if p := r.Problem(t); len(p.Errors) != 1 || p.Errors[0].Value != "staff_seats" {
		t.Fatalf("downgrade refusal should name staff_seats: %s", r.Body)
	}
	refused(t, "the same plan", change("trial"), http.StatusConflict, "plan_unchanged")
	if p := planID(); p != "trial" {
		t.Fatalf("refused changes moved the plan to %s", p)
	}

	r = change("bigger")
	if r.Status != 200 {
		t.Fatalf("change-plan: %d %s", r.Status, r.Body)
	}
	if p := planID(); p != "bigger" {
		t.Fatalf("tenant plan after change: %s", p)
	}
	if got := front.lastUpdate().Get("items[0][price]"); got != "price_bigger_m" {
		t.Fatalf("Stripe was asked for price %q, want price_bigger_m", got)
	}
	b = getBilling(owner.AccessToken)
	if b.PlanID != "bigger" || b.Status != "trialing" || b.TrialEnd == nil || !b.TrialEnd.Equal(want) {
		t.Fatalf("billing after the change: %+v", b)
	}
	r = e.Do(host, "GET", "/api/v1/admin/billing/usage", owner.AccessToken, nil)
	var usage struct {
		Plan *struct {
			ID string `json:"id"`
		} `json:"plan"`
		Items []struct {
			Limit string `json:"limit"`
			Used  int64  `json:"used"`
		} `json:"items"`
	}
	r.JSON(t, &usage)
	if r.Status != 200 || usage.Plan == nil || usage.Plan.ID != "bigger" {
		t.Fatalf("get-plan-usage after the change: %d %s", r.Status, r.Body)
	}
	for _, it := range usage.Items {
		if it.Limit == "staff_seats" && it.Used != 2 {
			t.Fatalf("staff seats used: %d, want owner and admin", it.Used)
		}
	}
}
