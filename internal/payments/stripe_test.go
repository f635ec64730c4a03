package payments_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/payments"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

const whsec = "whsec_test_secret"

// The real client against stripe-mock: the request shapes Stripe accepts for each payment
// method type, refunds, and reads.
func TestStripeClientAgainstStripeMock(t *testing.T) {
	t.Parallel()
	c := payments.NewStripeClient("sk_test_123", stripeMockURL(t))
	ctx := context.Background()
	for _, m := range payments.Methods {
		t.Run(m, func(t *testing.T) {
			in, err := c.CreateIntent(ctx, payments.IntentParams{
				Amount: 1500, Currency: payments.Currency, Method: m,
				Metadata:       map[string]string{"tenant_id": "1", "payment_id": "p1"},
				IdempotencyKey: "paotui:payment:test-" + m + fmt.Sprint(time.Now().UnixNano()),
			})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(in.ID, "pi_") || in.ClientSecret == "" {
				t.Errorf("intent = %+v", in)
			}
			got, err := c.GetIntent(ctx, in.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID == "" || got.Status == "" {
				t.Errorf("get intent = %+v", got)
			}
			r, err := c.Refund(ctx, payments.RefundParams{IntentID: in.ID, Amount: 500,
				Metadata: map[string]string{"tenant_id": "1", "refund_id": "r1"}, IdempotencyKey: "paotui:refund:test-" + m})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(r.ID, "re_") || r.Status == "" {
				t.Errorf("refund = %+v", r)
			}
			if _, err := c.GetRefund(ctx, r.ID); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// StartStripe with the real client against stripe-mock, for every method type a tenant allows.
func TestStartStripeAgainstStripeMock(t *testing.T) {
	t.Parallel()
	url := stripeMockURL(t)
	e := setup(t)
	svc := payments.New(e.db, payments.NewStripeClient("sk_test_123", url), jobs.NewOutbox(), testLog())
	e.allowMethods(t, payments.Methods...)
	u := e.user(t)
	for _, m := range payments.Methods {
		o := e.order(t, u, 1500)
		e.must(t, func(tx *gorm.DB) error {
			p, secret, err := svc.StartStripe(context.Background(), tx, e.tenant.ID, payments.PurposeOrder, o, u, 1500, m, "key-"+m)
			if err != nil {
				return err
			}
			if p.Status != payments.StatusPending || p.Method != m || !strings.HasPrefix(p.ProviderRef, "pi_") || secret == "" {
				t.Errorf("%s: payment = %+v, secret %q", m, p, secret)
			}
			return nil
		})
	}
}

func (e *env) allowMethods(t *testing.T, methods ...string) {
	t.Helper()
	doc, _ := json.Marshal(map[string]any{"stripe_methods": methods})
	e.must(t, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO settings (key, value) VALUES ('payments', ?::jsonb)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, string(doc)).Error
	})
}

func (e *env) startStripe(t *testing.T, purpose payments.Purpose, orderID, userID string, amount ledger.Money, key string) (*payments.Payment, string) {
	t.Helper()
	var (
		p      *payments.Payment
		secret string
	)
	e.must(t, func(tx *gorm.DB) error {
		var err error
		p, secret, err = e.svc.StartStripe(context.Background(), tx, e.tenant.ID, purpose, orderID, userID, amount, payments.MethodCard, key)
		return err
	})
	return p, secret
}

func TestStartStripe(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.user(t)
	o := e.order(t, u, 1500)

	p, secret := e.startStripe(t, payments.PurposeOrder, o, u, 1500, "key-1")
	if p.Status != payments.StatusPending || p.Provider != payments.ProviderStripe || p.ProviderRef == "" || secret == "" {
		t.Fatalf("payment = %+v, secret %q", p, secret)
	}
	in, _ := e.fake.GetIntent(context.Background(), p.ProviderRef)
	if in.Amount != 1500 || in.Currency != "cny" || in.Metadata["tenant_id"] != fmt.Sprint(e.tenant.ID) ||
		in.Metadata["payment_id"] != p.ID || in.Metadata["order_id"] != o {
		t.Errorf("intent = %+v", in)
	}
	if n := e.count(t, `SELECT count(*) FROM ledger_journals`); n != 0 {
		t.Errorf("%d journals before the money arrived", n)
	}

	t.Run("replay returns the same payment and client secret", func(t *testing.T) {
		before := e.snapshot(t)
		p2, secret2 := e.startStripe(t, payments.PurposeOrder, o, u, 1500, "key-1")
		if p2.ID != p.ID || secret2 != secret || e.fake.creates != 1 {
			t.Errorf("replay: %s %q (%d intents), want %s %q", p2.ID, secret2, e.fake.creates, p.ID, secret)
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("replay wrote something:\n before %s\n after  %s", before, after)
		}
	})

	disabled := payments.New(e.db, nil, jobs.NewOutbox(), testLog())
	refusals := []struct {
		name   string
		svc    *payments.Service
		method string
		amount ledger.Money
		key    string
		fail   error
		want   error
	}{
		{"stripe disabled", disabled, payments.MethodCard, 1500, "", nil, payments.ErrStripeDisabled},
		{"method not allowed by default", e.svc, payments.MethodAlipay, 1500, "", nil, payments.ErrMethodNotAllowed},
		{"unknown method", e.svc, "bitcoin", 1500, "", nil, payments.ErrMethodNotAllowed},
		{"same key, other amount", e.svc, payments.MethodCard, 1400, "key-1", nil, payments.ErrIdempotencyMismatch},
		{"stripe fails", e.svc, payments.MethodCard, 1500, "key-2", errors.New("stripe is down"), payments.ErrProvider},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			o := e.order(t, u, 1500)
			if tc.key == "key-1" {
				o = p.OrderID
			}
			e.fake.fail = tc.fail
			defer func() { e.fake.fail = nil }()
			before := e.snapshot(t)
			e.must(t, func(tx *gorm.DB) error {
				_, _, err := tc.svc.StartStripe(context.Background(), tx, e.tenant.ID, payments.PurposeOrder, o, u, tc.amount, tc.method, tc.key)
				if !errors.Is(err, tc.want) {
					t.Errorf("err = %v, want %v", err, tc.want)
				}
				return nil
			})
			if after := e.snapshot(t); after != before {
				t.Errorf("refusal wrote something:\n before %s\n after  %s", before, after)
			}
		})
	}

	t.Run("a tenant allows alipay", func(t *testing.T) {
		e.allowMethods(t, payments.MethodCard, payments.MethodAlipay)
		o := e.order(t, u, 800)
		e.must(t, func(tx *gorm.DB) error {
			p, _, err := e.svc.StartStripe(context.Background(), tx, e.tenant.ID, payments.PurposeOrder, o, u, 800, payments.MethodAlipay, "")
			if err == nil && p.Method != payments.MethodAlipay {
				t.Errorf("method = %q", p.Method)
			}
			return err
		})
	})
}

// event builds a signed Stripe webhook delivery about an object.
func event(t *testing.T, id string, typ stripe.EventType, object map[string]any, secret string) (payload []byte, header string) {
	t.Helper()
	body := map[string]any{
		"id": id, "object": "event", "api_version": stripe.APIVersion, "type": string(typ),
		"created": time.Now().Unix(), "livemode": false, "pending_webhooks": 1,
		"data": map[string]any{"object": object},
	}
	payload, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret})
	return payload, signed.Header
}

func intentObject(e *env, p *payments.Payment, status string) map[string]any {
	return map[string]any{
		"id": p.ProviderRef, "object": "payment_intent", "status": status, "amount": int64(p.Amount), "currency": "cny",
		"metadata": map[string]any{"tenant_id": fmt.Sprint(e.tenant.ID), "payment_id": p.ID},
	}
}

type outboxRow struct {
	ID       int64
	TenantID *int64
	TaskType string
	Payload  string
}

func (e *env) outbox(t *testing.T, taskType string) []outboxRow {
	t.Helper()
	var rows []outboxRow
	if err := e.db.Gorm.Raw(`SELECT id, tenant_id, task_type, payload::text AS payload FROM public.outbox
		WHERE task_type = ? ORDER BY id`, taskType).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// handle runs HandleStripeEvent on an outbox row the way the relay and the worker would.
func (e *env) handle(t *testing.T, row outboxRow) error {
	t.Helper()
	task, err := jobs.NewTask(row.TaskType, *row.TenantID, json.RawMessage(row.Payload))
	if err != nil {
		t.Fatal(err)
	}
	return e.svc.HandleStripeEvent(tenancy.WithTenant(context.Background(), e.tenant), task)
}

func TestStripeWebhookPaysOrder(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.user(t)
	o := e.order(t, u, 1500)
	p, _ := e.startStripe(t, payments.PurposeOrder, o, u, 1500, "key-1")
	e.fake.setIntent(p.ProviderRef, "succeeded") // the student confirmed in the app
	ctx := context.Background()

	payload, header := event(t, "evt_1", stripe.EventTypePaymentIntentSucceeded, intentObject(e, p, "succeeded"), whsec)

	t.Run("forged or tampered deliveries are refused and write nothing", func(t *testing.T) {
		_, forged := event(t, "evt_1", stripe.EventTypePaymentIntentSucceeded, intentObject(e, p, "succeeded"), "whsec_wrong")
		tampered := []byte(strings.Replace(string(payload), `"amount":1500`, `"amount":1`, 1))
		cases := []struct {
			name           string
			payload        []byte
			header, secret string
		}{
			{"wrong secret", payload, forged, whsec},
			{"tampered body", tampered, header, whsec},
			{"no header", payload, "", whsec},
			{"garbage header", payload, "t=abc,v1=zz", whsec},
			{"no secret configured", payload, header, ""},
		}
		before := e.snapshot(t)
		for _, tc := range cases {
			if _, err := e.svc.ReceiveWebhook(ctx, tc.payload, tc.header, tc.secret); !errors.Is(err, payments.ErrBadSignature) {
				t.Errorf("%s: err = %v, want ErrBadSignature", tc.name, err)
			}
		}
		old := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: whsec, Timestamp: time.Now().Add(-time.Hour)})
		if _, err := e.svc.ReceiveWebhook(ctx, payload, old.Header, whsec); !errors.Is(err, payments.ErrBadSignature) {
			t.Errorf("replayed old signature: err = %v, want ErrBadSignature", err)
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("refused deliveries wrote something:\n before %s\n after  %s", before, after)
		}
	})

	dup, err := e.svc.ReceiveWebhook(ctx, payload, header, whsec)
	if err != nil || dup {
		t.Fatalf("receive: dup %v, err %v", dup, err)
	}
	rows := e.outbox(t, payments.TaskStripeEvent)
	if len(rows) != 1 || rows[0].TenantID == nil || *rows[0].TenantID != e.tenant.ID ||
		!strings.Contains(rows[0].Payload, p.ProviderRef) || !strings.Contains(rows[0].Payload, "evt_1") {
		t.Fatalf("outbox = %+v", rows)
	}
	if n := e.countPublic(t, `SELECT count(*) FROM public.stripe_events WHERE event_id = 'evt_1' AND tenant_id = ? AND object_id = ?`,
		e.tenant.ID, p.ProviderRef); n != 1 {
		t.Errorf("stripe_events rows = %d, want 1", n)
	}

	t.Run("a redelivered event is a duplicate", func(t *testing.T) {
		before := e.snapshot(t)
		// Stripe redelivers the same payload with a fresh signature.
		header := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: whsec, Timestamp: time.Now()}).Header
		dup, err := e.svc.ReceiveWebhook(ctx, payload, header, whsec)
		if err != nil || !dup {
			t.Errorf("redelivery: dup %v, err %v", dup, err)
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("duplicate wrote something:\n before %s\n after  %s", before, after)
		}
	})

	t.Run("other events are recorded and ignored", func(t *testing.T) {
		payload, header := event(t, "evt_other", "customer.created", map[string]any{"id": "cus_1", "object": "customer"}, whsec)
		if dup, err := e.svc.ReceiveWebhook(ctx, payload, header, whsec); err != nil || dup {
			t.Errorf("dup %v, err %v", dup, err)
		}
		unknown := intentObject(e, p, "succeeded")
		unknown["metadata"] = map[string]any{"tenant_id": "999999"}
		payload, header = event(t, "evt_unknown_tenant", stripe.EventTypePaymentIntentSucceeded, unknown, whsec)
		if dup, err := e.svc.ReceiveWebhook(ctx, payload, header, whsec); err != nil || dup {
			t.Errorf("unknown tenant: dup %v, err %v", dup, err)
		}
		if n := len(e.outbox(t, payments.TaskStripeEvent)); n != 1 {
			t.Errorf("%d stripe_event outbox rows, want still 1", n)
		}
		if n := e.countPublic(t, `SELECT count(*) FROM public.stripe_events WHERE tenant_id IS NULL`); n != 2 {
			t.Errorf("%d events recorded without a tenant, want 2", n)
		}
	})

	t.Run("an event of another API version is refused", func(t *testing.T) {
		body := strings.Replace(string(payload), stripe.APIVersion, "2020-08-27", 1)
		body = strings.Replace(body, "evt_1", "evt_old_version", 1)
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(body), Secret: whsec})
		if _, err := e.svc.ReceiveWebhook(ctx, []byte(body), signed.Header, whsec); !errors.Is(err, payments.ErrBadEvent) {
			t.Errorf("err = %v, want ErrBadEvent", err)
		}
	})

	// The job: re-fetch, book, tell orders.
	if err := e.handle(t, rows[0]); err != nil {
		t.Fatal(err)
	}
	var got []payments.Payment
	e.must(t, func(tx *gorm.DB) error {
		var err error
		got, err = e.svc.ForOrder(tx, o)
		return err
	})
	if len(got) != 1 || got[0].Status != payments.StatusSucceeded || got[0].SucceededAt == nil {
		t.Fatalf("payments = %+v", got)
	}
	if b := e.balance(t, ledger.Escrow(o)); b != 1500 {
		t.Errorf("escrow = %d, want 1500", b)
	}
	if b := e.balance(t, ledger.Clearing("stripe")); b != -1500 {
		t.Errorf("clearing:stripe = %d, want -1500", b)
	}
	succeeded := e.outbox(t, payments.TaskSucceeded)
	if len(succeeded) != 1 {
		t.Fatalf("%d payments:succeeded rows, want 1", len(succeeded))
	}
	var data payments.SucceededData
	if err := json.Unmarshal([]byte(succeeded[0].Payload), &data); err != nil {
		t.Fatal(err)
	}
	if data != (payments.SucceededData{PaymentID: p.ID, OrderID: o, Purpose: payments.PurposeOrder, UserID: u, Amount: 1500}) {
		t.Errorf("payments:succeeded = %+v", data)
	}

	t.Run("running the job again changes nothing", func(t *testing.T) {
		before := e.snapshot(t)
		if err := e.handle(t, rows[0]); err != nil {
			t.Fatal(err)
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("second run wrote something:\n before %s\n after  %s", before, after)
		}
	})

	t.Run("a job without its tenant in ctx is archived", func(t *testing.T) {
		task, _ := payments.NewStripeEventTask(e.tenant.ID, payments.StripeEventData{EventID: "evt_1", PaymentIntentID: p.ProviderRef})
		err := e.svc.HandleStripeEvent(context.Background(), task)
		if err == nil || !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("err = %v, want SkipRetry", err)
		}
	})

	t.Run("another tenant's intent is not applied", func(t *testing.T) {
		other := &tenancy.Tenant{ID: e.tenant.ID + 1, Schema: e.tenant.Schema}
		task, _ := payments.NewStripeEventTask(other.ID, payments.StripeEventData{EventID: "evt_x", PaymentIntentID: p.ProviderRef})
		err := e.svc.HandleStripeEvent(tenancy.WithTenant(context.Background(), other), task)
		if !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("err = %v, want SkipRetry", err)
		}
	})

	t.Run("stripe errors are retried", func(t *testing.T) {
		e.fake.fail = errors.New("stripe is down")
		defer func() { e.fake.fail = nil }()
		err := e.handle(t, rows[0])
		if err == nil || errors.Is(err, asynq.SkipRetry) || !errors.Is(err, payments.ErrProvider) {
			t.Errorf("err = %v, want a retryable ErrProvider", err)
		}
	})
}

func TestStripeTopupAndFailures(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.user(t)
	ctx := context.Background()
	p, _ := e.startStripe(t, payments.PurposeTopup, "", u, 3000, "topup-1")
	if p.OrderID != "" || p.Purpose != payments.PurposeTopup {
		t.Fatalf("payment = %+v", p)
	}
	status := func() payments.Status {
		var s payments.Status
		e.must(t, func(tx *gorm.DB) error {
			return tx.Raw(`SELECT status FROM payments WHERE id = ?`, p.ID).Scan(&s).Error
		})
		return s
	}
	n := 0
	deliver := func(typ stripe.EventType, status string) {
		t.Helper()
		n++
		e.fake.setIntent(p.ProviderRef, status)
		payload, header := event(t, fmt.Sprintf("evt_%d", n), typ, intentObject(e, p, status), whsec)
		if _, err := e.svc.ReceiveWebhook(ctx, payload, header, whsec); err != nil {
			t.Fatal(err)
		}
		rows := e.outbox(t, payments.TaskStripeEvent)
		if err := e.handle(t, rows[len(rows)-1]); err != nil {
			t.Fatal(err)
		}
	}

	deliver(stripe.EventTypePaymentIntentPaymentFailed, "requires_payment_method")
	if s := status(); s != payments.StatusFailed {
		t.Errorf("after a failed attempt: %s, want failed", s)
	}
	// The student retried with another card and it went through; the failed event arrives late.
	e.fake.setIntent(p.ProviderRef, "succeeded")
	payload, header := event(t, "evt_late_failure", stripe.EventTypePaymentIntentPaymentFailed, intentObject(e, p, "requires_payment_method"), whsec)
	if _, err := e.svc.ReceiveWebhook(ctx, payload, header, whsec); err != nil {
		t.Fatal(err)
	}
	rows := e.outbox(t, payments.TaskStripeEvent)
	if err := e.handle(t, rows[len(rows)-1]); err != nil {
		t.Fatal(err)
	}
	if s := status(); s != payments.StatusSucceeded {
		t.Errorf("after re-fetching a succeeded intent: %s, want succeeded", s)
	}
	if b := e.balance(t, ledger.Wallet(u)); b != 3000 {
		t.Errorf("wallet = %d, want 3000", b)
	}
	// A cancellation of a succeeded intent cannot happen at Stripe; a stale one changes nothing.
	deliver(stripe.EventTypePaymentIntentSucceeded, "succeeded")
	if b := e.balance(t, ledger.Wallet(u)); b != 3000 {
		t.Errorf("wallet after a redundant event = %d, want 3000", b)
	}
	if n := len(e.outbox(t, payments.TaskSucceeded)); n != 1 {
		t.Errorf("%d payments:succeeded rows, want 1", n)
	}

	p2, _ := e.startStripe(t, payments.PurposeTopup, "", u, 100, "topup-2")
	p = p2
	deliver(stripe.EventTypePaymentIntentCanceled, "canceled")
	if s := status(); s != payments.StatusCancelled {
		t.Errorf("after cancel: %s, want cancelled", s)
	}
}
