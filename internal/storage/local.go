package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// LocalStore keeps files under a directory: key "a/b.png" is the file <dir>/a/b.png and its
// content type sits beside it in <dir>/a/.b.png.meta (names starting with '.' are not valid
// keys, so bookkeeping never collides with a file).
type LocalStore struct {
	dir string
}

// Local returns a store rooted at dir, which is created (0750) when missing.
func Local(dir string) (*LocalStore, error) {
	if dir == "" {
		return nil, errors.New("storage: local directory is empty")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: local directory %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("storage: create %s: %w", abs, err)
	}
	return &LocalStore{dir: abs}, nil
}

// Dir is the absolute root directory.
func (s *LocalStore) Dir() string { return s.dir }

type localMeta struct {
	ContentType string `json:"contentType"`
}

// paths returns the file and metadata paths of a valid key.
func (s *LocalStore) paths(key string) (file, meta string, err error) {
	if err := ValidKey(key); err != nil {
		return "", "", err
	}
	file = filepath.Join(s.dir, filepath.FromSlash(key))
	// ValidKey already makes escaping impossible; this is the belt to its braces, so a future
	// loosening of the key rule cannot silently open the rest of the disk.
	if rel, err := filepath.Rel(s.dir, file); err != nil || !filepath.IsLocal(rel) {
		return "", "", fmt.Errorf("%w: %q leaves the store", ErrBadKey, key)
	}
	return file, filepath.Join(filepath.Dir(file), "."+filepath.Base(file)+".meta"), nil
}

// Put writes to a temporary file in the target directory and renames it into place, so a
// reader sees the old file or the new one, never a part; the metadata goes first, so a new
// file never shows with the old content type for longer than the two renames.
func (s *LocalStore) Put(ctx context.Context, key, contentType string, r io.Reader, size int64) error {
	file, meta, err := s.paths(key)
	if err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("%w: local store needs the size, got %d", ErrSize, size)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o750); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	tmpFile, err := writeTemp(filepath.Dir(file), func(w io.Writer) error {
		n, err := io.Copy(w, io.LimitReader(ctxReader{ctx, r}, size+1))
		if err != nil {
			return err
		}
		if n > size {
			return fmt.Errorf("%w: more than the declared %d bytes", ErrSize, size)
		}
		if n < size {
			return fmt.Errorf("%w: %d bytes, declared %d", ErrSize, n, size)
		}
		return nil
	})
	if err != nil {
		return err
	}
	rawMeta, _ := json.Marshal(localMeta{ContentType: contentType})
	tmpMeta, err := writeTemp(filepath.Dir(file), func(w io.Writer) error { _, err := w.Write(rawMeta); return err })
	if err != nil {
		_ = os.Remove(tmpFile)
		return err
	}
	if err := os.Rename(tmpMeta, meta); err != nil {
		_ = os.Remove(tmpFile)
		_ = os.Remove(tmpMeta)
		return fmt.Errorf("storage: %w", err)
	}
	if err := os.Rename(tmpFile, file); err != nil {
		_ = os.Remove(tmpFile)
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

// writeTemp writes a hidden temporary file in dir through fill, flushes it to disk and
// returns its path; on failure it leaves nothing behind.
func writeTemp(dir string, fill func(io.Writer) error) (string, error) {
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("storage: %w", err)
	}
	err = fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		if errors.Is(err, ErrSize) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return "", err
		}
		return "", fmt.Errorf("storage: write %s: %w", dir, err)
	}
	return f.Name(), nil
}

// Open opens the file; a missing metadata file (a file copied in by hand) reads as
// application/octet-stream.
func (s *LocalStore) Open(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	file, meta, err := s.paths(key)
	if err != nil {
		return nil, Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, Info{}, err
	}
	f, err := os.Open(file)
	// ENOTDIR: a segment of the key is a file ("a/b" asked while "a" is a file).
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, Info{}, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return nil, Info{}, fmt.Errorf("storage: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Info{}, fmt.Errorf("storage: %w", err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, Info{}, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	info := Info{Key: key, ContentType: "application/octet-stream", Size: st.Size(), ModTime: st.ModTime().UTC()}
	if raw, err := os.ReadFile(meta); err == nil {
		var m localMeta
		if json.Unmarshal(raw, &m) == nil && m.ContentType != "" {
			info.ContentType = m.ContentType
		}
	}
	return f, info, nil
}

// Delete removes the file and its metadata.
func (s *LocalStore) Delete(ctx context.Context, key string) error {
	file, meta, err := s.paths(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if st, err := os.Lstat(file); err == nil && st.IsDir() {
		return nil // a key prefix, not a file: nothing stored under this key (as in S3)
	}
	if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("storage: %w", err)
	}
	if err := os.Remove(meta); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

// DeletePrefix removes the folder of prefix with everything in it.
func (s *LocalStore) DeletePrefix(ctx context.Context, prefix string) error {
	dir, _, err := s.paths(prefix)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

// ctxReader stops a long copy when the request that started it is gone.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
