package app_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/payments/stripemock"
	"github.com/paotui/paotui/internal/platform/provision"
)

// BenchmarkSignup measures self-serve signups end to end: SMS code, signup, the provisioning
// job (schema, blueprint, owner) and, for the trial plan, the Stripe customer and subscription
// through stripe-mock, until the team's subdomain answers. It reports signups per minute with
// one or several teams signing up at once, and the time from signup to a reachable tenant.
// The baseline, in the same run, is provisioning one tenant with no HTTP, jobs or Stripe.
func BenchmarkSignup(b *testing.B) {
	b.Run("baseline_provision", func(b *testing.B) {
		e := apptest.New(b)
		ctx := context.Background()
		b.ResetTimer()
		for i := range b.N {
			t, err := e.App.Provision.Register(ctx, provision.Request{Slug: fmt.Sprintf("base%d", i), Name: "Base", OwnerPhone: phoneN(i)})
			if err != nil {
				b.Fatal(err)
			}
			if err := e.App.Provision.Provision(ctx, t.ID); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/tenant")
	})
	for _, c := range []struct {
		name, plan  string
		concurrency int
	}{{"free_plan_one_at_a_time", "campus", 1}, {"free_plan_4_at_once", "campus", 4}, {"trial_plan_stripe_4_at_once", "trial", 4}} {
		b.Run(c.name, func(b *testing.B) { benchSignups(b, c.plan, c.concurrency) })
	}
}

func phoneN(i int) string { return fmt.Sprintf("139%08d", i) }

func benchSignups(b *testing.B, plan string, concurrency int) {
	limits := []string{"PAOTUI_SIGNUP_PER_IP_PER_HOUR=1000000", "PAOTUI_SIGNUP_PER_PHONE_PER_DAY=1000000",
		"PAOTUI_AUTH_SMS_PER_IP_PER_HOUR=1000000"}
	if plan != "campus" {
		limits = append(limits, "PAOTUI_STRIPE_SECRET_KEY=sk_test_paotui", "PAOTUI_STRIPE_API_URL="+stripemock.URL(b))
	}
	e := apptest.New(b, limits...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.App.RunWorker(ctx) }()
	defer func() { cancel(); <-done }()
	if plan != "campus" {
		owner := e.PlatformLogin("owner@paotui.test", "owner-password", "owner")
		r := e.Do(e.PlatformHost(), "POST", "/api/v1/platform/plans", owner, map[string]any{
			"id": plan, "name": map[string]string{"zh": plan, "en": plan}, "currency": "cny", "monthlyAmount": 9900, "yearlyAmount": 99000,
			"trialDays": 14, "stripePrices": map[string]string{"monthly": "price_bench_m"},
			"limits": map[string]any{"maxActiveCouriers": 30, "maxOrdersPerMonth": 1000, "maxStaffSeats": nil, "customDomain": false}})
		if r.Status != http.StatusCreated {
			b.Fatalf("plan: %d %s", r.Status, r.Body)
		}
	}
	var (
		next  atomic.Int64
		mu    sync.Mutex
		times []time.Duration
	)
	one := func(i int) error {
		phone := phoneN(i)
		if r := e.Do("localhost", "POST", "/api/v1/signup/sms-code", "", map[string]string{"phone": phone}); r.Status != 200 {
			return fmt.Errorf("code: %d %s", r.Status, r.Body)
		}
		slug := fmt.Sprintf("team%d", i)
		start := time.Now()
		r := e.Do("localhost", "POST", "/api/v1/signup", "", map[string]any{"teamName": "Team", "subdomain": slug, "school": "北苑大学",
			"phone": phone, "code": e.App.SMS.LastCode(phone), "planId": plan})
		if r.Status != http.StatusAccepted {
			return fmt.Errorf("signup: %d %s", r.Status, r.Body)
		}
		for {
			if r := e.Do(e.Host(slug), "GET", "/api/v1/task-types", "", nil); r.Status == 200 {
				break
			}
			if time.Since(start) > time.Minute {
				return fmt.Errorf("%s not reachable after a minute", slug)
			}
			time.Sleep(10 * time.Millisecond)
		}
		mu.Lock()
		times = append(times, time.Since(start))
		mu.Unlock()
		return nil
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	errs := make(chan error, concurrency)
	for range concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > b.N {
					return
				}
				if err := one(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	slices.Sort(times)
	b.ReportMetric(float64(b.N)/b.Elapsed().Minutes(), "signups/min")
	b.ReportMetric(float64(times[len(times)/2].Milliseconds()), "p50-ms-to-reachable")
	b.ReportMetric(float64(times[(len(times)*95)/100].Milliseconds()), "p95-ms-to-reachable")
}
