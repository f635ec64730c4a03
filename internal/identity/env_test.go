package identity_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/identity"
	"github.com/paotui/paotui/internal/pii"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

// env is one test's database, Redis database, real keyring and dev SMS driver.
type env struct {
	db     *store.DB
	url    string
	rdb    *redis.Client
	keys   *pii.Keyring
	sms    *identity.LogSender
	master []byte
	svc    *identity.Service // with testAuth()
}

// testAuth is permissive (tiny resend gap, generous caps) so that tests tighten only the limit
// they exercise.
func testAuth() config.Auth {
	return config.Auth{
		AccessTTL:           time.Minute,
		RefreshTTL:          time.Hour,
		SMSCodeTTL:          time.Minute,
		SMSCodeAttempts:     3,
		SMSResendInterval:   time.Millisecond,
		SMSPerPhonePerHour:  100,
		SMSPerIPPerHour:     100,
		LoginFailuresPer15m: 100,
	}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, d := storetest.New(t)
	opt, err := redis.ParseURL(storetest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	keys, err := pii.NewKeyring(db.Gorm, master)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, url: d.URL, rdb: rdb, keys: keys, sms: identity.NewLogSender(quietLog()), master: master}
	e.svc = e.service(t, nil)
	return e
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// service is a Service over e's stores with testAuth() changed by tweak.
func (e *env) service(t *testing.T, tweak func(*config.Auth)) *identity.Service {
	t.Helper()
	cfg := testAuth()
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := identity.NewService(e.db, e.rdb, e.keys, e.sms, cfg, e.master, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tenant registers an active tenant, migrates its schema and creates its keys.
func (e *env) tenant(t *testing.T, slug string) *tenancy.Tenant {
	t.Helper()
	ctx := context.Background()
	var id int64
	if err := e.db.Gorm.Raw(`SELECT nextval(pg_get_serial_sequence('public.tenants', 'id'))`).Scan(&id).Error; err != nil {
		t.Fatal(err)
	}
	tn := &tenancy.Tenant{ID: id, Slug: slug, Name: slug, Schema: tenancy.SchemaFor(id), Status: tenancy.StatusActive}
	if err := e.db.Gorm.Exec(`INSERT INTO public.tenants (id, slug, name, schema_name, status) VALUES (?, ?, ?, ?, 'active')`,
		tn.ID, tn.Slug, tn.Name, tn.Schema).Error; err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.NewMigrator(e.url, 4, nil).UpTenant(ctx, tn.Schema); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Gorm.Transaction(func(tx *gorm.DB) error { return e.keys.CreateKeys(tx, tn.ID) }); err != nil {
		t.Fatal(err)
	}
	return tn
}

// login sends a code to phone and signs in with it.
func (e *env) login(t *testing.T, s *identity.Service, tn *tenancy.Tenant, phone string) (*identity.Session, *identity.User) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.SendCode(ctx, tn, phone, "10.0.0.1"); err != nil {
		t.Fatalf("SendCode: %v", err)
	}
	sess, u, _, err := s.LoginWithCode(ctx, tn, phone, e.sms.LastCode(phone), "10.0.0.1")
	if err != nil {
		t.Fatalf("LoginWithCode: %v", err)
	}
	return sess, u
}

// auditRows returns the tenant's audit entries, newest first.
func (e *env) auditRows(t *testing.T, tn *tenancy.Tenant) []audit.Row {
	t.Helper()
	var rows []audit.Row
	err := e.db.InTenant(context.Background(), tn, func(tx *gorm.DB) error {
		var err error
		rows, err = audit.List(tx, "", 0, 1000)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// phone returns a distinct valid mobile number per n.
func phone(n int) string { return fmt.Sprintf("139%08d", n) }
