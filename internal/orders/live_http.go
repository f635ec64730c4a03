package orders

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/realtime"
)

// Staff tells the live streams whether a caller is staff (may watch any order of the tenant).
type Staff interface {
	IsStaff(ctx context.Context, t *tenancy.Tenant, userID string) (bool, error)
}

// RegisterLiveHTTP adds the server-sent event streams: an order's timeline and courier
// position, the task hall, the admin live feed and a courier's own feed (offers, assignments).
func RegisterLiveHTTP(api huma.API, s *Service, hub *realtime.Hub, staff Staff) {
	h := &liveHandlers{s: s, hub: hub, staff: staff}
	tenant := httpx.ScopeTenant
	unavailable := []int{http.StatusNotFound, http.StatusServiceUnavailable}
	httpx.Register(api, huma.Operation{OperationID: "stream-order", Method: http.MethodGet, Path: "/api/v1/orders/{orderId}/live", Tags: []string{"live"},
		Summary: "Follow an order live: every timeline event in order, chat messages, and the courier's position",
		Description: "For the order's student, its courier and staff. `status` events are the timeline (resumable with Last-Event-ID); " +
			"`chat` events are chat messages; `position` events (not resumable) carry the courier's position and are sent only " +
			"while the order is accepted or picked up — never before a courier accepts or after delivery.",
		Responses: realtime.StreamResponses("Events: status, chat, position."), Errors: unavailable},
		httpx.Perm(tenant, "orderchat:read"), h.order)
	httpx.Register(api, huma.Operation{OperationID: "stream-task-hall", Method: http.MethodGet, Path: "/api/v1/courier/hall/live", Tags: []string{"live"},
		Summary:   "Follow the task hall live: orders opening (hall_open, with their hall entry) and leaving it (hall_closed)",
		Responses: realtime.StreamResponses("Events: hall_open, hall_closed."), Errors: []int{http.StatusServiceUnavailable}},
		httpx.Perm(tenant, "hall:read"), h.hall)
	httpx.Register(api, huma.Operation{OperationID: "stream-courier-feed", Method: http.MethodGet, Path: "/api/v1/courier/live", Tags: []string{"live"},
		Summary:   "A courier's own live feed: dispatch offers and orders assigned to or taken from them",
		Responses: realtime.StreamResponses("Events: offer, offer_closed, assigned, unassigned."), Errors: []int{http.StatusServiceUnavailable}},
		httpx.Perm(tenant, "trips:read"), h.courier)
	httpx.Register(api, huma.Operation{OperationID: "stream-admin-feed", Method: http.MethodGet, Path: "/api/v1/admin/live", Tags: []string{"live"},
		Summary:   "The admin live feed: every order change, waiting-order alerts and exceptions; with map=true, couriers' positions",
		Responses: realtime.StreamResponses("Events: order, order_waiting and, with map=true, position (not resumable)."),
		Errors:    []int{http.StatusServiceUnavailable}},
		httpx.Perm(tenant, "orders:read"), h.admin)
}

type liveHandlers struct {
	s     *Service
	hub   *realtime.Hub
	staff Staff
}

type streamOrderInput struct {
	OrderID string `path:"orderId" format:"uuid"`
	realtime.Resume
}

func (h *liveHandlers) order(ctx context.Context, in *streamOrderInput) (*huma.StreamResponse, error) {
	t, me := caller(ctx)
	student, courier, status, err := h.s.Parties(ctx, t, in.OrderID)
	if err != nil {
		return nil, mapErr(err)
	}
	viewer := ActorStaff
	switch me {
	case student:
		viewer = ActorStudent
	case courier:
		viewer = ActorCourier
	default:
		ok, err := h.staff.IsStaff(ctx, t, me)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, mapErr(ErrNotFound)
		}
	}
	// The stream outlives this handler's context: huma runs the body after it returns, on the
	// request's own context.
	feed, err := h.hub.Follow(context.WithoutCancel(ctx), in.Cursor(), realtime.OrderChannel(t.ID, in.OrderID))
	if err != nil {
		return nil, realtime.Problems.Map(err)
	}
	src := &orderStream{s: h.s, hub: h.hub, t: t, orderID: in.OrderID, feed: feed, status: status, courier: courier,
		watchPositions: viewer != ActorCourier, out: make(chan realtime.Event), done: make(chan struct{})}
	go src.run()
	return realtime.Stream(src, realtime.StreamOptions{}), nil
}

func (h *liveHandlers) hall(ctx context.Context, in *realtime.Resume) (*huma.StreamResponse, error) {
	t, me := caller(ctx)
	if err := h.s.courierApproved(ctx, t, me); err != nil {
		return nil, mapErr(err)
	}
	return h.follow(ctx, in.Cursor(), realtime.HallChannel(t.ID))
}

func (h *liveHandlers) courier(ctx context.Context, in *realtime.Resume) (*huma.StreamResponse, error) {
	t, me := caller(ctx)
	if err := h.s.courierApproved(ctx, t, me); err != nil {
		return nil, mapErr(err)
	}
	return h.follow(ctx, in.Cursor(), realtime.CourierChannel(t.ID, me))
}

type adminFeedInput struct {
	realtime.Resume
	Map bool `query:"map" doc:"Also send every online courier's position (the live map)."`
}

func (h *liveHandlers) admin(ctx context.Context, in *adminFeedInput) (*huma.StreamResponse, error) {
	t, _ := caller(ctx)
	feed, err := h.hub.Follow(context.WithoutCancel(ctx), in.Cursor(), realtime.AdminChannel(t.ID))
	if err != nil {
		return nil, realtime.Problems.Map(err)
	}
	if !in.Map {
		return realtime.Stream(feed, realtime.StreamOptions{}), nil
	}
	positions, err := h.hub.Subscribe(context.WithoutCancel(ctx), realtime.MapChannel(t.ID))
	if err != nil {
		feed.Close()
		return nil, realtime.Problems.Map(err)
	}
	return realtime.Stream(merge(feed, positions), realtime.StreamOptions{}), nil
}

func (h *liveHandlers) follow(ctx context.Context, cursor, channel string) (*huma.StreamResponse, error) {
	feed, err := h.hub.Follow(context.WithoutCancel(ctx), cursor, channel)
	if err != nil {
		return nil, realtime.Problems.Map(err)
	}
	return realtime.Stream(feed, realtime.StreamOptions{}), nil
}

// courierApproved is the hall's gate for live streams.
func (s *Service) courierApproved(ctx context.Context, t *tenancy.Tenant, courierID string) error {
	if s.couriers == nil {
		return ErrCourierNotAllowed
	}
	return s.db.InTenant(ctx, t, func(tx *gorm.DB) error { return s.couriers.CheckApproved(tx, courierID) })
}

// orderStream is an order's feed plus, while the rules allow, its courier's position.
//
// Privacy: a student (or staff) sees the courier's position only while the order is accepted
// or picked up. The stream learns the status from the timeline events it forwards, so the
// position subscription ends as soon as "delivered" (or a release, cancel, reassign) goes
// out, and positions that were in flight are dropped rather than sent after it.
type orderStream struct {
	s              *Service
	hub            *realtime.Hub
	t              *tenancy.Tenant
	orderID        string
	feed           *realtime.Feed
	watchPositions bool

	status  Status
	courier string
	pos     *realtime.Subscription
	posFrom string // the courier pos follows

	out      chan realtime.Event
	done     chan struct{}
	stopOnce sync.Once
	mu       sync.Mutex
	err      error
}

func (o *orderStream) Events() <-chan realtime.Event { return o.out }

func (o *orderStream) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

func (o *orderStream) Close() {
	o.stopOnce.Do(func() { close(o.done) })
	o.feed.Close()
}

func showsPosition(s Status) bool { return s == Accepted || s == PickedUp }

func (o *orderStream) run() {
	defer close(o.out)
	defer func() {
		if o.pos != nil {
			o.pos.Close()
		}
	}()
	o.follow()
	for {
		var positions <-chan realtime.Event
		if o.pos != nil {
			positions = o.pos.Events()
		}
		select {
		case <-o.done:
			return
		case ev, ok := <-o.feed.Events():
			if !ok {
				o.setErr(o.feed.Err())
				return
			}
			if ev.Type == LiveStatus {
				o.observe(ev.Data)
			}
			if !o.send(ev) {
				return
			}
		case ev, ok := <-positions:
			if !ok {
				// Lagged or closed: positions are not replayable, so subscribe again.
				o.pos = nil
				o.follow()
				continue
			}
			if ev.Kind == realtime.KindMessage && showsPosition(o.status) && o.posFrom == o.courier {
				if !o.send(ev) {
					return
				}
			}
		}
	}
}

// observe updates the status (and, on a change of hands, the courier) from a timeline event,
// then starts or stops following positions.
func (o *orderStream) observe(data json.RawMessage) {
	var ev EventRow
	if json.Unmarshal(data, &ev) != nil {
		return
	}
	o.status = Status(ev.ToStatus)
	switch Event(ev.Event) {
	case EventAccept, "reassign", EventRelease:
		if _, courier, _, err := o.s.Parties(context.Background(), o.t, o.orderID); err == nil {
			o.courier = courier
		}
	}
	o.follow()
}

// follow makes the position subscription match the rules for the current status and courier.
func (o *orderStream) follow() {
	want := o.watchPositions && showsPosition(o.status) && o.courier != ""
	if o.pos != nil && (!want || o.posFrom != o.courier) {
		o.pos.Close()
		o.pos, o.posFrom = nil, ""
	}
	if want && o.pos == nil {
		sub, err := o.hub.Subscribe(context.Background(), realtime.PositionChannel(o.t.ID, o.courier))
		if err == nil {
			o.pos, o.posFrom = sub, o.courier
		}
	}
}

func (o *orderStream) send(ev realtime.Event) bool {
	select {
	case o.out <- ev:
		return true
	case <-o.done:
		return false
	}
}

func (o *orderStream) setErr(err error) {
	o.mu.Lock()
	o.err = err
	o.mu.Unlock()
}

// merge sends a resumable feed's events and a live subscription's (positions, not resumable)
// on one stream.
func merge(feed *realtime.Feed, live *realtime.Subscription) realtime.Source {
	m := &merged{feed: feed, live: live, out: make(chan realtime.Event), done: make(chan struct{})}
	go m.run()
	return m
}

type merged struct {
	feed     *realtime.Feed
	live     *realtime.Subscription
	out      chan realtime.Event
	done     chan struct{}
	stopOnce sync.Once
	mu       sync.Mutex
	err      error
}

func (m *merged) Events() <-chan realtime.Event { return m.out }

func (m *merged) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

func (m *merged) Close() {
	m.stopOnce.Do(func() { close(m.done) })
	m.feed.Close()
	m.live.Close()
}

func (m *merged) run() {
	defer close(m.out)
	live := m.live.Events()
	for {
		var ev realtime.Event
		var ok bool
		select {
		case <-m.done:
			return
		case ev, ok = <-m.feed.Events():
			if !ok {
				m.mu.Lock()
				m.err = m.feed.Err()
				m.mu.Unlock()
				return
			}
		case ev, ok = <-live:
			if !ok {
				live = nil // lagged: the map fills in again from the next pings
				continue
			}
		}
		select {
		case m.out <- ev:
		case <-m.done:
			return
		}
	}
}
