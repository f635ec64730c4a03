// Package storetest gives integration tests their own PostgreSQL database and Redis database,
// so test packages run in parallel against the real services without seeing each other.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/store"
)

// AdminURL is the server used to create test databases: PAOTUI_TEST_DATABASE_URL, else the
// local trust-auth default.
func AdminURL() string {
	if u := os.Getenv("PAOTUI_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// RedisURL is the Redis server for tests: PAOTUI_TEST_REDIS_URL, else localhost.
func RedisURL() string {
	if u := os.Getenv("PAOTUI_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// Database is a fresh database for one test (or one package through TestMain).
type Database struct {
	Name string
	URL  string
}

// CreateDatabase makes an empty database named after prefix plus a random suffix.
func CreateDatabase(ctx context.Context, prefix string) (*Database, error) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "paotui_test_" + sanitize(prefix) + "_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return nil, fmt.Errorf("connect to test PostgreSQL at %s: %w", AdminURL(), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, err
	}
	u, _ := url.Parse(AdminURL())
	u.Path = "/" + name
	return &Database{Name: name, URL: u.String()}, nil
}

// Drop removes the database, disconnecting anyone still on it.
func (d *Database) Drop(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d.Name}.Sanitize()+" WITH (FORCE)")
	return err
}

// Config returns the default configuration pointed at this database and the given Redis URL.
func (d *Database) Config(t testing.TB, redisURL string) *config.Config {
	t.Helper()
	c, err := config.Load("", []string{"PAOTUI_DATABASE_URL=" + d.URL, "PAOTUI_REDIS_URL=" + redisURL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// New creates a database for t, migrates the control plane, opens it and drops it when t ends.
func New(t testing.TB) (*store.DB, *Database) {
	t.Helper()
	ctx := context.Background()
	d, err := CreateDatabase(ctx, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Drop(context.Background()) })
	if err := store.NewMigrator(d.URL, 4, nil).UpPlatform(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := d.Config(t, RedisURL())
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, d
}

// Redis hands t a Redis database (1..15) of its own, flushed, leased through a key in DB 0 so
// parallel test packages never share one (asynq keys are not prefixed per user). It returns
// the URL for that database.
func Redis(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	base, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	ctl := redis.NewClient(base)
	defer ctl.Close()
	token := t.Name() + time.Now().String()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		for n := 1; n <= 15; n++ {
			key := fmt.Sprintf("paotui:test:redisdb:%d", n)
			ok, err := ctl.SetNX(ctx, key, token, 10*time.Minute).Result()
			if err != nil {
				t.Fatalf("Redis at %s: %v", RedisURL(), err)
			}
			if !ok {
				continue
			}
			opt := *base
			opt.DB = n
			c := redis.NewClient(&opt)
			if err := c.FlushDB(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			_ = c.Close()
			t.Cleanup(func() {
				c := redis.NewClient(base)
				defer c.Close()
				if v, _ := c.Get(context.Background(), key).Result(); v == token {
					c.Del(context.Background(), key)
				}
			})
			u, _ := url.Parse(RedisURL())
			u.Path = fmt.Sprintf("/%d", n)
			return u.String()
		}
		if time.Now().After(deadline) {
			t.Fatal("no free Redis test database (1..15) within 2 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func sanitize(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		if b.Len() >= 24 {
			break
		}
	}
	return b.String()
}
