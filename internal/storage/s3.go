package storage

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/paotui/paotui/internal/config"
)

// S3Store keeps files as objects of one bucket of an S3-compatible service; the key is the
// object name.
type S3Store struct {
	client *minio.Client
	bucket string
}

// S3 returns a store for cfg's bucket. It does not contact the service.
func S3(cfg config.StorageS3) (*S3Store, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("storage: s3 needs an endpoint and a bucket")
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey.Reveal(), ""),
		Secure:       cfg.UseSSL,
		Region:       cfg.Region,
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: s3 client for %s: %w", cfg.Endpoint, err)
	}
	return &S3Store{client: client, bucket: cfg.Bucket}, nil
}

// Put uploads the object in one request when size is known (photos are a few MiB); a size of
// -1 makes minio-go switch to a multipart upload that buffers parts of at least 16 MiB, so
// callers should pass the size.
func (s *S3Store) Put(ctx context.Context, key, contentType string, r io.Reader, size int64) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	_, err := s.client.PutObject(ctx, s.bucket, key, r, size, minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return fmt.Errorf("storage: put %s: %w", key, err)
	}
	return nil
}

// Open stats the object first so a missing key is reported here rather than at the first Read.
func (s *S3Store) Open(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := ValidKey(key); err != nil {
		return nil, Info{}, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, s.fail("open", key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		err = s.fail("open", key, err)
		if errors.Is(err, ErrNotFound) {
			// The stat is a HEAD request, whose 404 has no body to tell a missing key from a
			// missing bucket; a wrong bucket must surface as a fault, not as files gone missing.
			if ok, berr := s.client.BucketExists(ctx, s.bucket); berr != nil || !ok {
				return nil, Info{}, fmt.Errorf("storage: open %s: bucket %q unreachable (exists %v): %w", key, s.bucket, ok, berr)
			}
		}
		return nil, Info{}, err
	}
	return obj, Info{Key: key, ContentType: st.ContentType, Size: st.Size, ModTime: st.LastModified.UTC()}, nil
}

// Delete removes the object; S3 answers success for a missing key.
func (s *S3Store) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return s.fail("delete", key, err)
	}
	return nil
}

// DeletePrefix lists the objects under prefix/ and removes them in batches.
func (s *S3Store) DeletePrefix(ctx context.Context, prefix string) error {
	if err := ValidKey(prefix); err != nil {
		return err
	}
	list := s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix + "/", Recursive: true})
	objects := make(chan minio.ObjectInfo)
	var listErr error
	go func() {
		defer close(objects)
		for o := range list {
			if o.Err != nil {
				listErr = o.Err
				continue
			}
			objects <- o
		}
	}()
	var removeErr error
	for res := range s.client.RemoveObjects(ctx, s.bucket, objects, minio.RemoveObjectsOptions{}) {
		if res.Err != nil && removeErr == nil {
			removeErr = res.Err
		}
	}
	// RemoveObjects closes its results only after objects is closed, so listErr is settled.
	if err := errors.Join(listErr, removeErr); err != nil {
		return s.fail("delete under", prefix, err)
	}
	return nil
}

func (s *S3Store) fail(op, key string, err error) error {
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return fmt.Errorf("storage: %s %s: %w", op, key, err)
}
