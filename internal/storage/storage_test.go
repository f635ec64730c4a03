package storage_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/storage"
)

// fakeS3 serves the S3 protocol in-process (gofakes3) with one empty bucket and returns the
// configuration of a real minio-go client pointed at it.
func fakeS3(t *testing.T, bucket string) config.StorageS3 {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return config.StorageS3{Endpoint: u.Host, Bucket: bucket, Region: "us-east-1",
		AccessKey: "paotui", SecretKey: "paotui-secret", PathStyle: true}
}

// drivers builds each driver on a fresh, empty backing store.
var drivers = []struct {
	name string
	open func(t *testing.T) storage.Store
}{
	{"local", func(t *testing.T) storage.Store {
		s, err := storage.Local(filepath.Join(t.TempDir(), "files"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
	{"s3", func(t *testing.T) storage.Store {
		s, err := storage.S3(fakeS3(t, "paotui-test"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
}

// TestConformance holds every driver to the Store contract.
func TestConformance(t *testing.T) {
	t.Parallel()
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			conformance(t, d.open)
		})
	}
}

func conformance(t *testing.T, open func(t *testing.T) storage.Store) {
	ctx := context.Background()

	t.Run("put then open returns the bytes and the content type", func(t *testing.T) {
		s := open(t)
		data := randomBytes(t, 300<<10)
		key := "t/7/orders/0b7c/9f2e.png"
		put(t, s, key, "image/png", data)
		got, info := read(t, s, key)
		if !bytes.Equal(got, data) {
			t.Fatalf("read %d bytes differing from the %d put", len(got), len(data))
		}
		if info.Key != key || info.ContentType != "image/png" || info.Size != int64(len(data)) || info.ModTime.IsZero() {
			t.Fatalf("info %+v", info)
		}
	})

	t.Run("put replaces content and content type", func(t *testing.T) {
		s := open(t)
		put(t, s, "a/b.bin", "image/png", []byte("first version"))
		put(t, s, "a/b.bin", "image/webp", []byte("second"))
		got, info := read(t, s, "a/b.bin")
		if string(got) != "second" || info.ContentType != "image/webp" || info.Size != 6 {
			t.Fatalf("after replace: %q %+v", got, info)
		}
	})

	t.Run("keys are distinct", func(t *testing.T) {
		s := open(t)
		put(t, s, "x/1", "text/plain", []byte("one"))
		put(t, s, "x/2", "text/plain", []byte("two"))
		put(t, s, "X/1", "text/plain", []byte("upper"))
		for key, want := range map[string]string{"x/1": "one", "x/2": "two", "X/1": "upper"} {
			if got, _ := read(t, s, key); string(got) != want {
				t.Errorf("%s = %q, want %q", key, got, want)
			}
		}
	})

	t.Run("missing key", func(t *testing.T) {
		s := open(t)
		put(t, s, "present/file", "text/plain", []byte("x"))
		for _, key := range []string{"absent", "present/other", "present/file/below", "present"} {
			if rc, _, err := s.Open(ctx, key); !errors.Is(err, storage.ErrNotFound) {
				if rc != nil {
					rc.Close()
				}
				t.Errorf("Open(%q) = %v, want ErrNotFound", key, err)
			}
		}
	})

	t.Run("delete", func(t *testing.T) {
		s := open(t)
		put(t, s, "d/e.jpg", "image/jpeg", []byte("jpeg"))
		put(t, s, "d/f.jpg", "image/jpeg", []byte("kept"))
		if err := s.Delete(ctx, "d/e.jpg"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Open(ctx, "d/e.jpg"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("open after delete: %v", err)
		}
		if err := s.Delete(ctx, "d/e.jpg"); err != nil {
			t.Fatalf("deleting twice: %v", err)
		}
		if err := s.Delete(ctx, "never/there"); err != nil {
			t.Fatalf("deleting a missing key: %v", err)
		}
		if err := s.Delete(ctx, "d"); err != nil {
			t.Fatalf("deleting a key that is only a prefix: %v", err)
		}
		if got, _ := read(t, s, "d/f.jpg"); string(got) != "kept" {
			t.Fatalf("neighbour %q", got)
		}
	})

	t.Run("a reader that ends early stores nothing", func(t *testing.T) {
		s := open(t)
		put(t, s, "p/q", "text/plain", []byte("old content"))
		err := s.Put(ctx, "p/q", "text/plain", strings.NewReader("short"), 100)
		if err == nil {
			t.Fatal("put of 5 bytes declared as 100 succeeded")
		}
		if got, info := read(t, s, "p/q"); string(got) != "old content" || info.ContentType != "text/plain" {
			t.Fatalf("old content lost: %q %+v", got, info)
		}
		err = s.Put(ctx, "p/r", "text/plain", iotest.ErrReader(errors.New("network down")), 10)
		if err == nil {
			t.Fatal("put from a failing reader succeeded")
		}
		if _, _, err := s.Open(ctx, "p/r"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("failed put left a file: %v", err)
		}
	})

	t.Run("delete prefix removes a folder and nothing else", func(t *testing.T) {
		s := open(t)
		put(t, s, "t/8/branding/logo", "image/png", []byte("logo"))
		put(t, s, "t/8/orders/o1/p1.jpg", "image/jpeg", []byte("photo"))
		put(t, s, "t/80/branding/logo", "image/png", []byte("another tenant"))
		put(t, s, "t/8x", "text/plain", []byte("a sibling key"))
		if err := s.DeletePrefix(ctx, "t/8"); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"t/8/branding/logo", "t/8/orders/o1/p1.jpg"} {
			if _, _, err := s.Open(ctx, key); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("%s after DeletePrefix: %v", key, err)
			}
		}
		for _, key := range []string{"t/80/branding/logo", "t/8x"} {
			if _, _, err := s.Open(ctx, key); err != nil {
				t.Errorf("%s was removed with t/8: %v", key, err)
			}
		}
		if err := s.DeletePrefix(ctx, "t/8"); err != nil {
			t.Errorf("deleting an empty folder again: %v", err)
		}
		if err := s.DeletePrefix(ctx, "../t"); !errors.Is(err, storage.ErrBadKey) {
			t.Errorf("DeletePrefix of a bad key: %v", err)
		}
	})

	t.Run("keys that could escape are refused", func(t *testing.T) {
		s := open(t)
		for _, key := range badKeys {
			if err := s.Put(ctx, key, "text/plain", strings.NewReader("x"), 1); !errors.Is(err, storage.ErrBadKey) {
				t.Errorf("Put(%q) = %v, want ErrBadKey", key, err)
			}
			if _, _, err := s.Open(ctx, key); !errors.Is(err, storage.ErrBadKey) {
				t.Errorf("Open(%q) = %v, want ErrBadKey", key, err)
			}
			if err := s.Delete(ctx, key); !errors.Is(err, storage.ErrBadKey) {
				t.Errorf("Delete(%q) = %v, want ErrBadKey", key, err)
			}
		}
	})
}

var badKeys = []string{
	"", "../secret", "a/../../secret", "a/..", "..", ".", "./a", "/etc/passwd", "a//b", "a/", "/",
	`a\..\..\secret`, `C:\Windows`, "a/.hidden", ".b.meta", "a/.tmp-123", "a/b c", "a\x00b", "ü/x",
	"a%2f..%2fb", "a/b?c", strings.Repeat("k", storage.MaxKeyLen+1),
}

func TestValidKey(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"a", "t/12/orders/0b7c7d2e-8a1f-4a43-9f0e-2d4b1c9e7a10/5f1d.png", "A-b_c.d/e..f",
		strings.Repeat("k", storage.MaxKeyLen)} {
		if err := storage.ValidKey(key); err != nil {
			t.Errorf("ValidKey(%q) = %v", key, err)
		}
	}
	for _, key := range badKeys {
		if err := storage.ValidKey(key); !errors.Is(err, storage.ErrBadKey) {
			t.Errorf("ValidKey(%q) = %v, want ErrBadKey", key, err)
		}
	}
}

// FuzzValidKey: whatever the key, one that passes stays inside the store's directory.
func FuzzValidKey(f *testing.F) {
	for _, k := range append([]string{"a/b.png", "t/1/orders/x/y.jpg", "a..b/c"}, badKeys...) {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if storage.ValidKey(key) != nil {
			return
		}
		p := filepath.FromSlash(key)
		if !filepath.IsLocal(p) || filepath.Clean(p) != p || strings.Contains("/"+key+"/", "/../") {
			t.Fatalf("ValidKey accepted %q, which is not a clean local path", key)
		}
	})
}

// The local driver writes only below its directory: a traversal attempt cannot reach a file
// planted beside it, failed writes leave no temporary files, and the content-type bookkeeping
// cannot be read or overwritten as a key.
func TestLocalStaysInItsDirectory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "secret"), []byte("outside"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := storage.Local(filepath.Join(root, "files"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"../secret", "a/../../secret", "../files/../secret"} {
		if _, _, err := s.Open(ctx, key); !errors.Is(err, storage.ErrBadKey) {
			t.Errorf("Open(%q) = %v", key, err)
		}
		if err := s.Put(ctx, key, "text/plain", strings.NewReader("pwned"), 5); !errors.Is(err, storage.ErrBadKey) {
			t.Errorf("Put(%q) = %v", key, err)
		}
	}
	if raw, _ := os.ReadFile(filepath.Join(root, "secret")); string(raw) != "outside" {
		t.Fatalf("file outside the store changed: %q", raw)
	}

	put(t, s, "o/photo.png", "image/png", []byte("png"))
	_ = s.Put(ctx, "o/broken.png", "image/png", strings.NewReader("ab"), 3)
	_ = s.Put(ctx, "o/long.png", "image/png", strings.NewReader("abcd"), 3)
	var names []string
	err = filepath.WalkDir(s.Dir(), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(s.Dir(), path)
			names = append(names, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "o/.photo.png.meta,o/photo.png" {
		t.Fatalf("files in the store: %v", names)
	}
	if err := s.Put(ctx, "o/.photo.png.meta", "text/plain", strings.NewReader("{}"), 2); !errors.Is(err, storage.ErrBadKey) {
		t.Fatalf("metadata reachable as a key: %v", err)
	}
	if err := s.Put(ctx, "o/too-long", "text/plain", strings.NewReader("abcd"), 3); !errors.Is(err, storage.ErrSize) {
		t.Fatalf("longer reader: %v", err)
	}
	if err := s.Put(ctx, "o/unknown-size", "text/plain", strings.NewReader("abcd"), -1); !errors.Is(err, storage.ErrSize) {
		t.Fatalf("unknown size: %v", err)
	}
}

func TestOpenPicksTheDriver(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "var", "storage")
	s, err := storage.Open(config.Storage{Driver: "local", Local: config.StorageLocal{Dir: dir}})
	if _, ok := s.(*storage.LocalStore); err != nil || !ok {
		t.Fatalf("local: %T %v", s, err)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("local dir not created: %v", err)
	}
	s, err = storage.Open(config.Storage{Driver: "s3", S3: fakeS3(t, "paotui")})
	if _, ok := s.(*storage.S3Store); err != nil || !ok {
		t.Fatalf("s3: %T %v", s, err)
	}
	if _, err := storage.Open(config.Storage{Driver: "ftp"}); err == nil {
		t.Fatal("unknown driver accepted")
	}
}

// An S3 bucket reached without path-style addressing or with a wrong bucket fails clearly
// instead of writing elsewhere.
func TestS3MissingBucket(t *testing.T) {
	t.Parallel()
	cfg := fakeS3(t, "paotui")
	cfg.Bucket = "other"
	s, err := storage.S3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), "a", "text/plain", strings.NewReader("x"), 1); err == nil {
		t.Fatal("put into a missing bucket succeeded")
	}
	if _, _, err := s.Open(context.Background(), "a"); err == nil || errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("open in a missing bucket: %v (a missing bucket is a configuration error, not a missing file)", err)
	}
}

func put(t *testing.T, s storage.Store, key, contentType string, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), key, contentType, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func read(t *testing.T, s storage.Store, key string) ([]byte, storage.Info) {
	t.Helper()
	rc, info, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return data, info
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
