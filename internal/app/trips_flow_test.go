package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"maps"
	"math"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/ledger/ledgertest"
	"github.com/paotui/paotui/internal/realtime"
	"github.com/paotui/paotui/internal/tracking"
)

// liveWait bounds the wait for one live event. Status changes travel outbox → relay → asynq
// → worker → Redis → hub → stream, which takes about a second on an idle worker; the margin is
// for a loaded CI machine.
const liveWait = 10 * time.Second

// liveEvent is one server-sent event as EventSource dispatches it.
type liveEvent struct {
	ID   string
	Type string
	Data json.RawMessage
}

// liveStream is an SSE client on a real connection: it reads in the background, as EventSource
// does, so the test sees each event when the server flushes it (apptest.Do reads only a
// stream's head).
type liveStream struct {
	name   string
	events chan liveEvent
	cancel context.CancelFunc
	done   chan struct{}
	err    error  // why the stream ended; read only once events is closed
	lastID string // the id EventSource would send as Last-Event-ID
}

// live opens an event stream on the campus host as the holder of token, resuming after
// lastEventID when it is not empty. The stream is closed when the test ends.
func (e *errandEnv) live(t *testing.T, name, path, token, lastEventID string) *liveStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.HTTP.URL+path, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	req.Host = e.host
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	res, err := e.HTTP.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatalf("%s: %v", name, err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		raw, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		cancel()
		t.Fatalf("%s: %d %s %s", name, res.StatusCode, res.Header.Get("Content-Type"), raw)
	}
	s := &liveStream{name: name, events: make(chan liveEvent, 256), cancel: cancel, done: make(chan struct{})}
	go s.read(ctx, res.Body)
	t.Cleanup(s.close)
	return s
}

// read parses the stream as the SSE specification says: fields until a blank line, comments
// (": ping") ignored, and a block without data (the retry hint) never dispatched.
func (s *liveStream) read(ctx context.Context, body io.ReadCloser) {
	defer close(s.done)
	defer close(s.events)
	defer body.Close()
	rd := bufio.NewReader(body)
	var (
		ev   liveEvent
		data []string
	)
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			s.err = err
			return
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		switch {
		case line == "":
			if data != nil {
				ev.Data = json.RawMessage(strings.Join(data, "\n"))
				select {
				case s.events <- ev:
				case <-ctx.Done():
					s.err = ctx.Err()
					return
				}
			}
			ev, data = liveEvent{}, nil
		case strings.HasPrefix(line, ":"):
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				ev.ID = value
			case "event":
				ev.Type = value
			case "data":
				data = append(data, value)
			}
		}
	}
}

// next is the stream's next event; it fails the test when none comes within liveWait.
func (s *liveStream) next(t *testing.T) liveEvent {
	t.Helper()
	timer := time.NewTimer(liveWait)
	defer timer.Stop()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatalf("%s: the stream ended: %v", s.name, s.err)
		}
		if ev.ID != "" {
			s.lastID = ev.ID
		}
		return ev
	case <-timer.C:
		t.Fatalf("%s: no event within %s", s.name, liveWait)
	}
	return liveEvent{}
}

// ready checks that a stream opened without a cursor starts with "ready".
func (s *liveStream) ready(t *testing.T) {
	t.Helper()
	if ev := s.next(t); ev.Type != realtime.TypeReady {
		t.Fatalf("%s: first event %s %s; want ready", s.name, ev.Type, ev.Data)
	}
}

// quiet fails the test if any event arrives within d.
func (s *liveStream) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if ok {
			t.Fatalf("%s: unexpected %s event %s", s.name, ev.Type, ev.Data)
		}
		t.Fatalf("%s: the stream ended: %v", s.name, s.err)
	case <-time.After(d):
	}
}

// drained fails the test if an event the test has not read is waiting.
func (s *liveStream) drained(t *testing.T) {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if ok {
			t.Fatalf("%s: unexpected %s event %s", s.name, ev.Type, ev.Data)
		}
		t.Fatalf("%s: the stream ended: %v", s.name, s.err)
	default:
	}
}

func (s *liveStream) close() {
	s.cancel()
	<-s.done
}

// decodeLive decodes an event's data, failing the test on error.
func decodeLive[T any](t *testing.T, ev liveEvent) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(ev.Data, &v); err != nil {
		t.Fatalf("%s event %s: %v", ev.Type, ev.Data, err)
	}
	return v
}

// flowEvent is a timeline event, as get-order lists it and stream-order sends it.
type flowEvent struct {
	ID         int64   `json:"id"`
	Event      string  `json:"event"`
	FromStatus *string `json:"fromStatus"`
	ToStatus   string  `json:"toStatus"`
	ActorKind  string  `json:"actorKind"`
}

func (ev flowEvent) String() string {
	from := "∅"
	if ev.FromStatus != nil {
		from = *ev.FromStatus
	}
	return strings.Join([]string{ev.Event, from, "→", ev.ToStatus}, " ")
}

type flowPoint struct{ Lng, Lat float64 }

// flowCourier is a courier of the flow: where they hang around, and when they last pinged.
type flowCourier struct {
	name string
	*apptest.Session
	base     flowPoint
	pings    int
	lastPing time.Time
}

// tripFlow is the campus with its students, couriers and running worker.
type tripFlow struct {
	*errandEnv
	photo    []byte
	students []*apptest.Session
	couriers []*flowCourier
	// Dispatch mode: who declined and who accepted the offer, and where every courier was
	// when the batches ran.
	declined, accepted *flowCourier
	dispatchedFrom     map[*flowCourier]flowPoint
}

// pickupPoint is every flow order's pickup, 菜鸟驿站(南区).
var pickupPoint = flowPoint{Lng: 114.365, Lat: 30.53041}

// newTripFlow starts the worker and brings three students with money and three online
// couriers: the demo campus's two, and one who applies and is approved over HTTP.
func newTripFlow(t *testing.T) *tripFlow {
	t.Helper()
	// Pings every 300 ms instead of production's 2 s keep the test short.
	e := newErrandEnv(t, "PAOTUI_TRACKING_PING_INTERVAL=300ms")
	f := &tripFlow{errandEnv: e, photo: pngPhoto(t), dispatchedFrom: map[*flowCourier]flowPoint{}}
	ctx, cancel := context.WithCancel(context.Background())
	workerDone := make(chan error, 1)
	go func() { workerDone <- e.App.RunWorker(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-workerDone; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	s3 := e.Login("campus", "13900000003") // a new phone signs up by SMS login
	if !slices.Contains(s3.User.Roles, "student") {
		t.Fatalf("a first sign-in made roles %v; want student", s3.User.Roles)
	}
	f.students = []*apptest.Session{e.student, e.Login("campus", "13900000002"), s3}
	for _, s := range f.students[1:] {
		f.topUp(t, s)
	}
	// Couriers wait a few dozen metres apart north of the pickup.
	near := func(metres float64) flowPoint { return flowPoint{pickupPoint.Lng, pickupPoint.Lat + metres/111_195} }
	f.couriers = []*flowCourier{
		{name: "王五", Session: e.courier, base: near(33)},
		{name: "赵六", Session: e.onlineCourier(t, "13700000002"), base: near(100)},
		{name: "孙七", Session: f.newCourier(t, "13600000001", "孙七", "2024A0001"), base: near(167)},
	}
	return f
}

// ping posts the courier's position, a few metres on from the last one, once the minimum
// interval since their last ping has passed (a faster ping is refused, see the refusal test).
func (f *tripFlow) ping(t *testing.T, c *flowCourier) flowPoint {
	t.Helper()
	if wait := f.App.Cfg.Tracking.PingInterval + 100*time.Millisecond - time.Since(c.lastPing); wait > 0 {
		time.Sleep(wait)
	}
	c.pings++
	p := flowPoint{Lng: c.base.Lng + float64(c.pings)*0.00003, Lat: c.base.Lat}
	r := f.Do(f.host, "POST", "/api/v1/courier/location", c.AccessToken, map[string]any{"lng": p.Lng, "lat": p.Lat, "accuracy": 8})
	if r.Status != http.StatusNoContent {
		t.Fatalf("post-location %s: %d %s", c.name, r.Status, r.Body)
	}
	c.lastPing = time.Now()
	return p
}

// topUp gives a student ¥100 through a staff top-up.
func (f *tripFlow) topUp(t *testing.T, s *apptest.Session) {
	t.Helper()
	r := f.Do(f.host, "POST", "/api/v1/users/"+s.User.ID+"/wallet/topups", f.owner.AccessToken,
		map[string]any{"amount": 10000, "reason": "welcome credit"})
	if r.Status != http.StatusOK {
		t.Fatalf("staff top-up: %d %s", r.Status, r.Body)
	}
}

// newCourier signs phone up as a student, who applies to run errands; the owner approves the
// application and the new courier goes online.
func (f *tripFlow) newCourier(t *testing.T, phone, name, studentNo string) *apptest.Session {
	t.Helper()
	s := f.Login("campus", phone)
	r := f.Do(f.host, "POST", "/api/v1/courier/application", s.AccessToken,
		map[string]any{"realName": name, "studentNo": studentNo, "vehicle": "bike"})
	if r.Status != http.StatusCreated || !strings.Contains(string(r.Body), `"status":"pending"`) {
		t.Fatalf("apply-courier: %d %s", r.Status, r.Body)
	}
	if r := f.Do(f.host, "POST", "/api/v1/courier/online", s.AccessToken, nil); r.Status != http.StatusForbidden {
		t.Fatalf("go-online before approval: %d %s", r.Status, r.Body)
	}
	r = f.Do(f.host, "POST", "/api/v1/admin/couriers/"+s.User.ID+"/approve", f.owner.AccessToken, nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"status":"approved"`) {
		t.Fatalf("approve-courier: %d %s", r.Status, r.Body)
	}
	if r := f.Do(f.host, "POST", "/api/v1/courier/online", s.AccessToken, nil); r.Status != http.StatusOK {
		t.Fatalf("go-online after approval: %d %s", r.Status, r.Body)
	}
	return s
}

// place quotes and creates an order for student over HTTP.
func (f *tripFlow) place(t *testing.T, student *apptest.Session, tip int) orderView {
	t.Helper()
	r := f.Do(f.host, "POST", "/api/v1/orders/quote", student.AccessToken, f.quoteBody(tip))
	var q struct{ Token string }
	r.JSON(t, &q)
	if r.Status != http.StatusOK || q.Token == "" {
		t.Fatalf("quote: %d %s", r.Status, r.Body)
	}
	body := f.quoteBody(tip)
	body["quoteToken"] = q.Token
	r = f.Do(f.host, "POST", "/api/v1/orders", student.AccessToken, body)
	var o orderView
	r.JSON(t, &o)
	if r.Status != http.StatusCreated || o.Status != "awaiting_payment" {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	return o
}

func (f *tripFlow) pay(t *testing.T, student *apptest.Session, o orderView) {
	t.Helper()
	r := f.Do(f.host, "POST", "/api/v1/orders/"+o.ID+"/pay", student.AccessToken, map[string]string{"method": "wallet"})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"status":"awaiting_courier"`) {
		t.Fatalf("pay %s: %d %s", o.Number, r.Status, r.Body)
	}
}

// step runs a courier's or student's order operation and checks the status it leads to.
func (f *tripFlow) step(t *testing.T, token, orderID, op string, body any, want string) {
	t.Helper()
	r := f.Do(f.host, "POST", "/api/v1/orders/"+orderID+"/"+op, token, body)
	var v orderView
	r.JSON(t, &v)
	if r.Status != http.StatusOK || v.Status != want {
		t.Fatalf("%s %s: %d %s; want %s", op, orderID, r.Status, r.Body, want)
	}
}

// flowOrder is one errand of the flow and its student's live view of it.
type flowOrder struct {
	name    string
	student *apptest.Session
	courier *flowCourier
	order   orderView
	reward  int64 // what the hall or the offer said the courier would earn
	stream  *liveStream
	// seen is every status event the student's streams delivered, across reconnects.
	seen []flowEvent
}

// watch opens the student's stream-order. The student connects just after creating the order,
// while the worker may already be publishing, so it asks for the channel from its start
// (Last-Event-ID 0-0, "before the log existed"): the comparison with the timeline at the end
// then covers every event, not whatever followed the connection.
func (f *tripFlow) watch(t *testing.T, o *flowOrder, lastEventID string) {
	t.Helper()
	o.stream = f.live(t, o.name, "/api/v1/orders/"+o.order.ID+"/live", o.student.AccessToken, lastEventID)
}

// until reads the order's stream up to the status event that moves it to status. Only
// status events (and the ready marker) may arrive: a position here is one the student should
// not have been sent.
func (o *flowOrder) until(t *testing.T, status string) {
	t.Helper()
	for {
		ev := o.stream.next(t)
		switch ev.Type {
		case realtime.TypeReady:
		case "status":
			se := decodeLive[flowEvent](t, ev)
			o.seen = append(o.seen, se)
			if se.ToStatus == status {
				return
			}
		default:
			t.Fatalf("%s: %s event %s while waiting for %s", o.name, ev.Type, ev.Data, status)
		}
	}
}

// position checks that the student's next event is the courier's position just posted.
func (o *flowOrder) position(t *testing.T, p flowPoint) {
	t.Helper()
	ev := o.stream.next(t)
	if ev.Type == realtime.TypeReady { // a resumed stream is caught up
		ev = o.stream.next(t)
	}
	if ev.Type != tracking.PositionEvent {
		t.Fatalf("%s: %s event %s; want the courier's position", o.name, ev.Type, ev.Data)
	}
	fix := decodeLive[struct {
		CourierID string  `json:"courierId"`
		Lng       float64 `json:"lng"`
		Lat       float64 `json:"lat"`
	}](t, ev)
	if fix.CourierID != o.courier.User.ID || math.Abs(fix.Lng-p.Lng) > 1e-9 || math.Abs(fix.Lat-p.Lat) > 1e-9 {
		t.Fatalf("%s: position %s; want %s at %v", o.name, ev.Data, o.courier.name, p)
	}
}

// requireTimeline compares what the student's streams delivered with get-order's timeline:
// the same events in the same order, none twice, none missing, and nothing after them (no
// position of the courier's later pings either).
func (f *tripFlow) requireTimeline(t *testing.T, o *flowOrder, want []string) {
	t.Helper()
	r := f.Do(f.host, "GET", "/api/v1/orders/"+o.order.ID, o.student.AccessToken, nil)
	var v struct {
		Status   string      `json:"status"`
		Timeline []flowEvent `json:"timeline"`
	}
	r.JSON(t, &v)
	if r.Status != http.StatusOK || v.Status != "completed" {
		t.Fatalf("get-order %s: %d %s", o.name, r.Status, r.Body)
	}
	var events []string
	for _, ev := range v.Timeline {
		events = append(events, ev.Event)
	}
	if !slices.Equal(events, want) {
		t.Fatalf("%s: timeline %v; want %v", o.name, events, want)
	}
	if len(o.seen) != len(v.Timeline) {
		t.Fatalf("%s: the stream delivered %d status events %v; the timeline has %d %v", o.name, len(o.seen), o.seen, len(v.Timeline), v.Timeline)
	}
	for i, got := range o.seen {
		w := v.Timeline[i]
		if got.ID != w.ID || got.Event != w.Event || got.ToStatus != w.ToStatus || got.String() != w.String() || got.ActorKind != w.ActorKind {
			t.Fatalf("%s: stream event %d is %d %s; timeline has %d %s", o.name, i, got.ID, got, w.ID, w)
		}
	}
	o.stream.drained(t)
}

// waitReplayed waits until the order's replay log holds an event after id, so a client that
// reconnects from id has something to catch up on.
func (f *tripFlow) waitReplayed(t *testing.T, orderID, id string) {
	t.Helper()
	channel := realtime.OrderChannel(f.tenant(t).ID, orderID)
	deadline := time.Now().Add(liveWait)
	for {
		evs, err := f.App.Live.Since(context.Background(), channel, id, 10)
		if err != nil {
			t.Fatalf("replay log of %s after %s: %v", orderID, id, err)
		}
		if len(evs) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing published on %s after %s within %s", channel, id, liveWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// uploadPhoto uploads a delivery photo as the order's courier and returns its id.
func (f *tripFlow) uploadPhoto(t *testing.T, c *flowCourier, orderID string) string {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="photo"; filename="door.png"`)
	h.Set("Content-Type", "image/png")
	part, err := w.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = part.Write(f.photo)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, f.HTTP.URL+"/api/v1/orders/"+orderID+"/photos", &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = f.host
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+c.AccessToken)
	res, err := f.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var ph struct {
		ID          string `json:"id"`
		ContentType string `json:"contentType"`
	}
	_ = json.Unmarshal(raw, &ph)
	if res.StatusCode != http.StatusCreated || ph.ID == "" || ph.ContentType != "image/png" {
		t.Fatalf("upload-delivery-photo: %d %s", res.StatusCode, raw)
	}
	return ph.ID
}

// pngPhoto is a small real PNG: the upload judges the type from the bytes.
func pngPhoto(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := range 8 {
		img.Set(x, x, color.RGBA{R: 200, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type flowOffer struct {
	ID      string `json:"id"`
	OrderID string `json:"orderId"`
	Status  string `json:"status"`
	Reward  int64  `json:"reward"`
}

// offered waits until exactly one courier holds a pending offer of orderID (made by
// the batch the test ran or by the worker's tick, whichever came first) and returns them.
func (f *tripFlow) offered(t *testing.T, orderID string) (*flowCourier, flowOffer) {
	t.Helper()
	deadline := time.Now().Add(liveWait)
	for {
		var (
			who   []*flowCourier
			offer flowOffer
		)
		for _, c := range f.couriers {
			r := f.Do(f.host, "GET", "/api/v1/courier/offers", c.AccessToken, nil)
			var list struct {
				Items []flowOffer `json:"items"`
				Total int64       `json:"total"`
			}
			r.JSON(t, &list)
			if r.Status != http.StatusOK || list.Items == nil {
				t.Fatalf("list-my-offers %s: %d %s", c.name, r.Status, r.Body)
			}
			for _, o := range list.Items {
				if o.OrderID != orderID || o.Status != "pending" {
					t.Fatalf("list-my-offers %s: unexpected offer %+v", c.name, o)
				}
				who, offer = append(who, c), o
			}
		}
		switch {
		case len(who) > 1:
			t.Fatalf("order %s offered to %d couriers at once", orderID, len(who))
		case len(who) == 1:
			return who[0], offer
		case time.Now().After(deadline):
			t.Fatalf("order %s was offered to nobody within %s", orderID, liveWait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runDispatch runs a batch as the owner. The worker's tick may have run one just before, in
// which case this one finds nothing new to offer; offered finds the offer either way.
func (f *tripFlow) runDispatch(t *testing.T) {
	t.Helper()
	r := f.Do(f.host, "POST", "/api/v1/admin/dispatch/run", f.owner.AccessToken, nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"mode":"dispatch"`) {
		t.Fatalf("run-dispatch: %d %s", r.Status, r.Body)
	}
}

// expectOffer reads a courier's feed up to the offer of orderID.
func expectOffer(t *testing.T, feed *liveStream, offer flowOffer) {
	t.Helper()
	ev := feed.next(t)
	got := decodeLive[struct {
		OfferID string `json:"offerId"`
		OrderID string `json:"orderId"`
		Reward  int64  `json:"reward"`
	}](t, ev)
	if ev.Type != "offer" || got.OfferID != offer.ID || got.OrderID != offer.OrderID || got.Reward != offer.Reward {
		t.Fatalf("%s: %s event %s; want the offer %+v", feed.name, ev.Type, ev.Data, offer)
	}
}

// haversine is the great-circle distance in metres on the radius dispatch and pricing use.
func haversine(a, b flowPoint) float64 {
	const r, rad = 6_371_008.8, math.Pi / 180
	dLat, dLng := (b.Lat-a.Lat)*rad, (b.Lng-a.Lng)*rad
	h := math.Pow(math.Sin(dLat/2), 2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Pow(math.Sin(dLng/2), 2)
	return 2 * r * math.Asin(math.Sqrt(h))
}

// The end-to-end test: three students and three couriers (the two demo couriers and
// one who applies and is approved over HTTP) take errands to completion in grab mode and then
// in dispatch mode, all over HTTP, with the worker publishing every change. Each student's
// stream-order delivers the order's whole timeline in order, once (across a reconnect with
// Last-Event-ID), and the courier's position only while the order is accepted or picked up.
// At the end the couriers' earnings show what the hall and the offer promised, dispatch
// explains its choice, and the ledger is sound.
func TestErrandsGrabbedAndDispatchedWithLiveUpdates(t *testing.T) {
	t.Parallel()
	f := newTripFlow(t)
	all := append(f.grabMode(t), f.dispatchMode(t))
	for _, o := range all {
		f.requireTimeline(t, o, []string{"create", "pay", "accept", "pickup", "deliver", "confirm"})
	}
	f.requireExplained(t, all[len(all)-1])
	f.requireEarnings(t, all)
	ledgertest.RequireClean(t, f.App.DB, f.tenant(t))
	var out strings.Builder
	if err := f.App.CheckLedgers(context.Background(), &out, "campus"); err != nil {
		t.Fatalf("ledger check: %v %s", err, out.String())
	}
}

// grabMode: a courier watches the hall while three students place and pay; each courier grabs
// one order, picks it up and delivers it (one with a photo), and the students confirm and
// review. One student reconnects mid-way.
func (f *tripFlow) grabMode(t *testing.T) []*flowOrder {
	t.Helper()
	a, b, c := f.couriers[0], f.couriers[1], f.couriers[2]
	hall := f.live(t, "hall", "/api/v1/courier/hall/live", a.AccessToken, "")
	hall.ready(t)
	grab := []*flowOrder{
		{name: "g1", student: f.students[0], courier: a},
		{name: "g2", student: f.students[1], courier: b},
		{name: "g3", student: f.students[2], courier: c},
	}
	byID := map[string]*flowOrder{}
	for i, o := range grab {
		o.order = f.place(t, o.student, 100*(i+1))
		byID[o.order.ID] = o
		f.watch(t, o, "0-0")
	}
	for _, o := range grab {
		f.pay(t, o.student, o.order)
	}
	for opened := map[string]bool{}; len(opened) < len(grab); {
		ev := hall.next(t)
		it := decodeLive[struct {
			ID     string `json:"id"`
			Reward int64  `json:"reward"`
		}](t, ev)
		o := byID[it.ID]
		if ev.Type != "hall_open" || o == nil || opened[it.ID] || it.Reward <= 0 || it.Reward > o.order.Total {
			t.Fatalf("hall: %s %s; want hall_open once per paid order", ev.Type, ev.Data)
		}
		opened[it.ID], o.reward = true, it.Reward
	}
	r := f.Do(f.host, "GET", "/api/v1/courier/hall?sort=reward", b.AccessToken, nil)
	var list struct {
		Mode  string `json:"mode"`
		Items []struct {
			ID     string `json:"id"`
			Reward int64  `json:"reward"`
		} `json:"items"`
		Total int `json:"total"`
	}
	r.JSON(t, &list)
	if r.Status != http.StatusOK || list.Mode != "grab" || list.Total != 3 || len(list.Items) != 3 {
		t.Fatalf("list-task-hall: %d %s", r.Status, r.Body)
	}
	for i, it := range list.Items {
		// Best paid first: g3 has the largest tip.
		if want := grab[2-i]; it.ID != want.order.ID || it.Reward != want.reward {
			t.Fatalf("list-task-hall item %d: %+v; want %s with reward %d (%s)", i, it, want.name, want.reward, r.Body)
		}
	}
	for _, o := range grab {
		f.step(t, o.courier.AccessToken, o.order.ID, "grab", `{}`, "accepted")
	}
	for closed := map[string]bool{}; len(closed) < len(grab); {
		ev := hall.next(t)
		hc := decodeLive[struct {
			OrderID string `json:"orderId"`
			Status  string `json:"status"`
		}](t, ev)
		if ev.Type != "hall_closed" || byID[hc.OrderID] == nil || closed[hc.OrderID] || hc.Status != "accepted" {
			t.Fatalf("hall: %s %s; want hall_closed (accepted) once per grabbed order", ev.Type, ev.Data)
		}
		closed[hc.OrderID] = true
	}
	hall.close()

	// Accepted: the student sees the courier move.
	for _, o := range grab {
		o.until(t, "accepted")
		o.position(t, f.ping(t, o.courier))
	}

	// g1's student drops off and comes back with Last-Event-ID after the pickup was published:
	// the replay brings exactly what was missed, and positions resume while picked up.
	g1 := grab[0]
	last := g1.stream.lastID
	g1.stream.close()
	f.step(t, a.AccessToken, g1.order.ID, "pickup", map[string]string{"code": parcelPickupCode}, "picked_up")
	f.waitReplayed(t, g1.order.ID, last)
	f.watch(t, g1, last)
	g1.until(t, "picked_up")
	g1.position(t, f.ping(t, a))
	for _, o := range grab[1:] {
		f.step(t, o.courier.AccessToken, o.order.ID, "pickup", map[string]string{"code": parcelPickupCode}, "picked_up")
		o.until(t, "picked_up")
	}

	// Delivery: with the code the student sees, or (g2) with a photo.
	var photoID string
	for _, o := range grab {
		var body map[string]string
		if o == grab[1] {
			photoID = f.uploadPhoto(t, o.courier, o.order.ID)
			body = map[string]string{"photoId": photoID}
		} else {
			r := f.Do(f.host, "GET", "/api/v1/orders/"+o.order.ID, o.student.AccessToken, nil)
			var v orderView
			r.JSON(t, &v)
			if r.Status != http.StatusOK || len(v.DeliveryCode) != 6 {
				t.Fatalf("get-order %s: %d %s", o.name, r.Status, r.Body)
			}
			body = map[string]string{"code": v.DeliveryCode}
		}
		f.step(t, o.courier.AccessToken, o.order.ID, "deliver", body, "delivered")
	}
	// Delivered: the courier's next position is none of the student's business.
	for _, o := range grab {
		o.until(t, "delivered")
		f.ping(t, o.courier)
	}
	for _, o := range grab {
		o.stream.quiet(t, 300*time.Millisecond)
	}
	// The student finds the photo on their order.
	r = f.Do(f.host, "GET", "/api/v1/orders/"+grab[1].order.ID, grab[1].student.AccessToken, nil)
	var delivered struct {
		ProofPhotoID string `json:"proofPhotoId"`
	}
	r.JSON(t, &delivered)
	if delivered.ProofPhotoID != photoID {
		t.Fatalf("get-order proofPhotoId %q; want %q", delivered.ProofPhotoID, photoID)
	}
	r = f.Do(f.host, "GET", "/api/v1/orders/"+grab[1].order.ID+"/photos/"+delivered.ProofPhotoID, grab[1].student.AccessToken, nil)
	if r.Status != http.StatusOK || !bytes.Equal(r.Body, f.photo) {
		t.Fatalf("student reading the delivery photo: %d", r.Status)
	}
	for _, o := range grab {
		f.finish(t, o, 5)
	}
	return grab
}

// dispatchMode: the owner switches dispatch on; the batch's first choice declines the offer,
// a later batch offers the order to another courier, who accepts and delivers it.
func (f *tripFlow) dispatchMode(t *testing.T) *flowOrder {
	t.Helper()
	path := "/api/v1/admin/settings/business"
	r := f.Do(f.host, "GET", path, f.owner.AccessToken, nil)
	var settings map[string]any
	r.JSON(t, &settings)
	settings["dispatchMode"] = "dispatch"
	if r := f.Do(f.host, "PUT", path, f.owner.AccessToken, settings); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"dispatchMode":"dispatch"`) {
		t.Fatalf("update-business-settings: %d %s", r.Status, r.Body)
	}
	feeds := map[*flowCourier]*liveStream{}
	for _, c := range f.couriers {
		feeds[c] = f.live(t, "feed of "+c.name, "/api/v1/courier/live", c.AccessToken, "")
		feeds[c].ready(t)
		f.dispatchedFrom[c] = f.ping(t, c)
	}
	d := &flowOrder{name: "d1", student: f.students[0]}
	d.order = f.place(t, d.student, 150)
	f.watch(t, d, "0-0")
	f.pay(t, d.student, d.order)
	d.until(t, "awaiting_courier")
	r = f.Do(f.host, "GET", "/api/v1/courier/hall", f.couriers[0].AccessToken, nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"mode":"dispatch"`) || !strings.Contains(string(r.Body), `"items":[]`) {
		t.Fatalf("list-task-hall in dispatch mode: %d %s", r.Status, r.Body)
	}

	f.runDispatch(t)
	first, offer1 := f.offered(t, d.order.ID)
	expectOffer(t, feeds[first], offer1)
	if r := f.Do(f.host, "POST", "/api/v1/courier/offers/"+offer1.ID+"/decline", first.AccessToken,
		map[string]string{"reason": "在上课"}); r.Status != http.StatusNoContent {
		t.Fatalf("decline-offer: %d %s", r.Status, r.Body)
	}
	f.runDispatch(t) // a later batch offers the order to someone else
	second, offer2 := f.offered(t, d.order.ID)
	if second == first || offer2.ID == offer1.ID {
		t.Fatalf("after %s declined, the order was offered to %s (%+v)", first.name, second.name, offer2)
	}
	expectOffer(t, feeds[second], offer2)
	r = f.Do(f.host, "POST", "/api/v1/courier/offers/"+offer2.ID+"/accept", second.AccessToken, nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"status":"accepted"`) {
		t.Fatalf("accept-offer: %d %s", r.Status, r.Body)
	}
	ev := feeds[second].next(t)
	if as := decodeLive[struct{ OrderID, Event string }](t, ev); ev.Type != "assigned" || as.OrderID != d.order.ID || as.Event != "accept" {
		t.Fatalf("%s: %s %s; want assigned", feeds[second].name, ev.Type, ev.Data)
	}
	f.declined, f.accepted = first, second
	d.courier, d.reward = second, offer2.Reward

	d.until(t, "accepted")
	d.position(t, f.ping(t, second))
	f.step(t, second.AccessToken, d.order.ID, "pickup", map[string]string{"code": parcelPickupCode}, "picked_up")
	d.until(t, "picked_up")
	f.step(t, second.AccessToken, d.order.ID, "deliver", map[string]string{"code": d.order.DeliveryCode}, "delivered")
	d.until(t, "delivered")
	f.ping(t, second)
	d.stream.quiet(t, 300*time.Millisecond)
	f.finish(t, d, 4)
	return d
}

// finish has the student confirm a delivered order and review its courier.
func (f *tripFlow) finish(t *testing.T, o *flowOrder, rating int) {
	t.Helper()
	f.step(t, o.student.AccessToken, o.order.ID, "confirm", nil, "completed")
	o.until(t, "completed")
	if r := f.Do(f.host, "POST", "/api/v1/orders/"+o.order.ID+"/review", o.student.AccessToken,
		map[string]any{"rating": rating, "tags": []string{"准时"}}); r.Status != http.StatusNoContent {
		t.Fatalf("review %s: %d %s", o.name, r.Status, r.Body)
	}
}

// requireExplained checks get-order-dispatch: both offers of the dispatched order, who got
// them, what became of them, and cost terms that add up and measure from where the courier
// said they were.
func (f *tripFlow) requireExplained(t *testing.T, d *flowOrder) {
	t.Helper()
	r := f.Do(f.host, "GET", "/api/v1/admin/orders/"+d.order.ID+"/dispatch", f.owner.AccessToken, nil)
	var explained struct {
		Items []struct {
			CourierID     string  `json:"courierId"`
			Status        string  `json:"status"`
			Cost          float64 `json:"cost"`
			DeclineReason string  `json:"declineReason"`
			Reward        int64   `json:"reward"`
			Explanation   []struct {
				Name  string  `json:"name"`
				Value float64 `json:"value"`
				Input float64 `json:"input"`
			} `json:"explanation"`
			Batch struct {
				ID       string `json:"id"`
				Mode     string `json:"mode"`
				Orders   int    `json:"orders"`
				Couriers int    `json:"couriers"`
				Assigned int    `json:"assigned"`
			} `json:"batch"`
		} `json:"items"`
		Total int `json:"total"`
	}
	r.JSON(t, &explained)
	if r.Status != http.StatusOK || explained.Total != 2 || len(explained.Items) != 2 {
		t.Fatalf("get-order-dispatch: %d %s", r.Status, r.Body)
	}
	for i, want := range []struct {
		c      *flowCourier
		status string
		reason string
	}{{f.declined, "declined", "在上课"}, {f.accepted, "accepted", ""}} {
		it := explained.Items[i]
		if it.CourierID != want.c.User.ID || it.Status != want.status || it.DeclineReason != want.reason || it.Reward != d.reward ||
			it.Batch.ID == "" || it.Batch.Mode != "dispatch" || it.Batch.Orders != 1 || it.Batch.Couriers != len(f.couriers) || it.Batch.Assigned != 1 {
			t.Fatalf("get-order-dispatch item %d: %+v; want %s %s", i, it, want.c.name, want.status)
		}
		var names []string
		var sum float64
		for _, term := range it.Explanation {
			names = append(names, term.Name)
			sum += term.Value
		}
		if !slices.Equal(names, []string{"distance", "idle", "load", "credit", "balance"}) || math.Abs(sum-it.Cost) > 0.002 {
			t.Fatalf("get-order-dispatch item %d explains %+v for a cost of %v", i, it.Explanation, it.Cost)
		}
		if got, metres := it.Explanation[0].Input, haversine(f.dispatchedFrom[want.c], pickupPoint); math.Abs(got-metres) > 1 {
			t.Fatalf("distance term of %s: %v m; want %.0f m", want.c.name, got, metres)
		}
	}
}

// requireEarnings checks get-courier-earnings: each courier was paid exactly what the hall or
// the offer promised for each of their orders, and the ledger agrees.
func (f *tripFlow) requireEarnings(t *testing.T, all []*flowOrder) {
	t.Helper()
	promised := map[*flowCourier]map[string]int64{}
	for _, o := range all {
		if promised[o.courier] == nil {
			promised[o.courier] = map[string]int64{}
		}
		promised[o.courier][o.order.ID] = o.reward
	}
	for _, c := range f.couriers {
		r := f.Do(f.host, "GET", "/api/v1/courier/earnings", c.AccessToken, nil)
		var earn struct {
			Balance         int64 `json:"balance"`
			CompletedOrders int64 `json:"completedOrders"`
			RatingCount     int64 `json:"ratingCount"`
			Items           []struct {
				OrderID string `json:"orderId"`
				Amount  int64  `json:"amount"`
			} `json:"items"`
		}
		r.JSON(t, &earn)
		want := promised[c]
		got := map[string]int64{}
		var sum int64
		for _, it := range earn.Items {
			got[it.OrderID] = it.Amount
			sum += it.Amount
		}
		if r.Status != http.StatusOK || len(got) != len(earn.Items) || !maps.Equal(got, want) || earn.Balance != sum ||
			earn.CompletedOrders != int64(len(want)) || earn.RatingCount != int64(len(want)) {
			t.Fatalf("get-courier-earnings %s: %d %s; want %v", c.name, r.Status, r.Body, want)
		}
		if b := f.balances(t, ledger.Earnings(c.User.ID)); int64(b[0]) != earn.Balance {
			t.Fatalf("%s: earnings balance %d in the ledger, %d in get-courier-earnings", c.name, b[0], earn.Balance)
		}
	}
}
