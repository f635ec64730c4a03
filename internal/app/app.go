package app

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/paotui/paotui/internal/authz"
	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/couriers"
	"github.com/paotui/paotui/internal/dispatch"
	"github.com/paotui/paotui/internal/idempotency"
	"github.com/paotui/paotui/internal/identity"
	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/orderchat"
	"github.com/paotui/paotui/internal/orders"
	"github.com/paotui/paotui/internal/payments"
	"github.com/paotui/paotui/internal/pii"
	"github.com/paotui/paotui/internal/platform/billing"
	"github.com/paotui/paotui/internal/platform/domains"
	"github.com/paotui/paotui/internal/platform/lifecycle"
	"github.com/paotui/paotui/internal/platform/plans"
	"github.com/paotui/paotui/internal/platform/provision"
	"github.com/paotui/paotui/internal/platform/signup"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/pricing"
	"github.com/paotui/paotui/internal/realtime"
	"github.com/paotui/paotui/internal/storage"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/tracking"
	"github.com/paotui/paotui/web"
)

// App holds the process's long-lived services.
type App struct {
	Cfg       *config.Config
	Log       *slog.Logger
	DB        *store.DB
	Redis     redis.UniversalClient
	RedisOpt  asynq.RedisConnOpt
	Migrator  *store.Migrator
	Registry  *tenancy.Registry
	Resolver  *tenancy.Resolver
	Keys      *pii.Keyring
	Outbox    *jobs.Outbox
	Authz     *authz.Authorizer
	SMS       *identity.LogSender
	Identity  *identity.Service
	Provision *provision.Service
	Payments  *payments.Service
	Orders    *orders.Service
	Idem      *idempotency.Store
	Couriers  *couriers.Service
	Files     storage.Store
	Chat      *orderchat.Service
	Plans     *plans.Service
	Billing   *billing.Service
	Signup    *signup.Service
	Domains   *domains.Service
	Lifecycle *lifecycle.Service
	Live      *realtime.Publisher
	Hub       *realtime.Hub
	Tracking  *tracking.Service
	Dispatch  *dispatch.Service
	// TXT answers custom-domain verification lookups: the system resolver, unless a test
	// sets a fake before serving requests.
	TXT domains.TXTResolver
	// Web is the built web apps (web.Dist()), nil when the binary carries none; tests set a
	// stand-in before building the HTTP server.
	Web fs.FS
}

// appTXT reads App.TXT at lookup time, so tests can swap the resolver after New.
type appTXT struct{ a *App }

func (r appTXT) LookupTXT(ctx context.Context, name string) ([]string, error) {
	return r.a.TXT.LookupTXT(ctx, name)
}

// NewLogger builds the process logger from cfg.Log.
func NewLogger(cfg config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

// New connects to PostgreSQL and Redis and builds the services. The caller closes it.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, fmt.Errorf("%w (database.url / PAOTUI_DATABASE_URL)", err)
	}
	ropt, err := redis.ParseURL(cfg.Redis.URL.Reveal())
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("redis.url: %w", err)
	}
	rdb := redis.NewClient(ropt)
	if err := rdb.Ping(ctx).Err(); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to Redis: %w (redis.url / PAOTUI_REDIS_URL)", err)
	}
	a := &App{Cfg: cfg, Log: log, DB: db, Redis: rdb, RedisOpt: asynq.RedisClientOpt{
		Network: ropt.Network, Addr: ropt.Addr, Username: ropt.Username, Password: ropt.Password, DB: ropt.DB, TLSConfig: ropt.TLSConfig,
	}}
	master, _ := cfg.MasterKeyBytes()
	a.Migrator = store.NewMigrator(cfg.Database.URL.Reveal(), cfg.Migrate.Concurrency, log)
	a.Registry = tenancy.NewRegistry(db.Gorm, cfg.Tenancy.Reserved())
	a.Resolver = tenancy.NewResolver(a.Registry, rdb, cfg.BaseDomain, cfg.Tenancy.CacheTTL, log)
	if a.Keys, err = pii.NewKeyring(db.Gorm, master); err != nil {
		a.Close()
		return nil, err
	}
	a.Outbox = jobs.NewOutbox()
	if a.Authz, err = authz.New(db, rdb, log); err != nil {
		a.Close()
		return nil, err
	}
	a.SMS = identity.NewLogSender(log)
	if a.Identity, err = identity.NewService(db, rdb, a.Keys, a.SMS, cfg.Auth, master, log); err != nil {
		a.Close()
		return nil, err
	}
	a.Provision = provision.New(db, a.Registry, a.Resolver, a.Migrator, a.Keys, a.Outbox, a.Identity, a.Authz, log)
	var stripe payments.Stripe
	if key := cfg.Stripe.SecretKey.Reveal(); key != "" {
		stripe = payments.NewStripeClient(key, cfg.Stripe.APIURL)
	}
	a.Payments = payments.New(db, stripe, a.Outbox, log).WithPublishableKey(cfg.Stripe.PublishableKey)
	signer, err := pricing.NewSigner(deriveKey(master, "paotui:quote"), cfg.Orders.QuoteTTL, nil)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Orders = orders.New(db, a.Keys, signer, cfg.Orders.QuoteTTL, payments.OrderPayments{Service: a.Payments}, a.Outbox, log)
	a.Idem = idempotency.New(db, rdb)
	a.Couriers = couriers.New(db, a.Keys, a.Authz, rdb, log)
	a.Provision.WithCouriers(a.Couriers)
	if a.Files, err = storage.Open(cfg.Storage); err != nil {
		a.Close()
		return nil, fmt.Errorf("storage: %w", err)
	}
	a.Live = realtime.NewPublisher(rdb)
	a.Hub = realtime.NewHub(rdb, log)
	a.Tracking = tracking.New(rdb, db, tracking.Options{MinInterval: cfg.Tracking.PingInterval, Log: log})
	a.Couriers.WithPositions(a.Tracking)
	a.Chat = orderchat.New(db, a.Keys, a.Files, chatOrders{a.Orders}, chatLive{a.Live}, log, orderchat.WithAuthorizer(a.Authz))
	a.Orders.WithTrips(a.Couriers, a.Chat)
	a.Dispatch = dispatch.New(db, dispatchOrders{a.Orders}, dispatchCouriers{a.Tracking}, a.Outbox, a.Live, log)
	a.Plans = plans.NewService(db, a.Authz)
	limits := planLimits{plans: a.Plans, authz: a.Authz}
	a.Orders.WithLimits(limits)
	a.Couriers.WithLimits(limits)
	a.Identity.WithSeatCheck(limits.AllowSeat)
	a.TXT = net.DefaultResolver
	if web.Built() {
		a.Web = web.Dist()
	}
	a.Domains = domains.NewService(db, a.Plans, appTXT{a}, a.Resolver, cfg.BaseDomain, log)
	a.Lifecycle = lifecycle.New(db, a.Registry, a.Resolver, a.Keys, a.Files, a.Outbox, cfg.Tenancy, log)
	var billingStripe billing.Stripe
	if key := cfg.Stripe.SecretKey.Reveal(); key != "" {
		billingStripe = billing.NewStripe(key, cfg.Stripe.APIURL)
	}
	a.Billing = billing.New(db, a.Registry, a.Resolver, a.Plans, billingStripe, a.Outbox,
		billing.Config{GracePeriod: cfg.Billing.GracePeriod, URL: cfg.PublicURL, BaseDomain: cfg.BaseDomain}, log)
	a.Provision.WithGate(a.Billing)
	a.Lifecycle.WithBilling(a.Billing)
	a.Signup = signup.New(db, a.Registry, a.Provision, a.Plans, a.Billing, a.Identity, rdb,
		signup.Limits{PerIPPerHour: cfg.Signup.PerIPPerHour, PerPhonePerDay: cfg.Signup.PerPhonePerDay},
		deriveKey(master, "paotui:signup:limits"), cfg.PublicURL, cfg.BaseDomain, log)
	return a, nil
}

// Close releases connections.
func (a *App) Close() {
	if a.Hub != nil {
		_ = a.Hub.Close()
	}
	if a.Redis != nil {
		_ = a.Redis.Close()
	}
	if a.DB != nil {
		_ = a.DB.Close()
	}
}

// deriveKey makes a purpose-bound key from the master key (HKDF-SHA256), so no two uses share
// a key and rotating the master key rotates them all.
func deriveKey(master []byte, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, master, nil, purpose, 32)
	if err != nil {
		panic(err) // only for a length HKDF cannot produce
	}
	return k
}

// QuoteSigner is the quote-token signer with its clock set to now (tools and tests that need a
// token from another moment, e.g. an expired one).
func (a *App) QuoteSigner(now func() time.Time) (*pricing.Signer, error) {
	master, err := a.Cfg.MasterKeyBytes()
	if err != nil {
		return nil, err
	}
	return pricing.NewSigner(deriveKey(master, "paotui:quote"), a.Cfg.Orders.QuoteTTL, now)
}
