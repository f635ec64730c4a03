package orderchat_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/orderchat"
)

// The order's student and courier and staff talk; everyone reads the same thread, oldest
// first, page by page, and the notifier hears each message once it is stored.
func TestSendAndList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	student, courier, support := e.user(t, e.t1), e.user(t, e.t1), e.user(t, e.t1)
	e.staff.add(support)
	o := e.order(t, e.t1, student, courier, "accepted")

	say := func(who string, staff bool, body string) *orderchat.Message {
		t.Helper()
		m, err := e.svc.Send(ctx, e.t1, who, staff, o, body)
		if err != nil {
			t.Fatalf("send %q: %v", body, err)
		}
		return m
	}
	m1 := say(student, false, "  到了吗?我在3号楼 502  ")
	m2 := say(courier, false, "马上到,\r\n放门口可以吗")
	m3 := say(support, true, "您好,客服在线")
	if m1.Body != "到了吗?我在3号楼 502" || m2.Body != "马上到,\n放门口可以吗" {
		t.Fatalf("bodies not cleaned: %q %q", m1.Body, m2.Body)
	}
	if m1.SenderKind != "student" || m2.SenderKind != "courier" || m3.SenderKind != "staff" || !(m1.ID < m2.ID && m2.ID < m3.ID) {
		t.Fatalf("messages %+v %+v %+v", m1, m2, m3)
	}
	if m1.OrderID != o || m1.SenderID != student || m1.CreatedAt.IsZero() || m1.CreatedAt.Location() != time.UTC {
		t.Fatalf("message %+v", m1)
	}
	if got := e.posted.all(); len(got) != 3 || got[0] != *m1 || got[2] != *m3 {
		t.Fatalf("notifier heard %+v", got)
	}

	for _, viewer := range []struct {
		id    string
		staff bool
	}{{student, false}, {courier, false}, {support, true}} {
		page, err := e.svc.List(ctx, e.t1, viewer.id, viewer.staff, o, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		if page.More || len(page.Items) != 3 || page.Items[0] != *m1 || page.Items[1] != *m2 || page.Items[2] != *m3 {
			t.Fatalf("viewer %s reads %+v", viewer.id, page)
		}
	}

	// Paging: two at a time, then the rest; after the last id, nothing.
	p1, err := e.svc.List(ctx, e.t1, student, false, o, 0, 2)
	if err != nil || len(p1.Items) != 2 || !p1.More || p1.Items[1].ID != m2.ID {
		t.Fatalf("first page %+v %v", p1, err)
	}
	p2, err := e.svc.List(ctx, e.t1, student, false, o, p1.Items[1].ID, 2)
	if err != nil || len(p2.Items) != 1 || p2.More || p2.Items[0].ID != m3.ID {
		t.Fatalf("second page %+v %v", p2, err)
	}
	p3, err := e.svc.List(ctx, e.t1, student, false, o, m3.ID, 2)
	if err != nil || p3.Items == nil || len(p3.Items) != 0 || p3.More {
		t.Fatalf("past the end %+v %v", p3, err)
	}

	// Another order's chat is its own.
	other := e.order(t, e.t1, student, courier, "accepted")
	if p, err := e.svc.List(ctx, e.t1, student, false, other, 0, 50); err != nil || len(p.Items) != 0 {
		t.Fatalf("other order's chat: %+v %v", p, err)
	}
}

// Who may write and read: the student and the current courier of the order, staff; nobody
// else, and outsiders cannot tell a foreign order from a missing one.
func TestWhoMayTakePart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	student, courier, formerCourier, otherStudent, dispatcher := e.user(t, e.t1), e.user(t, e.t1), e.user(t, e.t1), e.user(t, e.t1), e.user(t, e.t1)
	e.staff.add(dispatcher)
	active := e.order(t, e.t1, student, formerCourier, "accepted")
	e.set(t, e.t1, active, courier, "accepted") // reassigned: formerCourier no longer holds it
	waiting := e.order(t, e.t1, student, "", "awaiting_courier")
	delivered := e.order(t, e.t1, student, courier, "delivered")
	completed := e.order(t, e.t1, student, courier, "completed")
	cancelled := e.order(t, e.t1, student, courier, "cancelled")
	// The same user ids in another tenant are nobody there.
	foreign := e.order(t, e.t2, e.user(t, e.t2), e.user(t, e.t2), "accepted")

	cases := []struct {
		name     string
		who      string
		staff    bool
		order    string
		sendErr  error
		listErr  error
		wantKind string
	}{
		{"student", student, false, active, nil, nil, "student"},
		{"current courier", courier, false, active, nil, nil, "courier"},
		{"courier the order was taken from", formerCourier, false, active, orderchat.ErrNotFound, orderchat.ErrNotFound, ""},
		{"another student", otherStudent, false, active, orderchat.ErrNotFound, orderchat.ErrNotFound, ""},
		{"staff without the staff permission", dispatcher, false, active, orderchat.ErrNotFound, orderchat.ErrNotFound, ""},
		{"staff", dispatcher, true, active, nil, nil, "staff"},
		{"student before a courier took it", student, false, waiting, nil, nil, "student"},
		{"student of a delivered order", student, false, delivered, nil, nil, "student"},
		{"courier of a delivered order", courier, false, delivered, nil, nil, "courier"},
		{"student of a completed order", student, false, completed, orderchat.ErrChatClosed, nil, ""},
		{"courier of a cancelled order", courier, false, cancelled, orderchat.ErrChatClosed, nil, ""},
		{"staff on a completed order", dispatcher, true, completed, nil, nil, "staff"},
		{"unknown order", student, false, uuid.NewString(), orderchat.ErrNotFound, orderchat.ErrNotFound, ""},
		{"not an id", student, false, "../orders", orderchat.ErrNotFound, orderchat.ErrNotFound, ""},
		{"another tenant's order", dispatcher, true, foreign, orderchat.ErrNotFound, orderchat.ErrNotFound, ""},
		{"nobody", "", true, active, orderchat.ErrNotFound, orderchat.ErrNotFound, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := e.svc.Send(ctx, e.t1, tc.who, tc.staff, tc.order, "hello")
			if !errors.Is(err, tc.sendErr) || (err == nil) != (tc.sendErr == nil) {
				t.Fatalf("send: %v, want %v", err, tc.sendErr)
			}
			if err == nil && m.SenderKind != tc.wantKind {
				t.Fatalf("sent as %q, want %q", m.SenderKind, tc.wantKind)
			}
			_, err = e.svc.List(ctx, e.t1, tc.who, tc.staff, tc.order, 0, 10)
			if !errors.Is(err, tc.listErr) || (err == nil) != (tc.listErr == nil) {
				t.Fatalf("list: %v, want %v", err, tc.listErr)
			}
		})
	}
}

func TestMessageBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	student := e.user(t, e.t1)
	o := e.order(t, e.t1, student, "", "awaiting_courier")
	cases := []struct {
		name, body, want string
	}{
		{"trimmed", "  你好  ", "你好"},
		{"500 characters", strings.Repeat("长", 500), strings.Repeat("长", 500)},
		{"lines and tabs kept", "第一行\r\n\t第二行", "第一行\n\t第二行"},
		{"empty", "", ""},
		{"blank", " \n\t ", ""},
		{"501 characters", strings.Repeat("长", 501), ""},
		{"control character", "hi\x07there", ""},
		{"NUL", "hi\x00", ""},
		{"not UTF-8", "hi\xff", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := e.svc.Send(context.Background(), e.t1, student, false, o, tc.body)
			if tc.want == "" {
				if !errors.Is(err, orderchat.ErrBodyInvalid) {
					t.Fatalf("got %v, want ErrBodyInvalid", err)
				}
				return
			}
			if err != nil || m.Body != tc.want {
				t.Fatalf("got %+v %v, want %q", m, err, tc.want)
			}
		})
	}
}

// Bodies are sealed with the tenant's keys: the table holds no plaintext, and the ciphertext
// opens only as an order chat body of that tenant.
func TestBodiesAreSealed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	student, courier := e.user(t, e.t1), e.user(t, e.t1)
	o := e.order(t, e.t1, student, courier, "picked_up")
	const secret = "我的电话 13812345678,宿舍 7号楼 1108"
	if _, err := e.svc.Send(ctx, e.t1, student, false, o, secret); err != nil {
		t.Fatal(err)
	}
	var enc []byte
	var plain int
	e.in(t, e.t1, func(tx *gorm.DB) error {
		if err := tx.Raw(`SELECT body_enc FROM order_messages WHERE order_id = ?`, o).Row().Scan(&enc); err != nil {
			return err
		}
		// Look for the phone number anywhere in the table's text form, as a dump would show it.
		return tx.Raw(`SELECT count(*) FROM order_messages m WHERE m::text LIKE '%13812345678%'
			OR position(convert_to('13812345678', 'UTF8') IN body_enc) > 0
			OR position(convert_to('1108', 'UTF8') IN body_enc) > 0`).Row().Scan(&plain)
	})
	if plain != 0 || strings.Contains(string(enc), "13812345678") {
		t.Fatalf("plaintext in the table: %d rows", plain)
	}
	c1, err := e.keys.For(ctx, e.t1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c1.Decrypt("orderchat.body", enc); err != nil || got != secret {
		t.Fatalf("decrypt: %q %v", got, err)
	}
	if _, err := c1.Decrypt("users.phone", enc); err == nil {
		t.Fatal("a chat body opened as another field")
	}
	c2, err := e.keys.For(ctx, e.t2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Decrypt("orderchat.body", enc); err == nil {
		t.Fatal("another tenant's keys opened the body")
	}
}

// A sender may post RateLimit messages a minute per order; others, and other orders, are not
// held back, the refusal says when to retry, and the window moves on.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	student, courier := e.user(t, e.t1), e.user(t, e.t1)
	o := e.order(t, e.t1, student, courier, "accepted")
	other := e.order(t, e.t1, student, courier, "accepted")
	for i := range orderchat.RateLimit {
		if _, err := e.svc.Send(ctx, e.t1, student, false, o, "msg"); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
	}
	_, err := e.svc.Send(ctx, e.t1, student, false, o, "one too many")
	var rl *orderchat.RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, orderchat.ErrRateLimited) || rl.RetryAfter() <= 0 || rl.RetryAfter() > orderchat.RateWindow {
		t.Fatalf("21st message: %v", err)
	}
	if _, err := e.svc.Send(ctx, e.t1, courier, false, o, "the courier still may"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Send(ctx, e.t1, student, false, other, "another order still may"); err != nil {
		t.Fatal(err)
	}
	e.in(t, e.t1, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE order_messages SET created_at = created_at - interval '61 seconds' WHERE order_id = ?`, o).Error
	})
	if _, err := e.svc.Send(ctx, e.t1, student, false, o, "a minute later"); err != nil {
		t.Fatalf("after the window: %v", err)
	}

	// A burst from one sender cannot slip past the count.
	burst := e.order(t, e.t1, student, courier, "accepted")
	var wg sync.WaitGroup
	var mu sync.Mutex
	sent, limited := 0, 0
	for range orderchat.RateLimit + 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.Send(ctx, e.t1, courier, false, burst, "burst")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				sent++
			case errors.Is(err, orderchat.ErrRateLimited):
				limited++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if sent != orderchat.RateLimit || limited != 10 {
		t.Fatalf("burst: %d sent, %d limited; want %d and 10", sent, limited, orderchat.RateLimit)
	}
}

// Staff reads are audited (bodies are personal data); the parties' own reads are not.
func TestStaffReadsAreAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	student, support := e.user(t, e.t1), e.user(t, e.t1)
	e.staff.add(support)
	o := e.order(t, e.t1, student, "", "awaiting_courier")
	if _, err := e.svc.Send(ctx, e.t1, student, false, o, "hi"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.List(ctx, e.t1, student, false, o, 0, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.List(ctx, e.t1, support, true, o, 0, 10); err != nil {
		t.Fatal(err)
	}
	var rows []struct{ Actor, Action, Target string }
	e.in(t, e.t1, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT actor, action, target FROM audit_log WHERE action LIKE 'orderchat.%'`).Scan(&rows).Error
	})
	if len(rows) != 1 || rows[0].Actor != "user:"+support || rows[0].Action != "orderchat.read" || rows[0].Target != "order:"+o {
		t.Fatalf("audit rows %+v", rows)
	}
}
