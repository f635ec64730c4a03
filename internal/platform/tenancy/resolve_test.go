package tenancy_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store/storetest"
)

// Two replicas cache the same tenant; a status change announced by one reaches the other
// through Redis long before the cache TTL.
func TestResolverInvalidationReachesOtherReplicas(t *testing.T) {
	db, _ := storetest.New(t)
	opt, err := redis.ParseURL(storetest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	reg := tenancy.NewRegistry(db.Gorm, nil)
	var tn *tenancy.Tenant
	if err := db.Gorm.Transaction(func(tx *gorm.DB) error {
		var err error
		if tn, err = reg.Insert(tx, "replica", "Replica"); err != nil {
			return err
		}
		_, err = reg.SetStatus(tx, tn.ID, tenancy.StatusActive, "")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	one := tenancy.NewResolver(reg, rdb, "paotui.example", time.Hour, log)
	two := tenancy.NewResolver(reg, rdb, "paotui.example", time.Hour, log)
	go one.Run(ctx)
	go two.Run(ctx)
	for _, r := range []*tenancy.Resolver{one, two} {
		select {
		case <-r.Ready():
		case <-time.After(5 * time.Second):
			t.Fatal("resolver never subscribed")
		}
	}

	for _, r := range []*tenancy.Resolver{one, two} {
		h, err := r.Resolve(ctx, "Replica.paotui.example:443")
		if err != nil || h.Kind != tenancy.KindTenant || h.Tenant.Status != tenancy.StatusActive {
			t.Fatalf("resolve: %+v %v", h, err)
		}
	}
	if err := db.Gorm.Transaction(func(tx *gorm.DB) error {
		_, err := reg.SetStatus(tx, tn.ID, tenancy.StatusSuspended, "test")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Without an announcement the hour-long TTL keeps the old status.
	if h, _ := two.Resolve(ctx, "replica.paotui.example"); h.Tenant.Status != tenancy.StatusActive {
		t.Fatal("cache did not cache")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		// Publish until the subscriber is up (Run subscribes asynchronously).
		if err := one.Invalidate(ctx, tn.ID); err != nil {
			t.Fatal(err)
		}
		if h, _ := two.Resolve(ctx, "replica.paotui.example"); h.Tenant.Status == tenancy.StatusSuspended {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other replica never heard of the change")
		}
		time.Sleep(50 * time.Millisecond)
	}

	cases := map[string]tenancy.HostKind{
		"paotui.example":        tenancy.KindBase,
		"admin.paotui.example":  tenancy.KindPlatform,
		"ADMIN.paotui.example.": tenancy.KindPlatform,
	}
	for host, kind := range cases {
		if h, err := one.Resolve(ctx, host); err != nil || h.Kind != kind {
			t.Errorf("%s: %+v %v", host, h, err)
		}
	}
	for _, host := range []string{"www.paotui.example", "a.b.paotui.example", "nobody.paotui.example", "evil.example", "replica.paotui.example.evil.example"} {
		if _, err := one.Resolve(ctx, host); !errors.Is(err, tenancy.ErrUnknownHost) {
			t.Errorf("%s: want ErrUnknownHost, got %v", host, err)
		}
	}
}
