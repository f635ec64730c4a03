package app_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/orders"
	"github.com/paotui/paotui/internal/places"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// BenchmarkOrders measures quote and create-order throughput, and create-order against a
// baseline of the same writes done directly with the driver, all in one process and tenant:
//
//	quote/http       POST /api/v1/orders/quote through the real HTTP stack
//	quote/service    orders.Service.Quote
//	create/http      POST /api/v1/orders (tokens quoted before the timer starts)
//	create/service   orders.Service.Create with pre-quoted tokens
//	baseline/driver  what Create writes (an orders row with the same column values and a
//	                 random form_enc, its order_events row, its public.outbox row) with pgx on
//	                 one connection: BEGIN + SET LOCAL search_path, three INSERTs, COMMIT
//	ratio/create-service, ratio/create-http
//	                 the create and the baseline interleaved in one loop (ABBA order, so load
//	                 from others on the machine hits both alike); x-baseline is the create's
//	                 mean time over the baseline's, seq-x-baseline the same ratio from the
//	                 sequential sub-benchmarks above
//
// Each reports ops/s; compare ratios, not absolute figures, across machines.
//
//	make bench BENCH=BenchmarkOrders PKG=./internal/app/ BENCHTIME=200x
func BenchmarkOrders(b *testing.B) {
	if testing.Short() {
		b.Skip("needs PostgreSQL and Redis")
	}
	e := newOrderBench(b)
	ctx := context.Background()
	nsPerOp := map[string]float64{}
	report := func(b *testing.B, name string) {
		d := b.Elapsed()
		if d <= 0 {
			return
		}
		b.ReportMetric(float64(b.N)/d.Seconds(), "ops/s")
		nsPerOp[name] = float64(d.Nanoseconds()) / float64(b.N) // the last (largest) run wins
	}

	b.Run("quote/http", func(b *testing.B) {
		b.ResetTimer()
		for range b.N {
			if r := e.Do(e.host, "POST", "/api/v1/orders/quote", e.token, e.quoteBody); r.Status != http.StatusOK {
				b.Fatalf("quote: %d %s", r.Status, r.Body)
			}
		}
		b.StopTimer()
		report(b, "quote/http")
	})
	b.Run("quote/service", func(b *testing.B) {
		b.ResetTimer()
		for range b.N {
			if _, err := e.App.Orders.Quote(ctx, e.tenant, e.req); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		report(b, "quote/service")
	})
	b.Run("create/http", func(b *testing.B) {
		bodies := e.createBodies(b, e.quotes(b, b.N))
		b.ResetTimer()
		for i := range b.N {
			e.createHTTP(b, bodies[i])
		}
		b.StopTimer()
		report(b, "create/http")
	})
	b.Run("create/service", func(b *testing.B) {
		tokens := e.quotes(b, b.N)
		b.ResetTimer()
		for i := range b.N {
			e.createService(b, tokens[i])
		}
		b.StopTimer()
		report(b, "create/service")
	})
	b.Run("baseline/driver", func(b *testing.B) {
		b.ResetTimer()
		for range b.N {
			e.insertDirect(b)
		}
		b.StopTimer()
		report(b, "baseline/driver")
	})
	b.Run("ratio/create-service", func(b *testing.B) {
		tokens := e.quotes(b, b.N)
		e.interleave(b, func(i int) { e.createService(b, tokens[i]) })
		if base := nsPerOp["baseline/driver"]; base > 0 {
			b.ReportMetric(nsPerOp["create/service"]/base, "seq-x-baseline")
		}
	})
	b.Run("ratio/create-http", func(b *testing.B) {
		bodies := e.createBodies(b, e.quotes(b, b.N))
		e.interleave(b, func(i int) { e.createHTTP(b, bodies[i]) })
		if base := nsPerOp["baseline/driver"]; base > 0 {
			b.ReportMetric(nsPerOp["create/http"]/base, "seq-x-baseline")
		}
	})
}

// orderBench is the demo campus open around the clock, a signed-in student, the request
// every sub-benchmark sends, and a driver connection for the baseline.
type orderBench struct {
	*apptest.Env
	tenant    *tenancy.Tenant
	host      string
	token     string // the student's access token
	studentID string
	req       orders.QuoteRequest
	quoteBody []byte
	conn      *pgx.Conn
	ref       refOrder
}

// refOrder holds the column values of an order made by Create, which the baseline writes
// again (with fresh ids and ciphertexts of the same length).
type refOrder struct {
	taskType, status, pickupName, dropoffName, size string
	pickupPlaceID, dropoffPlaceID                   string
	pickupLng, pickupLat, dropoffLng, dropoffLat    float64
	minutes, distanceM, courierShareBP, version     int
	priceLines                                      string
	total, tip                                      int64
	payAfter                                        time.Duration
	formLen, codeLen, quoteIDLen                    int
}

func newOrderBench(b *testing.B) *orderBench {
	b.Helper()
	env := apptest.New(b)
	tn := env.Tenant("campus", "13800000000", "demo")
	ctx := context.Background()
	err := env.App.DB.InTenant(ctx, tn, func(tx *gorm.DB) error {
		week := map[time.Weekday][]places.Window{}
		for d := time.Sunday; d <= time.Saturday; d++ {
			week[d] = []places.Window{{Opens: 0, Closes: 24 * 60}}
		}
		return places.PutHours(tx, week)
	})
	if err != nil {
		b.Fatal(err)
	}
	e := &orderBench{Env: env, tenant: tn, host: env.Host("campus")}
	student := env.Login("campus", "13900000001")
	e.token, e.studentID = student.AccessToken, student.User.ID

	r := env.Do(e.host, "GET", "/api/v1/places?limit=200", "", nil)
	var list struct {
		Items []struct{ ID, Name string }
	}
	r.JSON(b, &list)
	placeID := map[string]string{}
	for _, p := range list.Items {
		placeID[p.Name] = p.ID
	}
	pickup, dropoff := placeID["菜鸟驿站(南区)"], placeID["1号学生宿舍"]
	if r.Status != http.StatusOK || pickup == "" || dropoff == "" {
		b.Fatalf("list-places: %d %s", r.Status, r.Body)
	}
	// The HTTP and the service paths get the very same request: the service's is decoded
	// from the HTTP body, so form values have the types JSON gives them.
	e.quoteBody, err = json.Marshal(map[string]any{
		"taskType": "parcel_pickup",
		"pickup":   map[string]any{"placeId": pickup},
		"dropoff":  map[string]any{"placeId": dropoff},
		"size":     "medium",
		"tip":      100,
		"form":     map[string]any{"pickup_code": " 3-2-1108 ", "parcel_count": 2},
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(e.quoteBody, &e.req); err != nil {
		b.Fatal(err)
	}

	// One order through the service gives the baseline its column values.
	o, created, err := env.App.Orders.Create(ctx, tn, e.studentID, e.quotes(b, 1)[0], e.req)
	if err != nil || !created {
		b.Fatalf("reference order: %v (created %v)", err, created)
	}
	pc, err := pgx.ParseConfig(env.DBURL)
	if err != nil {
		b.Fatal(err)
	}
	// The application's pool runs in exec mode (no cached prepared statements, see store.Open);
	// so does the baseline, so that the comparison is of the work done, not of the protocol.
	pc.DefaultQueryExecMode = pgx.QueryExecModeExec
	if e.conn, err = pgx.ConnectConfig(ctx, pc); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.conn.Close(context.Background()) })
	ref := &e.ref
	var payBy, createdAt time.Time
	err = e.conn.QueryRow(ctx, `SELECT task_type, status, pickup_place_id::text, pickup_name, pickup_lng, pickup_lat,
			dropoff_place_id::text, dropoff_name, dropoff_lng, dropoff_lat, size, minutes, distance_m, price_lines::text,
			total, tip, courier_share_bp, version, pay_by, created_at,
			length(form_enc), length(delivery_code_enc), length(quote_id)
		FROM `+pgx.Identifier{tn.SchemaName(), "orders"}.Sanitize()+` WHERE id = $1`, o.ID).Scan(
		&ref.taskType, &ref.status, &ref.pickupPlaceID, &ref.pickupName, &ref.pickupLng, &ref.pickupLat,
		&ref.dropoffPlaceID, &ref.dropoffName, &ref.dropoffLng, &ref.dropoffLat, &ref.size, &ref.minutes, &ref.distanceM, &ref.priceLines,
		&ref.total, &ref.tip, &ref.courierShareBP, &ref.version, &payBy, &createdAt,
		&ref.formLen, &ref.codeLen, &ref.quoteIDLen)
	if err != nil {
		b.Fatalf("read reference order: %v", err)
	}
	ref.payAfter = payBy.Sub(createdAt)
	return e
}

// quotes issues n quote tokens for e.req through the service. Each token has its own id, so
// each makes its own order.
func (e *orderBench) quotes(b *testing.B, n int) []string {
	b.Helper()
	tokens := make([]string, n)
	for i := range tokens {
		q, err := e.App.Orders.Quote(context.Background(), e.tenant, e.req)
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = q.Token
	}
	return tokens
}

// createBodies are create-order request bodies, one per token.
func (e *orderBench) createBodies(b *testing.B, tokens []string) [][]byte {
	b.Helper()
	bodies := make([][]byte, len(tokens))
	for i, tok := range tokens {
		raw, err := json.Marshal(struct {
			orders.QuoteRequest
			QuoteToken string `json:"quoteToken"`
		}{e.req, tok})
		if err != nil {
			b.Fatal(err)
		}
		bodies[i] = raw
	}
	return bodies
}

func (e *orderBench) createHTTP(b *testing.B, body []byte) {
	if r := e.Do(e.host, "POST", "/api/v1/orders", e.token, body); r.Status != http.StatusCreated {
		b.Fatalf("create-order: %d %s", r.Status, r.Body)
	}
}

func (e *orderBench) createService(b *testing.B, token string) {
	_, created, err := e.App.Orders.Create(context.Background(), e.tenant, e.studentID, token, e.req)
	if err != nil || !created {
		b.Fatalf("create: %v (created %v)", err, created)
	}
}

// insertDirect writes one order the way Create does, minus everything else Create does:
// one transaction scoped like InTenant's (BEGIN and the search_path in one round trip), the
// orders row, its order_events row and its public.outbox row.
func (e *orderBench) insertDirect(b *testing.B) {
	ctx := context.Background()
	ref := &e.ref
	id := uuid.NewString()
	formEnc, codeEnc := randomBytes(b, ref.formLen), randomBytes(b, ref.codeLen)
	quoteID := hex.EncodeToString(randomBytes(b, (ref.quoteIDLen+1)/2))[:ref.quoteIDLen]
	now := time.Now().UTC()
	payBy := now.Add(ref.payAfter)
	if _, err := e.conn.Exec(ctx, "BEGIN; SET LOCAL search_path TO "+pgx.Identifier{e.tenant.SchemaName()}.Sanitize()); err != nil {
		b.Fatal(err)
	}
	_, err := e.conn.Exec(ctx, `INSERT INTO orders (id, student_id, courier_id, task_type, status, exception, exception_note,
			pickup_place_id, pickup_name, pickup_lng, pickup_lat, dropoff_place_id, dropoff_name, dropoff_lng, dropoff_lat,
			size, minutes, form_enc, window_start, window_end, distance_m, price_lines, total, tip, courier_share_bp, quote_id,
			paid_amount, refunded_amount, payment_provider, pay_by, paid_at, accepted_at, picked_up_at, delivered_at,
			completed_at, cancelled_at, cancel_reason, delivery_code_enc, version, created_at, updated_at)
		VALUES ($1, $2, NULL, $3, $4, NULL, NULL, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, NULL, NULL, $16, $17, $18, $19,
			$20, $21, 0, 0, NULL, $22, NULL, NULL, NULL, NULL, NULL, NULL, NULL, $23, $24, $25, $25)
		ON CONFLICT (quote_id) DO NOTHING`,
		id, e.studentID, ref.taskType, ref.status, ref.pickupPlaceID, ref.pickupName, ref.pickupLng, ref.pickupLat,
		ref.dropoffPlaceID, ref.dropoffName, ref.dropoffLng, ref.dropoffLat, ref.size, ref.minutes, formEnc,
		ref.distanceM, ref.priceLines, ref.total, ref.tip, ref.courierShareBP, quoteID, payBy, codeEnc, ref.version, now)
	if err != nil {
		b.Fatalf("insert order: %v", err)
	}
	_, err = e.conn.Exec(ctx, `INSERT INTO order_events (order_id, event, from_status, to_status, actor_kind, actor_id, reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, "create", nil, ref.status, "student", e.studentID, "")
	if err != nil {
		b.Fatalf("insert order event: %v", err)
	}
	_, err = e.conn.Exec(ctx, `INSERT INTO public.outbox (tenant_id, task_type, payload, queue, process_at)
		VALUES ($1, $2, $3::jsonb, $4, $5)`, e.tenant.ID, orders.TaskExpire, `{"orderId":"`+id+`"}`, "default", payBy.Add(time.Second))
	if err != nil {
		b.Fatalf("insert outbox: %v", err)
	}
	if _, err := e.conn.Exec(ctx, "COMMIT"); err != nil {
		b.Fatal(err)
	}
}

// interleave runs op(i) and the baseline b.N times each, alternating which goes first
// (ABBA), times each call on its own and reports both means and their ratio as x-baseline.
// The benchmark's own ns/op is of the pair.
func (e *orderBench) interleave(b *testing.B, op func(i int)) {
	var tOp, tBase time.Duration
	timeOp := func(i int) {
		start := time.Now()
		op(i)
		tOp += time.Since(start)
	}
	timeBase := func() {
		start := time.Now()
		e.insertDirect(b)
		tBase += time.Since(start)
	}
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			timeBase()
			timeOp(i)
		} else {
			timeOp(i)
			timeBase()
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(tOp.Nanoseconds())/n, "create-ns/op")
	b.ReportMetric(float64(tBase.Nanoseconds())/n, "baseline-ns/op")
	b.ReportMetric(float64(tOp)/float64(tBase), "x-baseline")
}

func randomBytes(b *testing.B, n int) []byte {
	p := make([]byte, n)
	if _, err := rand.Read(p); err != nil {
		b.Fatal(err)
	}
	return p
}
