package payments_test

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stripe/stripe-go/v76"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/payments"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store/storetest"
)

// The whole path as deployed: webhook → stripe_events + outbox → relay → Redis → worker with
// the tenant in ctx → HandleStripeEvent.
func TestWebhookRunsThroughOutboxAndWorker(t *testing.T) {
	t.Parallel()
	e := setup(t)
	opt, err := asynq.ParseRedisURI(storetest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	client := asynq.NewClient(opt)
	t.Cleanup(func() { _ = client.Close() })
	cfg := config.Jobs{Concurrency: 4, PerTenantConcurrency: 2, OutboxPollInterval: 100 * time.Millisecond,
		OutboxRetention: time.Hour, MaxRetry: 3}
	srv := jobs.NewServer(opt, cfg, tenancy.NewRegistry(e.db.Gorm, nil), testLog())
	srv.Handle(payments.TaskStripeEvent, e.svc.HandleStripeEvent)
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(context.Background()) }()
	t.Cleanup(func() {
		srv.Shutdown()
		if err := <-errc; err != nil {
			t.Errorf("worker: %v", err)
		}
	})

	u := e.user(t)
	o := e.order(t, u, 1500)
	p, _ := e.startStripe(t, payments.PurposeOrder, o, u, 1500, "key-1")
	e.fake.setIntent(p.ProviderRef, "succeeded")
	payload, header := event(t, "evt_e2e", stripe.EventTypePaymentIntentSucceeded, intentObject(e, p, "succeeded"), whsec)
	if _, err := e.svc.ReceiveWebhook(context.Background(), payload, header, whsec); err != nil {
		t.Fatal(err)
	}
	relay := jobs.NewRelay(e.db, client, e.dbURL, cfg, testLog())
	if n, err := relay.RelayOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("relayed %d, err %v", n, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var st string
		e.must(t, func(tx *gorm.DB) error {
			return tx.Raw(`SELECT status FROM payments WHERE id = ?`, p.ID).Scan(&st).Error
		})
		if st == string(payments.StatusSucceeded) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("payment is still %s after 20s", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if b := e.balance(t, ledger.Escrow(o)); b != 1500 {
		t.Errorf("escrow = %d, want 1500", b)
	}
	if n := len(e.outbox(t, payments.TaskSucceeded)); n != 1 {
		t.Errorf("%d payments:succeeded rows, want 1", n)
	}
}
