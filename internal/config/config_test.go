package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoadDefaults(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatalf("defaults must load: %v", err)
	}
	if c.HTTP.Addr != ":8080" || c.BaseDomain != "localhost" || c.Auth.AccessTTL != 15*time.Minute {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestEnvOverrides(t *testing.T) {
	c, err := Load("", []string{
		"PAOTUI_DATABASE_URL=postgres://x@db:5432/p",
		"PAOTUI_REDIS_URL=redis://r:6379/2",
		"PAOTUI_HTTP_ADDR=127.0.0.1:9090",
		"PAOTUI_BASE_DOMAIN=paotui.example",
		"PAOTUI_AUTH_ACCESS_TTL=5m",
		"PAOTUI_MIGRATE_CONCURRENCY=3",
		"OTHER=1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Database.URL.Reveal() != "postgres://x@db:5432/p" || c.Redis.URL.Reveal() != "redis://r:6379/2" ||
		c.HTTP.Addr != "127.0.0.1:9090" || c.BaseDomain != "paotui.example" ||
		c.Auth.AccessTTL != 5*time.Minute || c.Migrate.Concurrency != 3 {
		t.Fatalf("overrides not applied: %+v", c)
	}
	if got := c.PublicURL("demo.paotui.example"); got != "http://demo.paotui.example:9090" {
		t.Fatalf("PublicURL = %q", got)
	}
}

func TestInvalidConfigNamesKey(t *testing.T) {
	cases := []struct {
		name string
		env  string
		key  string
	}{
		{"bad addr", "PAOTUI_HTTP_ADDR=nope", "http.addr"},
		{"bad domain", "PAOTUI_BASE_DOMAIN=Bad_Domain", "base_domain"},
		{"short master key", "PAOTUI_MASTER_KEY=c2hvcnQ=", "master_key"},
		{"bad db url", "PAOTUI_DATABASE_URL=mysql://x", "database.url"},
		{"bad redis url", "PAOTUI_REDIS_URL=http://x", "redis.url"},
		{"bad duration", "PAOTUI_AUTH_ACCESS_TTL=-1s", "auth.access_ttl"},
		{"zero concurrency", "PAOTUI_MIGRATE_CONCURRENCY=0", "migrate.concurrency"},
		{"unknown sms driver", "PAOTUI_SMS_DRIVER=carrier-pigeon", "sms.driver"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("", []string{tc.env})
			if err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("want error naming %q, got %v", tc.key, err)
			}
		})
	}
}

func TestProductionRefusesDevSecrets(t *testing.T) {
	_, err := Load("", []string{"PAOTUI_ENV=production"})
	if err == nil || !strings.Contains(err.Error(), "master_key") || !strings.Contains(err.Error(), "sms.driver") {
		t.Fatalf("production must refuse the dev master key and log SMS driver, got %v", err)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	c, _ := Load("", nil)
	if s := c.Database.URL.String(); strings.Contains(s, "postgres") {
		t.Fatalf("secret leaked: %s", s)
	}
}
