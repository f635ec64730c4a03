package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/paotui/paotui/internal/config"
)

// Errors of every driver.
var (
	// ErrNotFound is returned by Open for a key that holds nothing.
	ErrNotFound = errors.New("storage: no such file")
	// ErrBadKey is returned for a key that ValidKey refuses.
	ErrBadKey = errors.New("storage: invalid key")
	// ErrSize is returned by Local's Put when the reader does not hold exactly size bytes;
	// nothing is stored then.
	ErrSize = errors.New("storage: content length differs from the declared size")
)

// Store keeps files by key. Implementations are safe for concurrent use.
type Store interface {
	// Put stores size bytes of r under key with its content type, replacing what was there.
	// A reader that ends before size bytes fails (Local: ErrSize; S3: the client's error) and
	// leaves the previous content, if any, in place: readers never see a half-written file.
	// Local also refuses a reader holding more than size bytes; S3 stores the first size.
	Put(ctx context.Context, key, contentType string, r io.Reader, size int64) error
	// Open returns the file's content, which the caller must close, and what is known of it.
	// A missing key yields ErrNotFound.
	Open(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Delete removes the file; deleting a missing key is not an error (S3 semantics), so a
	// retried clean-up succeeds.
	Delete(ctx context.Context, key string) error
	// DeletePrefix removes every file whose key starts with prefix + "/" (a whole folder, such
	// as everything of one tenant). prefix must be a valid key; nothing there is not an error.
	DeletePrefix(ctx context.Context, prefix string) error
}

// Info describes a stored file.
type Info struct {
	Key         string
	ContentType string
	Size        int64
	ModTime     time.Time
}

// MaxKeyLen bounds keys well below every service's limit (S3: 1024 bytes).
const MaxKeyLen = 512

// ValidKey accepts slash-separated segments of ASCII letters, digits, '.', '_' and '-', none
// empty, none starting with '.', at most MaxKeyLen bytes in all. The rule is a whitelist on
// purpose: it rules out "..", absolute paths, backslashes, NUL and every other way a key could
// name something outside the store on some operating system, and it leaves names beginning
// with '.' to the drivers' own bookkeeping (Local's metadata and temporary files).
func ValidKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return fmt.Errorf("%w: must be 1 to %d bytes", ErrBadKey, MaxKeyLen)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" {
			return fmt.Errorf("%w: %q has an empty segment", ErrBadKey, key)
		}
		if seg[0] == '.' {
			return fmt.Errorf("%w: %q has a segment starting with '.'", ErrBadKey, key)
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return fmt.Errorf("%w: %q may hold only letters, digits, '.', '_', '-' and '/'", ErrBadKey, key)
			}
		}
	}
	return nil
}

// Open builds the store cfg names. It does not contact the service: a wrong S3 endpoint or
// credential shows up at the first Put or Open.
func Open(cfg config.Storage) (Store, error) {
	switch cfg.Driver {
	case "local":
		return Local(cfg.Local.Dir)
	case "s3":
		return S3(cfg.S3)
	}
	return nil, fmt.Errorf("storage.driver: unknown driver %q (available: local, s3)", cfg.Driver)
}
