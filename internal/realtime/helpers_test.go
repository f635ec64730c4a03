package realtime_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paotui/paotui/internal/realtime"
	"github.com/paotui/paotui/internal/store/storetest"
)

func testLog() *slog.Logger {
	if os.Getenv("PAOTUI_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// redisOptions leases a Redis database for t (storetest.Redis) and names its connections, so
// a test can find its own in CLIENT LIST.
func redisOptions(t testing.TB) *redis.Options {
	t.Helper()
	opt, err := redis.ParseURL(storetest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	opt.ClientName = "rt-test-" + randHex(6)
	return opt
}

func newClient(t testing.TB, opt *redis.Options) *redis.Client {
	t.Helper()
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// tenantID is random because pub/sub channels are shared by every Redis database: test
// packages running at the same time must not hear each other.
func tenantID() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.BigEndian.Uint64(b[:])>>2) + 1
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startHub runs a hub until the test ends.
func startHub(t testing.TB, rdb redis.UniversalClient, opts ...realtime.HubOption) *realtime.Hub {
	t.Helper()
	h := realtime.NewHub(rdb, testLog(), opts...)
	errc := make(chan error, 1)
	go func() { errc <- h.Run(context.Background()) }()
	t.Cleanup(func() {
		_ = h.Close()
		if err := <-errc; err != nil {
			t.Errorf("hub Run: %v", err)
		}
	})
	return h
}

func subscribe(t testing.TB, h *realtime.Hub, channels ...string) *realtime.Subscription {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := h.Subscribe(ctx, channels...)
	if err != nil {
		t.Fatalf("subscribe %v: %v", channels, err)
	}
	t.Cleanup(s.Close)
	return s
}

func follow(t testing.TB, h *realtime.Hub, last string, channels ...string) *realtime.Feed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f, err := h.Follow(context.WithoutCancel(ctx), last, channels...)
	if err != nil {
		t.Fatalf("follow %v: %v", channels, err)
	}
	t.Cleanup(f.Close)
	return f
}

func publish(t testing.TB, p *realtime.Publisher, channel, typ string, data any) string {
	t.Helper()
	id, err := p.Publish(context.Background(), channel, typ, data)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return id
}

// next waits for the next event, failing the test after d.
func next(t testing.TB, ch <-chan realtime.Event, d time.Duration) realtime.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("events closed")
		}
		return ev
	case <-time.After(d):
		t.Fatalf("no event within %s", d)
	}
	return realtime.Event{}
}

// nextMessage skips resync markers.
func nextMessage(t testing.TB, ch <-chan realtime.Event, d time.Duration) realtime.Event {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ev := next(t, ch, time.Until(deadline))
		if ev.Kind == realtime.KindMessage {
			return ev
		}
	}
}

// quiet fails if an event arrives within d.
func quiet(t testing.TB, ch <-chan realtime.Event, d time.Duration) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if ok {
			t.Fatalf("unexpected event %+v", ev)
		}
	case <-time.After(d):
	}
}

// eventually polls cond until it holds or d passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func numSub(t testing.TB, rdb *redis.Client, channel string) int64 {
	t.Helper()
	channel = realtime.NamespaceOf(rdb).Wire(channel)
	m, err := rdb.PubSubNumSub(context.Background(), channel).Result()
	if err != nil {
		t.Fatal(err)
	}
	return m[channel]
}

// proxy sits between a hub and Redis so a test can take Redis away: refuse new connections,
// cut the open ones, or silently stop forwarding on them (a connection dying without an
// error, as behind a NAT).
type proxy struct {
	ln     net.Listener
	target string
	down   atomic.Bool
	delay  atomic.Int64 // nanoseconds each chunk waits before it is forwarded
	mu     sync.Mutex
	pairs  []*pair
}

type pair struct {
	a, b net.Conn
	dead atomic.Bool
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(func() { _ = ln.Close(); p.cut() })
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			_ = c.Close()
			continue
		}
		r, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		pr := &pair{a: c, b: r}
		p.mu.Lock()
		p.pairs = append(p.pairs, pr)
		p.mu.Unlock()
		go pr.pipe(c, r, &p.delay)
		go pr.pipe(r, c, &p.delay)
	}
}

func (pr *pair) pipe(src, dst net.Conn, delay *atomic.Int64) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if d := delay.Load(); n > 0 && d > 0 {
			time.Sleep(time.Duration(d))
		}
		if n > 0 && !pr.dead.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	_ = src.Close()
	_ = dst.Close()
}

// cut closes every open connection.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.pairs {
		_ = pr.a.Close()
		_ = pr.b.Close()
	}
	p.pairs = nil
}

// blackhole stops forwarding on the open connections but leaves them open.
func (p *proxy) blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.pairs {
		pr.dead.Store(true)
	}
}

// sseEvent is one event as a client parsed it.
type sseEvent struct {
	ID, Event, Data string
	Retry           string
}

// sseClient reads an event stream line by line, as EventSource does, and also keeps comments.
type sseClient struct {
	rd       *bufio.Reader
	comments atomic.Int64
}

func newSSEClient(r io.Reader) *sseClient { return &sseClient{rd: bufio.NewReader(r)} }

// next returns the next event (or retry-only block).
func (c *sseClient) next() (sseEvent, error) {
	var ev sseEvent
	var data []string
	seen := false
	for {
		line, err := c.rd.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			if seen {
				ev.Data = strings.Join(data, "\n")
				return ev, nil
			}
			continue
		}
		if strings.HasPrefix(line, ":") {
			c.comments.Add(1)
			continue
		}
		seen = true
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			ev.ID = value
		case "event":
			ev.Event = value
		case "data":
			data = append(data, value)
		case "retry":
			ev.Retry = value
		}
	}
}
