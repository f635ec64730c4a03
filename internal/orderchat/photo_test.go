package orderchat_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/orderchat"
	"github.com/paotui/paotui/internal/storage"
)

// Minimal files of each kind, as far as http.DetectContentType looks.
var (
	pngBytes  = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{7}, 2000)...)
	jpegBytes = append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), bytes.Repeat([]byte{9}, 2000)...)
	webpBytes = append([]byte("RIFF\x24\x00\x00\x00WEBPVP8 "), bytes.Repeat([]byte{3}, 2000)...)
	gifBytes  = append([]byte("GIF89a"), bytes.Repeat([]byte{1}, 100)...)
)

// countingReader counts what the service reads of an upload.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// endless is a PNG header followed by zeros for ever: a client that never stops sending.
type endless struct{ head []byte }

func (e *endless) Read(p []byte) (int, error) {
	n := copy(p, e.head)
	e.head = e.head[n:]
	clear(p[n:])
	return len(p), nil
}

// photoFiles lists the files (not the metadata) in the store.
func photoFiles(t *testing.T, e *env) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(e.files.Dir(), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			rel, _ := filepath.Rel(e.files.Dir(), path)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func photoRows(t *testing.T, e *env, orderID string) int {
	t.Helper()
	var n int
	e.in(t, e.t1, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT count(*) FROM order_photos WHERE order_id = ?`, orderID).Row().Scan(&n)
	})
	return n
}

// The type is what the bytes are, whatever the client says: a PNG sent as image/jpeg is
// stored as a PNG; text sent as image/png and other image types are refused.
func TestPhotoTypeIsSniffed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	student, courier := e.user(t, e.t1), e.user(t, e.t1)
	o := e.order(t, e.t1, student, courier, "picked_up")
	cases := []struct {
		name    string
		claim   string
		data    []byte
		want    string // "" when refused
		wantExt string
	}{
		{"png claimed as jpeg", "image/jpeg", pngBytes, "image/png", "png"},
		{"jpeg", "image/jpeg", jpegBytes, "image/jpeg", "jpg"},
		{"webp without a claim", "", webpBytes, "image/webp", "webp"},
		{"png claimed as octet-stream", "application/octet-stream", pngBytes, "image/png", "png"},
		{"text claimed as png", "image/png", []byte(strings.Repeat("not an image at all ", 100)), "", ""},
		{"html claimed as png", "image/png", []byte("<html><script>alert(1)</script></html>"), "", ""},
		{"gif", "image/gif", gifBytes, "", ""},
		{"empty", "image/png", nil, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := photoRows(t, e, o)
			ph, err := e.svc.UploadPhoto(ctx, e.t1, courier, o, tc.claim, bytes.NewReader(tc.data))
			if tc.want == "" {
				if !errors.Is(err, orderchat.ErrPhotoType) {
					t.Fatalf("got %+v %v, want ErrPhotoType", ph, err)
				}
				if photoRows(t, e, o) != before {
					t.Fatal("a refused photo was recorded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(tc.data)
			if ph.ContentType != tc.want || ph.Size != int64(len(tc.data)) || ph.SHA256 != hex.EncodeToString(sum[:]) ||
				ph.OrderID != o || ph.UploadedBy != courier || ph.CreatedAt.IsZero() {
				t.Fatalf("photo %+v", ph)
			}
			// Stored under the tenant's and order's prefix with the sniffed extension.
			raw, err := os.ReadFile(filepath.Join(e.files.Dir(), filepath.FromSlash(orderchat.PhotoKey(e.t1.ID, o, ph.ID, tc.wantExt))))
			if err != nil || !bytes.Equal(raw, tc.data) {
				t.Fatalf("stored file: %v", err)
			}
			var row struct {
				StorageKey, ContentType string
				SizeBytes               int64
				Sha256                  []byte
			}
			e.in(t, e.t1, func(tx *gorm.DB) error {
				return tx.Raw(`SELECT storage_key, content_type, size_bytes, sha256 FROM order_photos WHERE id = ?`, ph.ID).Scan(&row).Error
			})
			if row.StorageKey != orderchat.PhotoKey(e.t1.ID, o, ph.ID, tc.wantExt) || row.ContentType != tc.want ||
				row.SizeBytes != int64(len(tc.data)) || !bytes.Equal(row.Sha256, sum[:]) {
				t.Fatalf("row %+v", row)
			}
		})
	}
	if got := photoFiles(t, e); len(got) != 4 {
		t.Fatalf("files %v, want the 4 accepted photos", got)
	}
}

// At most MaxPhotoBytes, and the service never reads more than one byte past the limit, so an
// endless upload costs 5 MiB, not the server; a non-image costs its first 512 bytes.
func TestPhotoSizeLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	student, courier := e.user(t, e.t1), e.user(t, e.t1)
	o := e.order(t, e.t1, student, courier, "accepted")

	exact := append(append([]byte{}, pngBytes...), make([]byte, orderchat.MaxPhotoBytes-len(pngBytes))...)
	if ph, err := e.svc.UploadPhoto(ctx, e.t1, courier, o, "image/png", bytes.NewReader(exact)); err != nil || ph.Size != orderchat.MaxPhotoBytes {
		t.Fatalf("photo of exactly 5 MiB: %+v %v", ph, err)
	}
	over := append(exact, 0)
	if _, err := e.svc.UploadPhoto(ctx, e.t1, courier, o, "image/png", bytes.NewReader(over)); !errors.Is(err, orderchat.ErrPhotoTooLarge) {
		t.Fatalf("5 MiB + 1 byte: %v", err)
	}
	stream := &countingReader{r: &endless{head: append([]byte{}, pngBytes...)}}
	if _, err := e.svc.UploadPhoto(ctx, e.t1, courier, o, "image/png", stream); !errors.Is(err, orderchat.ErrPhotoTooLarge) {
		t.Fatalf("endless upload: %v", err)
	}
	if stream.n > orderchat.MaxPhotoBytes+1 {
		t.Fatalf("read %d bytes of an endless upload", stream.n)
	}
	text := &countingReader{r: io.MultiReader(strings.NewReader(strings.Repeat("x", 600)), &endless{})}
	if _, err := e.svc.UploadPhoto(ctx, e.t1, courier, o, "image/png", text); !errors.Is(err, orderchat.ErrPhotoType) || text.n > 512 {
		t.Fatalf("endless text: %v after %d bytes", err, text.n)
	}
	if n := photoRows(t, e, o); n != 1 || len(photoFiles(t, e)) != 1 {
		t.Fatalf("%d rows, files %v; want only the 5 MiB photo", n, photoFiles(t, e))
	}
}

// Only the order's current courier, only while accepted or picked up; the upload is not read
// at all when refused.
func TestWhoMayUploadPhotos(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	student, courier, other := e.user(t, e.t1), e.user(t, e.t1), e.user(t, e.t1)
	e.staff.add(other)
	cases := []struct {
		name   string
		who    string
		order  string
		status string
		want   error
	}{
		{"courier, accepted", courier, e.order(t, e.t1, student, courier, "accepted"), "", nil},
		{"courier, picked up", courier, e.order(t, e.t1, student, courier, "picked_up"), "", nil},
		{"courier, delivered", courier, e.order(t, e.t1, student, courier, "delivered"), "", orderchat.ErrPhotoNotAllowed},
		{"courier, completed", courier, e.order(t, e.t1, student, courier, "completed"), "", orderchat.ErrPhotoNotAllowed},
		{"student", student, e.order(t, e.t1, student, courier, "accepted"), "", orderchat.ErrNotFound},
		{"another courier", other, e.order(t, e.t1, student, courier, "accepted"), "", orderchat.ErrNotFound},
		{"order without a courier", courier, e.order(t, e.t1, student, "", "awaiting_courier"), "", orderchat.ErrNotFound},
		{"unknown order", courier, uuid.NewString(), "", orderchat.ErrNotFound},
		{"path in the order id", courier, "../../etc", "", orderchat.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &countingReader{r: bytes.NewReader(pngBytes)}
			_, err := e.svc.UploadPhoto(ctx, e.t1, tc.who, tc.order, "image/png", r)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err != nil && r.n != 0 {
				t.Fatalf("read %d bytes of a refused upload", r.n)
			}
		})
	}
}

// The last places of an order go to one upload each, and a refused upload leaves no file.
func TestPhotoLimitPerOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	student, courier := e.user(t, e.t1), e.user(t, e.t1)
	o := e.order(t, e.t1, student, courier, "picked_up")
	for range orderchat.MaxPhotosPerOrder - 1 {
		if _, err := e.svc.UploadPhoto(ctx, e.t1, courier, o, "", bytes.NewReader(pngBytes)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.svc.UploadPhoto(ctx, e.t1, courier, o, "", bytes.NewReader(jpegBytes))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, orderchat.ErrTooManyPhotos):
			t.Fatal(err)
		}
	}
	if ok != 1 || photoRows(t, e, o) != orderchat.MaxPhotosPerOrder || len(photoFiles(t, e)) != orderchat.MaxPhotosPerOrder {
		t.Fatalf("%d of the racing uploads won; %d rows, %d files", ok, photoRows(t, e, o), len(photoFiles(t, e)))
	}
	if _, err := e.svc.UploadPhoto(ctx, e.t1, courier, o, "", bytes.NewReader(pngBytes)); !errors.Is(err, orderchat.ErrTooManyPhotos) {
		t.Fatalf("past the limit: %v", err)
	}
}

// Photos are shown to the order's student, current courier and staff (audited); to nobody
// else, and only under their own order.
func TestOpenPhoto(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	student, courier, support, stranger := e.user(t, e.t1), e.user(t, e.t1), e.user(t, e.t1), e.user(t, e.t1)
	e.staff.add(support)
	o := e.order(t, e.t1, student, courier, "picked_up")
	ph, err := e.svc.UploadPhoto(ctx, e.t1, courier, o, "image/jpeg", bytes.NewReader(jpegBytes))
	if err != nil {
		t.Fatal(err)
	}
	otherOrder := e.order(t, e.t1, student, courier, "picked_up")
	cases := []struct {
		name    string
		who     string
		staff   bool
		order   string
		photo   string
		want    error
		audited bool
	}{
		{"student", student, false, o, ph.ID, nil, false},
		{"courier", courier, false, o, ph.ID, nil, false},
		{"staff", support, true, o, ph.ID, nil, true},
		{"stranger", stranger, false, o, ph.ID, orderchat.ErrNotFound, false},
		{"photo under another order", student, false, otherOrder, ph.ID, orderchat.ErrPhotoNotFound, false},
		{"unknown photo", student, false, o, uuid.NewString(), orderchat.ErrPhotoNotFound, false},
		{"not a photo id", student, false, o, "../" + ph.ID, orderchat.ErrPhotoNotFound, false},
		{"upper-case ids", student, false, strings.ToUpper(o), strings.ToUpper(ph.ID), nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc, got, err := e.svc.OpenPhoto(ctx, e.t1, tc.who, tc.staff, tc.order, tc.photo)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			defer rc.Close()
			data, _ := io.ReadAll(rc)
			if !bytes.Equal(data, jpegBytes) || got.ID != ph.ID || got.ContentType != "image/jpeg" || got.SHA256 != ph.SHA256 || got.Size != ph.Size {
				t.Fatalf("photo %+v, %d bytes", got, len(data))
			}
		})
	}
	var audited []string
	e.in(t, e.t1, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT actor FROM audit_log WHERE action = 'orderchat.photo_read' AND target = ?`, "order:"+o).Scan(&audited).Error
	})
	if len(audited) != 1 || audited[0] != "user:"+support {
		t.Fatalf("audited reads %v", audited)
	}

	// A row whose file is gone reads as a missing photo, not a server fault.
	if err := e.files.Delete(ctx, orderchat.PhotoKey(e.t1.ID, o, ph.ID, "jpg")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.OpenPhoto(ctx, e.t1, student, false, o, ph.ID); !errors.Is(err, orderchat.ErrPhotoNotFound) {
		t.Fatalf("photo without its file: %v", err)
	}
}

// deliver-order checks the proof inside its own transaction.
func TestPhotoForDelivery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	student, courier, other := e.user(t, e.t1), e.user(t, e.t1), e.user(t, e.t1)
	o := e.order(t, e.t1, student, courier, "picked_up")
	ph, err := e.svc.UploadPhoto(ctx, e.t1, courier, o, "", bytes.NewReader(pngBytes))
	if err != nil {
		t.Fatal(err)
	}
	// The courier is replaced: the new courier cannot deliver with the old one's photo.
	e.set(t, e.t1, o, other, "picked_up")
	otherOrder := e.order(t, e.t1, student, courier, "picked_up")
	cases := []struct {
		name                    string
		order, photo, courierID string
		want                    error
	}{
		{"the uploader's photo of the order", o, ph.ID, courier, nil},
		{"in upper case", strings.ToUpper(o), strings.ToUpper(ph.ID), strings.ToUpper(courier), nil},
		{"another courier", o, ph.ID, other, orderchat.ErrPhotoNotFound},
		{"another order", otherOrder, ph.ID, courier, orderchat.ErrPhotoNotFound},
		{"unknown photo", o, uuid.NewString(), courier, orderchat.ErrPhotoNotFound},
		{"malformed photo id", o, "x", courier, orderchat.ErrPhotoNotFound},
		{"malformed order id", "x", ph.ID, courier, orderchat.ErrPhotoNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := e.db.InTenant(ctx, e.t1, func(tx *gorm.DB) error {
				return e.svc.PhotoForDelivery(tx, tc.order, tc.photo, tc.courierID)
			})
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// The other tenant has no such photo, whatever ids it is given.
	err = e.db.InTenant(ctx, e.t2, func(tx *gorm.DB) error { return e.svc.PhotoForDelivery(tx, o, ph.ID, courier) })
	if !errors.Is(err, orderchat.ErrPhotoNotFound) {
		t.Fatalf("other tenant: %v", err)
	}
}

// Keys are built from canonical ids only, so whatever spelling of an id reaches the service
// the file lands under the tenant's and order's prefix.
func TestPhotoKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	student, courier := e.user(t, e.t1), e.user(t, e.t1)
	o := e.order(t, e.t1, student, courier, "accepted")
	for _, spelling := range []string{strings.ToUpper(o), "{" + o + "}", "urn:uuid:" + o} {
		ph, err := e.svc.UploadPhoto(context.Background(), e.t1, courier, spelling, "", bytes.NewReader(pngBytes))
		if err != nil {
			t.Fatalf("%s: %v", spelling, err)
		}
		if ph.OrderID != o {
			t.Fatalf("order id %q", ph.OrderID)
		}
	}
	for _, f := range photoFiles(t, e) {
		parts := strings.Split(f, "/")
		if len(parts) != 5 || parts[0] != "t" || parts[1] != strconv.FormatInt(e.t1.ID, 10) || parts[2] != "orders" || parts[3] != o || storage.ValidKey(f) != nil {
			t.Fatalf("file %s outside t/<tenant>/orders/%s/", f, o)
		}
	}
	if err := storage.ValidKey(orderchat.PhotoKey(e.t1.ID, o, uuid.NewString(), "png")); err != nil {
		t.Fatal(err)
	}
}
