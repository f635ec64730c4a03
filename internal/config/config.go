package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/rawbytes"
	"github.com/knadh/koanf/v2"

	"github.com/paotui/paotui/configs"
)

// DevMasterKey is the master key shipped in configs/paotui.yaml; production refuses it.
const DevMasterKey = "ZGV2LW9ubHktbWFzdGVyLWtleS0zMi1ieXRlcy0hISE="

// Secret is a string that never prints its value.
type Secret string

func (s Secret) String() string { return "******" }

// LogValue keeps secrets out of slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue("******") }

// Reveal returns the secret's value; call it only where the value is used.
func (s Secret) Reveal() string { return string(s) }

// Config is the whole configuration, loaded once at start and passed explicitly.
type Config struct {
	Env        string   `koanf:"env"`
	BaseDomain string   `koanf:"base_domain"`
	MasterKey  Secret   `koanf:"master_key"`
	HTTP       HTTP     `koanf:"http"`
	Database   Database `koanf:"database"`
	Redis      Redis    `koanf:"redis"`
	Log        Log      `koanf:"log"`
	Auth       Auth     `koanf:"auth"`
	SMS        SMS      `koanf:"sms"`
	Tenancy    Tenancy  `koanf:"tenancy"`
	Migrate    Migrate  `koanf:"migrate"`
	Jobs       Jobs     `koanf:"jobs"`
	Orders     Orders   `koanf:"orders"`
	Tracking   Tracking `koanf:"tracking"`
	Stripe     Stripe   `koanf:"stripe"`
	Billing    Billing  `koanf:"billing"`
	Signup     Signup   `koanf:"signup"`
	Storage    Storage  `koanf:"storage"`
}

// Billing tunes the platform's subscription billing (Stripe Billing through the same account
// as stripe.secret_key).
type Billing struct {
	// WebhookSecret signs the billing webhook endpoint (whsec_...), separate from payments'.
	WebhookSecret Secret `koanf:"webhook_secret"`
	// GracePeriod is how long a past-due tenant keeps working before it is suspended.
	GracePeriod time.Duration `koanf:"grace_period"`
	// UsageReportInterval is how often metered usage is sent to Stripe.
	UsageReportInterval time.Duration `koanf:"usage_report_interval"`
}

// Signup limits self-serve signups on the base host.
type Signup struct {
	PerIPPerHour   int `koanf:"per_ip_per_hour"`
	PerPhonePerDay int `koanf:"per_phone_per_day"`
}

// Tracking tunes courier position pings.
type Tracking struct {
	// PingInterval is the shortest time between two accepted pings of one courier.
	PingInterval time.Duration `koanf:"ping_interval"`
}

// Orders tunes the errand flow.
type Orders struct {
	QuoteTTL time.Duration `koanf:"quote_ttl"`
}

type Stripe struct {
	SecretKey     Secret `koanf:"secret_key"`
	WebhookSecret Secret `koanf:"webhook_secret"`
	APIURL        string `koanf:"api_url"`
	// PublishableKey (pk_...) is handed to students' browsers, which confirm card payments
	// with Stripe.js; it is public by design, hence a plain string.
	PublishableKey string `koanf:"publishable_key"`
}

// Storage says where uploaded files (delivery photos) are kept; internal/storage opens it.
type Storage struct {
	// Driver is local (a directory) or s3 (any S3-compatible service).
	Driver string       `koanf:"driver"`
	Local  StorageLocal `koanf:"local"`
	S3     StorageS3    `koanf:"s3"`
}

type StorageLocal struct {
	Dir string `koanf:"dir"`
}

type StorageS3 struct {
	// Endpoint is host[:port] without a scheme; UseSSL picks https.
	Endpoint  string `koanf:"endpoint"`
	Bucket    string `koanf:"bucket"`
	Region    string `koanf:"region"`
	AccessKey string `koanf:"access_key"`
	SecretKey Secret `koanf:"secret_key"`
	UseSSL    bool   `koanf:"use_ssl"`
	// PathStyle forces http(s)://endpoint/bucket/key addressing (MinIO and most self-hosted
	// services); false lets the client pick (virtual-hosted for AWS S3 and known providers).
	PathStyle bool `koanf:"path_style"`
}

type HTTP struct {
	Addr           string        `koanf:"addr"`
	PublicScheme   string        `koanf:"public_scheme"`
	PublicPort     string        `koanf:"public_port"`
	ReadTimeout    time.Duration `koanf:"read_timeout"`
	WriteTimeout   time.Duration `koanf:"write_timeout"`
	BodyLimit      string        `koanf:"body_limit"`
	TrustedProxies string        `koanf:"trusted_proxies"`
}

type Database struct {
	URL               Secret        `koanf:"url"`
	MaxOpenConns      int           `koanf:"max_open_conns"`
	MaxIdleConns      int           `koanf:"max_idle_conns"`
	ConnMaxLifetime   time.Duration `koanf:"conn_max_lifetime"`
	ConnMaxIdleTime   time.Duration `koanf:"conn_max_idle_time"`
	MaxSchemasPerConn int           `koanf:"max_schemas_per_conn"`
}

type Redis struct {
	URL Secret `koanf:"url"`
}

type Log struct {
	Level  string `koanf:"level"`
	Format string `koanf:"format"`
}

type Auth struct {
	AccessTTL           time.Duration `koanf:"access_ttl"`
	RefreshTTL          time.Duration `koanf:"refresh_ttl"`
	SMSCodeTTL          time.Duration `koanf:"sms_code_ttl"`
	SMSCodeAttempts     int           `koanf:"sms_code_attempts"`
	SMSResendInterval   time.Duration `koanf:"sms_resend_interval"`
	SMSPerPhonePerHour  int           `koanf:"sms_per_phone_per_hour"`
	SMSPerIPPerHour     int           `koanf:"sms_per_ip_per_hour"`
	LoginFailuresPer15m int           `koanf:"login_failures_per_15m"`
	// ImpersonationTTL is the longest a platform admin's support session as a tenant admin lasts.
	ImpersonationTTL time.Duration `koanf:"impersonation_ttl"`
}

type SMS struct {
	Driver string `koanf:"driver"`
}

type Tenancy struct {
	CacheTTL      time.Duration `koanf:"cache_ttl"`
	ReservedExtra string        `koanf:"reserved_extra"`
	// DeletionGrace is how long a tenant whose deletion was requested stays suspended (and can
	// be restored by a platform admin) before its schema is dropped.
	DeletionGrace time.Duration `koanf:"deletion_grace"`
	// ExportTTL is how long a finished data export can be downloaded.
	ExportTTL time.Duration `koanf:"export_ttl"`
}

type Migrate struct {
	Concurrency int `koanf:"concurrency"`
}

type Jobs struct {
	Concurrency          int           `koanf:"concurrency"`
	PerTenantConcurrency int           `koanf:"per_tenant_concurrency"`
	OutboxPollInterval   time.Duration `koanf:"outbox_poll_interval"`
	OutboxRetention      time.Duration `koanf:"outbox_retention"`
	MaxRetry             int           `koanf:"max_retry"`
	// TaskCheckInterval is how often an idle worker looks for new tasks: the floor of a job's
	// pickup latency when queues are empty.
	TaskCheckInterval time.Duration `koanf:"task_check_interval"`
}

// EnvPrefix starts every environment override.
const EnvPrefix = "PAOTUI_"

// Load reads the embedded defaults, then path (if not empty), then PAOTUI_* variables from
// environ (os.Environ() form), and validates the result. Errors name the key at fault.
func Load(path string, environ []string) (*Config, error) {
	k := koanf.New(".")
	if err := k.Load(rawbytes.Provider(configs.Default), yaml.Parser()); err != nil {
		return nil, fmt.Errorf("config: embedded defaults: %w", err)
	}
	// Every key the defaults know, by its environment name. Deriving names from the known keys
	// (rather than splitting the variable on "_") keeps keys with underscores unambiguous.
	byEnv := map[string]string{}
	for _, key := range k.Keys() {
		byEnv[EnvName(key)] = key
	}
	if path != "" {
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
		for _, key := range k.Keys() {
			if _, ok := byEnv[EnvName(key)]; !ok {
				return nil, fmt.Errorf("config: %s: unknown key %q", path, key)
			}
		}
	}
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		if key, known := byEnv[name]; known {
			if err := k.Set(key, value); err != nil {
				return nil, fmt.Errorf("config: %s: %w", name, err)
			}
		}
	}
	var c Config
	if err := k.UnmarshalWithConf("", &c, koanf.UnmarshalConf{Tag: "koanf"}); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// EnvName is the environment variable that overrides key (e.g. "http.addr" -> PAOTUI_HTTP_ADDR).
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// FieldError is a validation failure of one key.
type FieldError struct {
	Key    string
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("config: %s (env %s): %s", e.Key, EnvName(e.Key), e.Reason)
}

// Validate checks every key; the error lists each bad key with the reason.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &FieldError{Key: key, Reason: fmt.Sprintf(format, args...)})
	}
	if c.Env != "development" && c.Env != "production" {
		bad("env", "must be development or production, got %q", c.Env)
	}
	if !validDomain(c.BaseDomain) {
		bad("base_domain", "must be a host name like paotui.example or localhost, got %q", c.BaseDomain)
	}
	if _, err := c.MasterKeyBytes(); err != nil {
		bad("master_key", "%v", err)
	} else if c.Env == "production" && c.MasterKey.Reveal() == DevMasterKey {
		bad("master_key", "the development key is refused in production; set a fresh one")
	}
	if _, port, err := net.SplitHostPort(c.HTTP.Addr); err != nil || port == "" {
		bad("http.addr", "must be host:port such as :8080, got %q", c.HTTP.Addr)
	}
	if c.HTTP.PublicScheme != "http" && c.HTTP.PublicScheme != "https" {
		bad("http.public_scheme", "must be http or https, got %q", c.HTTP.PublicScheme)
	}
	positive := func(key string, d time.Duration) {
		if d <= 0 {
			bad(key, "must be a positive duration, got %s", d)
		}
	}
	atLeast := func(key string, n, min int) {
		if n < min {
			bad(key, "must be at least %d, got %d", min, n)
		}
	}
	positive("http.read_timeout", c.HTTP.ReadTimeout)
	positive("http.write_timeout", c.HTTP.WriteTimeout)
	for _, cidr := range splitList(c.HTTP.TrustedProxies) {
		if _, _, err := net.ParseCIDR(cidr); err != nil {
			bad("http.trusted_proxies", "%q is not a CIDR", cidr)
		}
	}
	if u, err := url.Parse(c.Database.URL.Reveal()); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		bad("database.url", "must be a postgres:// URL")
	}
	atLeast("database.max_open_conns", c.Database.MaxOpenConns, 1)
	atLeast("database.max_idle_conns", c.Database.MaxIdleConns, 0)
	positive("database.conn_max_lifetime", c.Database.ConnMaxLifetime)
	positive("database.conn_max_idle_time", c.Database.ConnMaxIdleTime)
	atLeast("database.max_schemas_per_conn", c.Database.MaxSchemasPerConn, 0)
	if u, err := url.Parse(c.Redis.URL.Reveal()); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		bad("redis.url", "must be a redis:// or rediss:// URL")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		bad("log.format", "must be json or text, got %q", c.Log.Format)
	}
	positive("auth.access_ttl", c.Auth.AccessTTL)
	positive("auth.refresh_ttl", c.Auth.RefreshTTL)
	positive("auth.sms_code_ttl", c.Auth.SMSCodeTTL)
	positive("auth.sms_resend_interval", c.Auth.SMSResendInterval)
	atLeast("auth.sms_code_attempts", c.Auth.SMSCodeAttempts, 1)
	atLeast("auth.sms_per_phone_per_hour", c.Auth.SMSPerPhonePerHour, 1)
	atLeast("auth.sms_per_ip_per_hour", c.Auth.SMSPerIPPerHour, 1)
	atLeast("auth.login_failures_per_15m", c.Auth.LoginFailuresPer15m, 1)
	switch c.SMS.Driver {
	case "log":
		if c.Env == "production" {
			bad("sms.driver", "the log driver prints codes and is refused in production")
		}
	default:
		bad("sms.driver", "unknown driver %q (available: log)", c.SMS.Driver)
	}
	positive("tenancy.cache_ttl", c.Tenancy.CacheTTL)
	positive("tenancy.deletion_grace", c.Tenancy.DeletionGrace)
	positive("tenancy.export_ttl", c.Tenancy.ExportTTL)
	positive("auth.impersonation_ttl", c.Auth.ImpersonationTTL)
	positive("billing.grace_period", c.Billing.GracePeriod)
	positive("billing.usage_report_interval", c.Billing.UsageReportInterval)
	atLeast("signup.per_ip_per_hour", c.Signup.PerIPPerHour, 1)
	atLeast("signup.per_phone_per_day", c.Signup.PerPhonePerDay, 1)
	atLeast("migrate.concurrency", c.Migrate.Concurrency, 1)
	atLeast("jobs.concurrency", c.Jobs.Concurrency, 1)
	atLeast("jobs.per_tenant_concurrency", c.Jobs.PerTenantConcurrency, 1)
	positive("jobs.outbox_poll_interval", c.Jobs.OutboxPollInterval)
	positive("jobs.outbox_retention", c.Jobs.OutboxRetention)
	positive("jobs.task_check_interval", c.Jobs.TaskCheckInterval)
	atLeast("jobs.max_retry", c.Jobs.MaxRetry, 0)
	if c.Tracking.PingInterval < 100*time.Millisecond || c.Tracking.PingInterval > time.Minute {
		bad("tracking.ping_interval", "must be between 100ms and 1m, got %s", c.Tracking.PingInterval)
	}
	if c.Orders.QuoteTTL < time.Minute || c.Orders.QuoteTTL > 24*time.Hour {
		bad("orders.quote_ttl", "must be between 1m and 24h, got %s", c.Orders.QuoteTTL)
	}
	if u := c.Stripe.APIURL; u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") {
			bad("stripe.api_url", "must be an http(s) URL or empty, got %q", u)
		}
	}
	c.validateStripeKeys(bad)
	c.validateStorage(bad)
	return errors.Join(errs...)
}

func (c *Config) validateStripeKeys(bad func(key, format string, args ...any)) {
	pk, sk := c.Stripe.PublishableKey, c.Stripe.SecretKey.Reveal()
	switch {
	case pk != "" && !strings.HasPrefix(pk, "pk_"):
		// The usual mistake is pasting the secret key here, which would then be sent to every
		// student's browser: say so without repeating the value.
		bad("stripe.publishable_key", "must be a Stripe publishable key starting with pk_ (never the secret key)")
	case pk == "" && sk != "" && c.Env == "production":
		// Without it the apps cannot confirm card payments: PaymentIntents would be created
		// and never paid.
		bad("stripe.publishable_key", "is required in production when stripe.secret_key is set")
	case stripeMode(pk) != "" && stripeMode(sk) != "" && stripeMode(pk) != stripeMode(sk):
		// Test-mode intents cannot be confirmed with a live key or the other way round.
		bad("stripe.publishable_key", "is a %s-mode key but stripe.secret_key is %s-mode", stripeMode(pk), stripeMode(sk))
	}
}

// stripeMode is "test" or "live" for keys shaped pk_test_..., sk_live_..., rk_test_...; ""
// when the key does not say, which then matches anything.
func stripeMode(key string) string {
	switch _, rest, _ := strings.Cut(key, "_"); {
	case strings.HasPrefix(rest, "test_"):
		return "test"
	case strings.HasPrefix(rest, "live_"):
		return "live"
	}
	return ""
}

// bucketPattern is the S3 bucket naming rule (3-63 lower-case letters, digits, dots and hyphens,
// starting and ending with a letter or digit).
var bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func (c *Config) validateStorage(bad func(key, format string, args ...any)) {
	switch c.Storage.Driver {
	case "local":
		dir := c.Storage.Local.Dir
		switch {
		case strings.TrimSpace(dir) == "":
			bad("storage.local.dir", "must name a directory")
		case c.Env == "production" && !filepath.IsAbs(dir):
			// A relative directory depends on where the process happens to start, and the
			// development default would put customers' photos inside the release. Production may
			// keep files locally (one server with a persistent volume), but only on purpose.
			bad("storage.local.dir", "must be an absolute path on a persistent volume in production (got %q); with more than one server use the s3 driver", dir)
		}
	case "s3":
		s3 := c.Storage.S3
		if s3.Endpoint == "" {
			bad("storage.s3.endpoint", "is required by the s3 driver (host or host:port, e.g. s3.amazonaws.com or minio:9000)")
		} else if !validEndpoint(s3.Endpoint) {
			bad("storage.s3.endpoint", "must be host or host:port without a scheme or path (use storage.s3.use_ssl for https), got %q", s3.Endpoint)
		}
		if s3.Bucket == "" {
			bad("storage.s3.bucket", "is required by the s3 driver")
		} else if !bucketPattern.MatchString(s3.Bucket) {
			bad("storage.s3.bucket", "%q is not a valid bucket name (3-63 lower-case letters, digits, dots or hyphens)", s3.Bucket)
		}
		if s3.AccessKey == "" {
			bad("storage.s3.access_key", "is required by the s3 driver")
		}
		if s3.SecretKey.Reveal() == "" {
			bad("storage.s3.secret_key", "is required by the s3 driver")
		}
	default:
		bad("storage.driver", "unknown driver %q (available: local, s3)", c.Storage.Driver)
	}
}

func validEndpoint(e string) bool {
	host := e
	if h, port, err := net.SplitHostPort(e); err == nil {
		if port == "" {
			return false
		}
		for _, r := range port {
			if r < '0' || r > '9' {
				return false
			}
		}
		host = h
	}
	if net.ParseIP(host) != nil {
		return true
	}
	return validDomain(strings.ToLower(host))
}

// MasterKeyBytes decodes the master key; it must be exactly 32 bytes.
func (c *Config) MasterKeyBytes() ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(c.MasterKey.Reveal())
	if err != nil {
		return nil, errors.New("must be base64")
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("must decode to 32 bytes, got %d", len(b))
	}
	return b, nil
}

// Reserved returns the extra reserved subdomains.
func (t Tenancy) Reserved() []string { return splitList(t.ReservedExtra) }

// Proxies returns the trusted proxy CIDRs.
func (h HTTP) Proxies() []string { return splitList(h.TrustedProxies) }

// PublicURL is the URL of host as users reach it (scheme and port from the http section).
func (c *Config) PublicURL(host string) string {
	port := c.HTTP.PublicPort
	if port == "" {
		_, port, _ = net.SplitHostPort(c.HTTP.Addr)
	}
	if (c.HTTP.PublicScheme == "http" && port == "80") || (c.HTTP.PublicScheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	}
	return c.HTTP.PublicScheme + "://" + host
}

// LoadFromOS is Load with the process environment.
func LoadFromOS(path string) (*Config, error) { return Load(path, os.Environ()) }

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func validDomain(d string) bool {
	if d == "" || len(d) > 253 || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
