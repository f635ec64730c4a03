package orderchat_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/orderchat"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// chatHTTP is the demo campus with its people signed in, and an HTTP server with the chat
// operations on the app's real gate (tokens, Casbin permissions, tenant hosts).
type chatHTTP struct {
	*apptest.Env
	tn   *tenancy.Tenant
	host string
	srv  *httptest.Server
	// Demo accounts: owner, dispatcher, finance, support, two students, two couriers.
	owner, dispatcher, finance, support, student, student2, courier, courier2 *apptest.Session
}

func newChatHTTP(t *testing.T) *chatHTTP {
	t.Helper()
	env := apptest.New(t)
	c := &chatHTTP{Env: env, tn: env.Tenant("campus", "13800000000", "demo"), host: env.Host("campus")}
	c.owner = env.Login("campus", "13800000000")
	c.dispatcher = env.Login("campus", "13800000001")
	c.finance = env.Login("campus", "13800000002")
	c.support = env.Login("campus", "13800000003")
	c.student = env.Login("campus", "13900000001")
	c.student2 = env.Login("campus", "13900000002")
	c.courier = env.Login("campus", "13700000001")
	c.courier2 = env.Login("campus", "13700000002")

	// The application's own router: its gate, its chat service and its body limit, from
	// which the photo upload opts out to enforce its own larger one.
	srv := env.App.HTTP()
	c.srv = httptest.NewUnstartedServer(srv)
	// Like production's http.read_timeout (15s), scaled down: uploads must outlast it.
	c.srv.Config.ReadTimeout = time.Second
	c.srv.Start()
	t.Cleanup(c.srv.Close)
	return c
}

// order inserts an order of the first student held by the first courier.
func (c *chatHTTP) order(t *testing.T, status string) string {
	t.Helper()
	id := uuid.NewString()
	err := c.App.DB.InTenant(context.Background(), c.tn, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO orders (id, student_id, courier_id, task_type, status, pickup_name, pickup_lng, pickup_lat,
			dropoff_name, dropoff_lng, dropoff_lat, form_enc, distance_m, price_lines, total, courier_share_bp, quote_id, pay_by)
			VALUES (?, ?, ?, 'parcel_pickup', ?, '南门', 114.1, 30.5, '3号楼', 114.2, 30.6, '\x00', 500, '[]', 800, 8000, ?, now())`,
			id, c.student.User.ID, c.courier.User.ID, status, "q-"+id).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) problem(t *testing.T) httpx.Problem {
	t.Helper()
	var p httpx.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("not a problem: %s", r.body)
	}
	return p
}

func (c *chatHTTP) do(t *testing.T, method, path string, s *apptest.Session, contentType string, body io.Reader) reply {
	t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = c.host
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if s != nil {
		req.Header.Set("Authorization", "Bearer "+s.AccessToken)
	}
	res, err := c.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: raw}
}

func (c *chatHTTP) send(t *testing.T, s *apptest.Session, orderID, text string) reply {
	t.Helper()
	raw, _ := json.Marshal(map[string]string{"body": text})
	return c.do(t, "POST", "/api/v1/orders/"+orderID+"/messages", s, "application/json", bytes.NewReader(raw))
}

// form builds a multipart body: fields in order, the photo part named photo with a claimed type.
func form(t *testing.T, fields map[string]string, photo []byte, claimed string) (string, io.Reader) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if photo != nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="photo"; filename="door.jpg"`)
		h.Set("Content-Type", claimed)
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = pw.Write(photo)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), &buf
}

type messageJSON struct {
	ID         int64  `json:"id"`
	SenderID   string `json:"senderId"`
	SenderKind string `json:"senderKind"`
	Body       string `json:"body"`
}

// The chat through the real gate: permissions decide who reaches an operation, the order
// decides who takes part, and problems carry their codes.
func TestChatHTTP(t *testing.T) {
	t.Parallel()
	c := newChatHTTP(t)
	o := c.order(t, "picked_up")
	msgs := "/api/v1/orders/" + o + "/messages"

	t.Run("an empty chat lists as []", func(t *testing.T) {
		r := c.do(t, "GET", msgs, c.student, "", nil)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `"items":[]`) {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})

	for _, s := range []struct {
		name string
		who  *apptest.Session
		kind string
	}{{"student", c.student, "student"}, {"courier", c.courier, "courier"}, {"support", c.support, "staff"}, {"owner", c.owner, "staff"}} {
		r := c.send(t, s.who, o, "  来自"+s.name+"的消息 ")
		var m messageJSON
		_ = json.Unmarshal(r.body, &m)
		if r.status != http.StatusCreated || m.SenderKind != s.kind || m.SenderID != s.who.User.ID || m.Body != "来自"+s.name+"的消息" {
			t.Fatalf("%s sends: %d %s", s.name, r.status, r.body)
		}
	}

	cases := []struct {
		name   string
		method string
		who    *apptest.Session
		path   string
		body   string
		status int
		code   string
	}{
		{"dispatcher reads", "GET", c.dispatcher, msgs, "", http.StatusOK, ""},
		{"dispatcher may not write", "POST", c.dispatcher, msgs, `{"body":"hi"}`, http.StatusForbidden, "permission_denied"},
		{"finance may not read", "GET", c.finance, msgs, "", http.StatusForbidden, "permission_denied"},
		{"another student reads nothing", "GET", c.student2, msgs, "", http.StatusNotFound, "order_not_found"},
		{"another courier writes nothing", "POST", c.courier2, msgs, `{"body":"hi"}`, http.StatusNotFound, "order_not_found"},
		{"signed out", "GET", nil, msgs, "", http.StatusUnauthorized, "unauthorized"},
		{"unknown order", "GET", c.student, "/api/v1/orders/" + uuid.NewString() + "/messages", "", http.StatusNotFound, "order_not_found"},
		{"not an order id", "GET", c.student, "/api/v1/orders/nope/messages", "", http.StatusUnprocessableEntity, ""},
		{"blank message", "POST", c.student, msgs, `{"body":"   "}`, http.StatusUnprocessableEntity, "message_invalid"},
		{"long message", "POST", c.student, msgs, `{"body":"` + strings.Repeat("长", 501) + `"}`, http.StatusUnprocessableEntity, "message_invalid"},
		{"no body", "POST", c.student, msgs, `{}`, http.StatusUnprocessableEntity, ""},
		{"limit too large", "GET", c.student, msgs + "?limit=101", "", http.StatusUnprocessableEntity, ""},
		{"negative cursor", "GET", c.student, msgs + "?after=-1", "", http.StatusUnprocessableEntity, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			ct := ""
			if tc.body != "" {
				body, ct = strings.NewReader(tc.body), "application/json"
			}
			r := c.do(t, tc.method, tc.path, tc.who, ct, body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.code != "" && r.problem(t).Code != tc.code {
				t.Fatalf("code %q, want %q", r.problem(t).Code, tc.code)
			}
		})
	}

	t.Run("paging", func(t *testing.T) {
		var page struct {
			Items []messageJSON `json:"items"`
			More  bool          `json:"more"`
		}
		r := c.do(t, "GET", msgs+"?limit=3", c.courier, "", nil)
		if err := json.Unmarshal(r.body, &page); err != nil || len(page.Items) != 3 || !page.More || page.Items[0].SenderKind != "student" {
			t.Fatalf("first page: %d %s", r.status, r.body)
		}
		r = c.do(t, "GET", fmt.Sprintf("%s?after=%d", msgs, page.Items[2].ID), c.courier, "", nil)
		page.Items = nil
		if err := json.Unmarshal(r.body, &page); err != nil || len(page.Items) != 1 || page.More || page.Items[0].SenderID != c.owner.User.ID {
			t.Fatalf("second page: %d %s", r.status, r.body)
		}
	})

	t.Run("rate limit", func(t *testing.T) {
		o := c.order(t, "accepted")
		var r reply
		for i := 0; i <= orderchat.RateLimit; i++ {
			r = c.send(t, c.courier, o, fmt.Sprintf("到了 %d", i))
			if i < orderchat.RateLimit && r.status != http.StatusCreated {
				t.Fatalf("message %d: %d %s", i+1, r.status, r.body)
			}
		}
		if r.status != http.StatusTooManyRequests || r.problem(t).Code != "chat_rate_limited" || r.header.Get("Retry-After") == "" {
			t.Fatalf("past the limit: %d %v %s", r.status, r.header, r.body)
		}
	})

	t.Run("closed after completion", func(t *testing.T) {
		done := c.order(t, "completed")
		if r := c.send(t, c.student, done, "还在吗"); r.status != http.StatusConflict || r.problem(t).Code != "chat_closed" {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := c.send(t, c.support, done, "客服跟进"); r.status != http.StatusCreated {
			t.Fatalf("staff on a completed order: %d %s", r.status, r.body)
		}
	})
}

func TestPhotosHTTP(t *testing.T) {
	t.Parallel()
	c := newChatHTTP(t)
	o := c.order(t, "picked_up")
	photos := "/api/v1/orders/" + o + "/photos"

	ct, body := form(t, map[string]string{"note": "门口"}, pngBytes, "image/jpeg")
	r := c.do(t, "POST", photos, c.courier, ct, body)
	var ph struct {
		ID          string `json:"id"`
		ContentType string `json:"contentType"`
		Size        int64  `json:"size"`
	}
	if err := json.Unmarshal(r.body, &ph); err != nil || r.status != http.StatusCreated || ph.ContentType != "image/png" || ph.Size != int64(len(pngBytes)) {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}

	// A 3 MiB photo is above the server-wide body limit (http.body_limit, 2M) but within the
	// upload's own: the operation opts out of the former.
	mid := append(append([]byte{}, pngBytes...), make([]byte, 3<<20)...)
	if ct, b := form(t, nil, mid, "image/png"); true {
		r := c.do(t, "POST", photos, c.courier, ct, b)
		if r.status != http.StatusCreated {
			t.Fatalf("3 MiB upload: %d %s", r.status, r.body)
		}
	}
	big := append(append([]byte{}, pngBytes...), make([]byte, orderchat.MaxPhotoBytes)...)
	photoForm := func(data []byte, claimed string) func() (string, io.Reader) {
		return func() (string, io.Reader) { return form(t, nil, data, claimed) }
	}
	delivered := "/api/v1/orders/" + c.order(t, "delivered") + "/photos"
	uploads := []struct {
		name   string
		who    *apptest.Session
		path   string
		body   func() (contentType string, body io.Reader)
		status int
		code   string
	}{
		{"text claiming to be a png", c.courier, photos, photoForm([]byte(strings.Repeat("hello ", 200)), "image/png"), http.StatusUnsupportedMediaType, "photo_type"},
		{"over 5 MiB", c.courier, photos, photoForm(big, "image/png"), http.StatusRequestEntityTooLarge, "photo_too_large"},
		{"no photo field", c.courier, photos, func() (string, io.Reader) { return form(t, map[string]string{"x": "y"}, nil, "") },
			http.StatusUnprocessableEntity, "photo_missing"},
		{"json instead of a form", c.courier, photos, func() (string, io.Reader) { return "application/json", strings.NewReader(`{"photo":"x"}`) },
			http.StatusUnsupportedMediaType, "photo_form_invalid"},
		{"student lacks trips:photo", c.student, photos, photoForm(pngBytes, "image/png"), http.StatusForbidden, "permission_denied"},
		{"another courier", c.courier2, photos, photoForm(pngBytes, "image/png"), http.StatusNotFound, "order_not_found"},
		{"order already delivered", c.courier, delivered, photoForm(pngBytes, "image/png"), http.StatusConflict, "photo_not_allowed"},
	}
	for _, tc := range uploads {
		t.Run(tc.name, func(t *testing.T) {
			ct, b := tc.body()
			r := c.do(t, "POST", tc.path, tc.who, ct, b)
			if r.status != tc.status || r.problem(t).Code != tc.code {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
		})
	}

	photo := photos + "/" + ph.ID
	for _, tc := range []struct {
		name   string
		who    *apptest.Session
		path   string
		status int
		code   string
	}{
		{"student", c.student, photo, http.StatusOK, ""},
		{"courier", c.courier, photo, http.StatusOK, ""},
		{"dispatcher", c.dispatcher, photo, http.StatusOK, ""},
		{"finance", c.finance, photo, http.StatusForbidden, "permission_denied"},
		{"another student", c.student2, photo, http.StatusNotFound, "order_not_found"},
		{"unknown photo", c.student, photos + "/" + uuid.NewString(), http.StatusNotFound, "photo_not_found"},
	} {
		t.Run("get as "+tc.name, func(t *testing.T) {
			r := c.do(t, "GET", tc.path, tc.who, "", nil)
			if r.status != tc.status {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if tc.code != "" {
				if r.problem(t).Code != tc.code {
					t.Fatalf("code %q", r.problem(t).Code)
				}
				return
			}
			if !bytes.Equal(r.body, pngBytes) || r.header.Get("Content-Type") != "image/png" || r.header.Get("Cache-Control") != "private" ||
				r.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("photo: %v, %d bytes", r.header, len(r.body))
			}
		})
	}

	// A photo that takes longer to arrive than the server's read timeout (1s here) still
	// arrives: the operation sets its own deadline. (huma gives operations with a JSON body a
	// 5s deadline of their own; this one reads its body itself.)
	t.Run("slow upload", func(t *testing.T) {
		ct, b := form(t, nil, pngBytes, "image/png")
		raw, _ := io.ReadAll(b)
		if status := c.slowPost(t, photos, c.courier, ct, raw); status != http.StatusCreated {
			t.Fatalf("slow upload: %d", status)
		}
	})

	t.Run("openapi", func(t *testing.T) {
		r := c.do(t, "GET", "/api/openapi.json", nil, "", nil)
		var doc struct {
			Paths map[string]map[string]struct {
				OperationID string `json:"operationId"`
				RequestBody *struct {
					Content map[string]struct {
						Schema struct {
							Properties map[string]struct{ Format string } `json:"properties"`
						} `json:"schema"`
					} `json:"content"`
				} `json:"requestBody"`
			} `json:"paths"`
		}
		if err := json.Unmarshal(r.body, &doc); err != nil {
			t.Fatal(err)
		}
		ids := map[string]string{}
		for path, ops := range doc.Paths {
			for method, op := range ops {
				ids[op.OperationID] = method + " " + path
			}
		}
		want := map[string]string{
			"list-order-messages":   "get /api/v1/orders/{orderId}/messages",
			"send-order-message":    "post /api/v1/orders/{orderId}/messages",
			"upload-delivery-photo": "post /api/v1/orders/{orderId}/photos",
			"get-order-photo":       "get /api/v1/orders/{orderId}/photos/{photoId}",
		}
		for id, where := range want {
			if ids[id] != where {
				t.Errorf("%s at %q, want %q", id, ids[id], where)
			}
		}
		up := doc.Paths["/api/v1/orders/{orderId}/photos"]["post"].RequestBody
		if up == nil || up.Content["multipart/form-data"].Schema.Properties["photo"].Format != "binary" {
			t.Fatalf("upload request body not documented as a form: %+v", up)
		}
	})
}

// slowPost sends a request over a raw connection, its body in five parts 400 ms apart (a
// client on a slow link; http.Client would buffer a small body and send it at once), and
// returns the status, or 0 when the server hung up.
func (c *chatHTTP) slowPost(t *testing.T, path string, s *apptest.Session, contentType string, body []byte) int {
	t.Helper()
	conn, err := net.Dial("tcp", c.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		path, c.host, s.AccessToken, contentType, len(body))
	step := len(body)/5 + 1
	for len(body) > 0 {
		time.Sleep(400 * time.Millisecond)
		n := min(step, len(body))
		if _, err := conn.Write(body[:n]); err != nil {
			return 0
		}
		body = body[n:]
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}
