package realtime_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/realtime"
)

// baseHosts resolves every host to the base host: the test operations are ScopeAny.
type baseHosts struct{}

func (baseHosts) Resolve(context.Context, string) (tenancy.Host, error) {
	return tenancy.Host{Kind: tenancy.KindBase}, nil
}

func (baseHosts) BySlug(context.Context, string) (*tenancy.Tenant, error) {
	return nil, tenancy.ErrNotFound
}

type testEventsInput struct {
	Channel string `query:"channel" required:"true"`
	realtime.Resume
}

type testRawInput struct{}

// newSSEServer serves a hub through the repository's real HTTP stack (httpx: echo, its
// middleware, huma) on a real socket. readTimeout mimics http.read_timeout.
func newSSEServer(t testing.TB, h *realtime.Hub, opts realtime.StreamOptions, readTimeout time.Duration) (*httptest.Server, *httpx.Server) {
	t.Helper()
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httpx.New(httpx.Deps{Config: cfg, Hosts: baseHosts{}, Log: testLog()})
	httpx.Register(srv.API, huma.Operation{OperationID: "test-events", Method: http.MethodGet, Path: "/api/v1/test/events",
		Summary: "Follow a channel", Responses: realtime.StreamResponses("The channel's events.")},
		httpx.Public(httpx.ScopeAny), func(ctx context.Context, in *testEventsInput) (*huma.StreamResponse, error) {
			feed, err := h.Follow(ctx, in.Cursor(), in.Channel)
			if err != nil {
				return nil, realtime.Problems.Map(err)
			}
			return realtime.Stream(feed, opts), nil
		})
	httpx.Register(srv.API, huma.Operation{OperationID: "test-raw", Method: http.MethodGet, Path: "/api/v1/test/raw",
		Responses: realtime.StreamResponses("Fixed events.")},
		httpx.Public(httpx.ScopeAny), func(ctx context.Context, _ *testRawInput) (*huma.StreamResponse, error) {
			return &huma.StreamResponse{Body: func(hc huma.Context) {
				w, err := realtime.NewWriter(hc, realtime.StreamOptions{Retry: 1500 * time.Millisecond})
				if err != nil {
					t.Error(err)
					return
				}
				defer w.Finish()
				_ = w.Send(realtime.Event{ID: "17-1", Type: "status", Data: json.RawMessage(`{"a":1}`)})
				_ = w.Send(realtime.Event{Data: json.RawMessage("line one\nline two\r\nline three")})
				_ = w.Send(realtime.Event{ID: "17-2\nevil: yes", Type: "message"})
				_ = w.Comment("ping")
			}}, nil
		})
	ts := httptest.NewUnstartedServer(srv)
	ts.Config.ReadTimeout = readTimeout
	ts.Config.ReadHeaderTimeout = readTimeout
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, srv
}

type stream struct {
	resp   *http.Response
	c      *sseClient
	cancel context.CancelFunc
}

// open connects to the test stream of channel with an optional Last-Event-ID.
func open(t testing.TB, ts *httptest.Server, channel, lastID string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/api/v1/test/events?channel="+channel, nil)
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &stream{resp: resp, c: newSSEClient(resp.Body), cancel: cancel}
	t.Cleanup(s.close)
	return s
}

func (s *stream) close() { s.cancel(); _ = s.resp.Body.Close() }

// next reads the next event within d.
func (s *stream) next(t testing.TB, d time.Duration) sseEvent {
	t.Helper()
	type res struct {
		ev  sseEvent
		err error
	}
	ch := make(chan res, 1)
	go func() { ev, err := s.c.next(); ch <- res{ev, err} }()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("read stream: %v", r.err)
		}
		return r.ev
	case <-time.After(d):
		s.close()
		t.Fatalf("no event within %s", d)
	}
	return sseEvent{}
}

func TestSSE(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	rdb := newClient(t, opt)
	h := startHub(t, newClient(t, opt))
	pub := realtime.NewPublisher(rdb)
	ts, _ := newSSEServer(t, h, realtime.StreamOptions{Ping: 100 * time.Millisecond, Retry: 2 * time.Second}, time.Minute)
	ch := realtime.OrderChannel(tenantID(), "o-1")

	s := open(t, ts, ch, "")
	for k, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
		if got := s.resp.Header.Get(k); got != want {
			t.Errorf("%s: %q; want %q", k, got, want)
		}
	}
	if s.resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", s.resp.StatusCode)
	}
	if ev := s.next(t, wait); ev.Retry != "2000" {
		t.Fatalf("first block %+v; want the retry hint 2000", ev)
	}
	ready := s.next(t, wait)
	if ready.Event != "ready" || ready.ID != "0-0" || ready.Data != "{}" {
		t.Fatalf("got %+v; want ready", ready)
	}

	// Each event reaches the client while the response is still open: the stream flushes.
	var ids []string
	for i := range 3 {
		id := publish(t, pub, ch, "status", map[string]int{"n": i})
		ids = append(ids, id)
		ev := s.next(t, wait)
		if ev.ID != id || ev.Event != "status" || ev.Data != `{"n":`+string(rune('0'+i))+`}` {
			t.Fatalf("got %+v; want status %s", ev, id)
		}
	}
	go func() { _, _ = s.c.next() }() // reads comments until the stream is closed below
	eventually(t, wait, "pings", func() bool { return s.c.comments.Load() >= 2 })
	s.close()

	t.Run("Last-Event-ID resumes after the last event received", func(t *testing.T) {
		var missed []string
		for i := range 3 {
			missed = append(missed, publish(t, pub, ch, "status", i+10))
		}
		r := open(t, ts, ch, ids[2])
		r.next(t, wait) // retry
		var got []string
		for range 4 {
			ev := r.next(t, wait)
			got = append(got, ev.Event+"@"+ev.ID)
		}
		want := []string{"status@" + missed[0], "status@" + missed[1], "status@" + missed[2], "ready@" + missed[2]}
		if !slices.Equal(got, want) {
			t.Fatalf("got %q; want %q", got, want)
		}
	})
	t.Run("the query parameter does the same", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/v1/test/events?channel="+ch+"&lastEventId="+ids[1], nil)
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		c := newSSEClient(resp.Body)
		_, _ = c.next()
		if ev, err := c.next(); err != nil || ev.ID != ids[2] {
			t.Fatalf("got %+v, %v; want %s", ev, err, ids[2])
		}
	})
	t.Run("a client leaving releases its subscription", func(t *testing.T) {
		other := realtime.OrderChannel(tenantID(), "o-2")
		r := open(t, ts, other, "")
		r.next(t, wait)
		r.next(t, wait)
		if n := numSub(t, rdb, other); n != 1 {
			t.Fatalf("%d subscribers while connected", n)
		}
		r.close()
		eventually(t, wait, "unsubscribed after the client left", func() bool { return numSub(t, rdb, other) == 0 })
	})
}

// Shutting the hub down (as the server stops) ends open streams, so clients reconnect to
// another replica instead of hanging on to this one.
func TestSSEEndsWhenTheHubCloses(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	h := startHub(t, newClient(t, opt))
	ts, _ := newSSEServer(t, h, realtime.StreamOptions{}, time.Minute)
	s := open(t, ts, realtime.HallChannel(tenantID()), "")
	s.next(t, wait)
	s.next(t, wait)
	done := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, s.resp.Body); done <- err }()
	_ = h.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("stream ended with %v; want a clean end", err)
		}
	case <-time.After(wait):
		t.Fatal("the stream is still open after the hub closed")
	}
}

// The server has a read timeout (http.read_timeout) and no write timeout; a stream must
// outlive the first (net/http lifts the read deadline once a body-less request is read).
// This guards against a timeout middleware or server setting creeping in.
func TestSSEOutlivesTheReadTimeout(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	rdb := newClient(t, opt)
	h := startHub(t, newClient(t, opt))
	ts, _ := newSSEServer(t, h, realtime.StreamOptions{}, 200*time.Millisecond)
	ch := realtime.OrderChannel(tenantID(), "o-1")
	s := open(t, ts, ch, "")
	s.next(t, wait)
	s.next(t, wait)
	time.Sleep(700 * time.Millisecond)
	id := publish(t, realtime.NewPublisher(rdb), ch, "status", 1)
	if ev := s.next(t, wait); ev.ID != id {
		t.Fatalf("got %+v; want %s", ev, id)
	}
}

func TestSSEWriterFormat(t *testing.T) {
	t.Parallel()
	ts, _ := newSSEServer(t, nil, realtime.StreamOptions{}, time.Minute)
	resp, err := ts.Client().Get(ts.URL + "/api/v1/test/raw")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	want := "retry: 1500\n\n" +
		"id: 17-1\nevent: status\ndata: {\"a\":1}\n\n" +
		"data: line one\ndata: line two\ndata: line three\n\n" +
		"id: 17-2\ndata: null\n\n" +
		": ping\n\n"
	if string(body) != want {
		t.Fatalf("body\n%q\nwant\n%q", body, want)
	}
}

func TestSSEUnavailable(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	h := realtime.NewHub(newClient(t, opt), testLog(), realtime.WithSubscribeTimeout(200*time.Millisecond)) // never run
	defer h.Close()
	ts, _ := newSSEServer(t, h, realtime.StreamOptions{}, time.Minute)
	resp, err := ts.Client().Get(ts.URL + "/api/v1/test/events?channel=" + realtime.HallChannel(tenantID()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p httpx.Problem
	_ = json.NewDecoder(resp.Body).Decode(&p)
	if resp.StatusCode != http.StatusServiceUnavailable || p.Code != "live_updates_unavailable" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("%d %+v Retry-After %q; want 503 live_updates_unavailable with Retry-After", resp.StatusCode, p, resp.Header.Get("Retry-After"))
	}
}

func TestSSEOpenAPI(t *testing.T) {
	t.Parallel()
	_, srv := newSSEServer(t, nil, realtime.StreamOptions{}, time.Minute)
	op := srv.API.OpenAPI().Paths["/api/v1/test/events"].Get
	if op == nil {
		t.Fatal("operation missing")
	}
	if _, ok := op.Responses["200"].Content["text/event-stream"]; !ok {
		t.Errorf("200 response content %v; want text/event-stream", op.Responses["200"].Content)
	}
	var params []string
	for _, p := range op.Parameters {
		params = append(params, p.In+":"+p.Name)
	}
	for _, want := range []string{"header:Last-Event-ID", "query:lastEventId", "query:channel"} {
		if !slices.Contains(params, want) {
			t.Errorf("parameters %q lack %s", params, want)
		}
	}
	if !strings.Contains(op.Responses["200"].Description, "Last-Event-ID") {
		t.Error("the response description does not explain resuming")
	}
}
