package realtime

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// DefaultBuffer is how many events a subscription holds for a slow reader before it is
	// dropped as lagged.
	DefaultBuffer = 256
	// DefaultHealthCheck is how long the hub's connection may stay silent before the hub pings
	// Redis; no answer within as long again and the hub reconnects. A connection can die
	// without an error (a NAT or proxy dropping it), and a pub/sub reader would wait forever.
	DefaultHealthCheck = 5 * time.Second
	// DefaultSubscribeTimeout bounds how long Subscribe waits for Redis to confirm.
	DefaultSubscribeTimeout = 5 * time.Second

	healthToken = "rt:health"
)

// Hub fans the messages of one Redis pub/sub connection out to the process's subscribers, so
// that thousands of SSE clients cost one Redis connection. Subscribe and Close are safe for
// concurrent use; Run must be running for subscriptions to be confirmed and fed.
type Hub struct {
	rdb              redis.UniversalClient
	ns               Namespace
	log              *slog.Logger
	replay           *Publisher
	buffer           int
	healthEvery      time.Duration
	subscribeTimeout time.Duration

	// subMu orders the commands that change Redis subscriptions together with the reference
	// counts they follow, so that the UNSUBSCRIBE sent when a channel's last subscriber leaves
	// can never overtake the SUBSCRIBE of the next one to arrive.
	subMu sync.Mutex
	ps    *redis.PubSub // replaced only by Run, under subMu

	mu      sync.RWMutex
	chans   map[string]map[*Subscription]struct{}
	waiters map[string]chan struct{} // ping token -> Subscribe waiting for Redis to confirm
	seq     uint64
	closed  bool
	done    chan struct{}

	started atomic.Bool
	stopped chan struct{}
}

// HubOption tunes a Hub.
type HubOption func(*Hub)

// WithBuffer sets how many events each subscription may hold before it is dropped as lagged.
func WithBuffer(n int) HubOption { return func(h *Hub) { h.buffer = n } }

// WithHealthCheck sets the silence after which the hub pings Redis (and the wait for the
// answer before it reconnects).
func WithHealthCheck(d time.Duration) HubOption { return func(h *Hub) { h.healthEvery = d } }

// WithSubscribeTimeout bounds how long Subscribe waits for Redis to confirm.
func WithSubscribeTimeout(d time.Duration) HubOption {
	return func(h *Hub) { h.subscribeTimeout = d }
}

// NewHub makes a hub on rdb; start it with Run. log may be nil (slog.Default).
func NewHub(rdb redis.UniversalClient, log *slog.Logger, opts ...HubOption) *Hub {
	if log == nil {
		log = slog.Default()
	}
	h := &Hub{
		rdb: rdb, log: log, replay: NewPublisher(rdb),
		buffer: DefaultBuffer, healthEvery: DefaultHealthCheck, subscribeTimeout: DefaultSubscribeTimeout,
		chans: map[string]map[*Subscription]struct{}{}, waiters: map[string]chan struct{}{},
		done: make(chan struct{}), stopped: make(chan struct{}),
	}
	for _, o := range opts {
		o(h)
	}
	if h.buffer < 1 {
		h.buffer = DefaultBuffer
	}
	if h.healthEvery <= 0 {
		h.healthEvery = DefaultHealthCheck
	}
	if h.subscribeTimeout <= 0 {
		h.subscribeTimeout = DefaultSubscribeTimeout
	}
	h.ns = NamespaceOf(rdb)
	// No connection yet: go-redis dials when Run first reads.
	h.ps = rdb.Subscribe(context.Background())
	return h
}

// Run reads the pub/sub connection and dispatches messages until ctx ends or Close is called;
// then it closes the hub (every subscription ends with ErrClosed, so SSE streams finish and
// clients reconnect to another replica). It reconnects by itself after Redis errors. It
// returns nil after a clean stop.
func (h *Hub) Run(ctx context.Context) error {
	if !h.started.CompareAndSwap(false, true) {
		return errors.New("realtime: hub is already running")
	}
	defer close(h.stopped)
	defer h.shutdown()
	stop := context.AfterFunc(ctx, h.shutdown)
	defer stop()

	var (
		lost    bool // the connection failed: subscribers need a resync once it is back
		pinged  bool // a health ping is waiting for its answer
		backoff time.Duration
	)
	for !h.isClosed() {
		msg, err := h.ps.ReceiveTimeout(ctx, h.healthEvery)
		if h.isClosed() {
			break
		}
		if err != nil {
			if readTimeout(err) {
				if pinged {
					h.log.Warn("realtime: Redis pub/sub connection stopped answering; reconnecting")
					h.reset(ctx)
					lost, pinged = true, false
					continue
				}
				pctx, cancel := context.WithTimeout(ctx, h.healthEvery)
				_ = h.ps.Ping(pctx, healthToken)
				cancel()
				pinged = true
				continue
			}
			if !lost {
				h.log.Warn("realtime: Redis pub/sub connection lost", "err", err.Error())
			}
			lost, pinged = true, false
			h.sleep(backoff)
			backoff = min(max(2*backoff, 50*time.Millisecond), 2*time.Second)
			continue
		}
		backoff, pinged = 0, false
		if lost {
			// go-redis has dialled again and resubscribed every channel before this first
			// reply, so events published from now on arrive; what was published meanwhile
			// must come from the replay log.
			lost = false
			h.log.Info("realtime: Redis pub/sub connection restored")
			h.resync(ctx)
		}
		switch m := msg.(type) {
		case *redis.Message:
			h.dispatch(m)
		case *redis.Pong:
			h.wake(m.Payload)
		}
	}
	return nil
}

// Close stops the hub: subscriptions end with ErrClosed and Subscribe refuses new ones. It
// waits for Run to return.
func (h *Hub) Close() error {
	h.shutdown()
	if h.started.Load() {
		<-h.stopped
	}
	return nil
}

func (h *Hub) isClosed() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.closed
}

func (h *Hub) shutdown() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	close(h.done)
	var subs []*Subscription
	for _, set := range h.chans {
		for s := range set {
			subs = append(subs, s)
		}
	}
	h.mu.Unlock()
	h.subMu.Lock()
	_ = h.ps.Close() // interrupts Run's read
	h.subMu.Unlock()
	for _, s := range subs {
		s.end(ErrClosed)
	}
}

func (h *Hub) sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-h.done:
	}
}

// readTimeout tells the health-check timeout of a read apart from a failed dial.
func readTimeout(err error) bool {
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		return false
	}
	var op *net.OpError
	return !errors.As(err, &op) || op.Op != "dial"
}

// reset replaces a connection that stopped answering with a new one on the same channels.
func (h *Hub) reset(ctx context.Context) {
	h.subMu.Lock()
	h.mu.RLock()
	if h.closed { // shutdown closes whatever h.ps is once it gets subMu
		h.mu.RUnlock()
		h.subMu.Unlock()
		return
	}
	chans := make([]string, 0, len(h.chans))
	for c := range h.chans {
		chans = append(chans, c)
	}
	h.mu.RUnlock()
	old := h.ps
	h.ps = h.rdb.Subscribe(ctx)
	if len(chans) > 0 {
		wctx, cancel := context.WithTimeout(ctx, h.subscribeTimeout)
		h.subscribe(wctx, chans)
		cancel()
	}
	h.subMu.Unlock()
	_ = old.Close()
}

// subscribe sends SUBSCRIBE; the caller holds subMu. go-redis records the channels even when
// the command fails, and subscribes them again whenever it reconnects, with one exception: when
// the write itself fails it reconnects before recording them. The second attempt covers that.
func (h *Hub) subscribe(ctx context.Context, chans []string) {
	wire := h.ns.wire(chans)
	if err := h.ps.Subscribe(ctx, wire...); err != nil {
		if err := h.ps.Subscribe(ctx, wire...); err != nil {
			h.log.Debug("realtime: subscribe deferred until Redis answers", "err", err.Error())
		}
	}
}

// resync tells every subscriber that messages may have been missed, and asks again for the
// confirmations that Subscribe calls were waiting for on the lost connection.
func (h *Hub) resync(ctx context.Context) {
	h.mu.RLock()
	seen := map[*Subscription]bool{}
	var lagged []*Subscription
	for _, set := range h.chans {
		for s := range set {
			if !seen[s] {
				seen[s] = true
				if s.offer(Event{Kind: KindResync}) {
					lagged = append(lagged, s)
				}
			}
		}
	}
	tokens := make([]string, 0, len(h.waiters))
	for t := range h.waiters {
		tokens = append(tokens, t)
	}
	h.mu.RUnlock()
	h.dropLagged(lagged)
	if len(tokens) == 0 {
		return
	}
	h.subMu.Lock()
	defer h.subMu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, h.subscribeTimeout)
	defer cancel()
	for _, t := range tokens {
		_ = h.ps.Ping(wctx, t)
	}
}

func (h *Hub) dispatch(m *redis.Message) {
	channel, mine := h.ns.local(m.Channel)
	if !mine {
		return
	}
	ev, ok := decodePayload(channel, m.Payload)
	if !ok {
		h.log.Debug("realtime: ignored a message not published by realtime.Publisher", "channel", m.Channel)
		return
	}
	var lagged []*Subscription
	h.mu.RLock()
	for s := range h.chans[channel] {
		if s.offer(ev) {
			lagged = append(lagged, s)
		}
	}
	h.mu.RUnlock()
	h.dropLagged(lagged)
}

func (h *Hub) dropLagged(subs []*Subscription) {
	for _, s := range subs {
		h.log.Info("realtime: dropped a subscriber that fell behind", "channels", s.channels)
		// Off the read loop: ending a subscription may send UNSUBSCRIBE.
		go s.end(ErrLagged)
	}
}

func (h *Hub) wake(token string) {
	h.mu.Lock()
	if w, ok := h.waiters[token]; ok {
		close(w)
		delete(h.waiters, token)
	}
	h.mu.Unlock()
}

// Subscribe subscribes to channels and returns once Redis has confirmed, so that anything
// published from then on is delivered: read a replay log only after Subscribe returns (Follow
// does this). It fails with ErrUnavailable when Redis does not confirm within the subscribe
// timeout, ErrClosed after Close, or ctx's error. The caller must Close the subscription.
func (h *Hub) Subscribe(ctx context.Context, channels ...string) (*Subscription, error) {
	if len(channels) == 0 {
		return nil, ErrInvalidChannel
	}
	uniq := make([]string, 0, len(channels))
	seen := map[string]bool{}
	for _, c := range channels {
		if !validChannel(c) {
			return nil, ErrInvalidChannel
		}
		if !seen[c] {
			seen[c] = true
			uniq = append(uniq, c)
		}
	}
	s := &Subscription{hub: h, channels: uniq, ch: make(chan Event, h.buffer)}
	wait := make(chan struct{})

	h.subMu.Lock()
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		h.subMu.Unlock()
		return nil, ErrClosed
	}
	var fresh []string
	for _, c := range uniq {
		set := h.chans[c]
		if set == nil {
			set = map[*Subscription]struct{}{}
			h.chans[c] = set
			fresh = append(fresh, c)
		}
		set[s] = struct{}{}
	}
	h.seq++
	token := "rt:sub:" + strconv.FormatUint(h.seq, 10)
	h.waiters[token] = wait
	h.mu.Unlock()
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.subscribeTimeout)
	if len(fresh) > 0 {
		h.subscribe(wctx, fresh)
	}
	// The PING is answered after the SUBSCRIBE before it (one connection, in order), and also
	// after any SUBSCRIBE another caller sent for these channels that is still in flight.
	_ = h.ps.Ping(wctx, token)
	cancel()
	h.subMu.Unlock()

	timer := time.NewTimer(h.subscribeTimeout)
	defer timer.Stop()
	var err error
	select {
	case <-wait:
		return s, nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = ErrUnavailable
	case <-h.done:
		err = ErrClosed
	}
	h.mu.Lock()
	delete(h.waiters, token)
	h.mu.Unlock()
	s.end(err)
	return nil, err
}

// remove takes s off the hub and unsubscribes the channels nobody else here listens to.
func (h *Hub) remove(s *Subscription) {
	h.subMu.Lock()
	defer h.subMu.Unlock()
	h.mu.Lock()
	var gone []string
	for _, c := range s.channels {
		set := h.chans[c]
		delete(set, s)
		if set != nil && len(set) == 0 {
			delete(h.chans, c)
			gone = append(gone, c)
		}
	}
	closed := h.closed
	h.mu.Unlock()
	if len(gone) == 0 || closed {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.subscribeTimeout)
	defer cancel()
	// On failure go-redis has already forgotten the channels, so a reconnect will not
	// subscribe them again.
	_ = h.ps.Unsubscribe(ctx, h.ns.wire(gone)...)
}

// Subscription receives the events of its channels, in publish order per channel.
type Subscription struct {
	hub      *Hub
	channels []string
	ch       chan Event
	dropped  atomic.Bool
	once     sync.Once
	mu       sync.Mutex
	err      error
}

// Events delivers events and KindResync markers. It is closed when the subscription ends;
// Err then says why.
func (s *Subscription) Events() <-chan Event { return s.ch }

// Err is nil after Close, ErrLagged when the reader fell behind, ErrClosed when the hub shut
// down.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Channels lists the subscription's channels.
func (s *Subscription) Channels() []string { return append([]string(nil), s.channels...) }

// Close ends the subscription; Events is closed. It is safe to call more than once.
func (s *Subscription) Close() { s.end(nil) }

// offer hands ev to the subscription without blocking the hub; it reports true when this
// made the subscription lag (the caller then drops it). Only the hub's read loop calls it,
// under the hub's read lock, so it never races with end closing the channel.
func (s *Subscription) offer(ev Event) bool {
	if s.dropped.Load() {
		return false
	}
	select {
	case s.ch <- ev:
		return false
	default:
		return s.dropped.CompareAndSwap(false, true)
	}
}

func (s *Subscription) end(err error) {
	s.once.Do(func() {
		s.dropped.Store(true)
		s.hub.remove(s)
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(s.ch)
	})
}
