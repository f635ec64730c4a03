package orderchat

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/storage"
)

// Photo limits. 5 MiB holds a phone camera's JPEG at full size; ten photos cover a parcel,
// its label and the door several times over.
const (
	MaxPhotoBytes     = 5 << 20
	MaxPhotosPerOrder = 10
)

// photoTypes are the accepted image types, by what http.DetectContentType says, with the
// file extension of their storage key.
var photoTypes = map[string]string{"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}

// Photo is a stored delivery photo.
type Photo struct {
	ID          string    `json:"id" format:"uuid"`
	OrderID     string    `json:"orderId" format:"uuid"`
	UploadedBy  string    `json:"uploadedBy" format:"uuid"`
	ContentType string    `json:"contentType" enum:"image/jpeg,image/png,image/webp"`
	Size        int64     `json:"size" doc:"Bytes."`
	SHA256      string    `json:"sha256" doc:"Hex SHA-256 of the bytes, for disputes."`
	CreatedAt   time.Time `json:"createdAt"`

	key string
}

// PhotoKey is where a photo's bytes live: per tenant and order, named by the photo's id.
func PhotoKey(tenantID int64, orderID, photoID, ext string) string {
	return "t/" + strconv.FormatInt(tenantID, 10) + "/orders/" + orderID + "/" + photoID + "." + ext
}

// UploadPhoto stores a photo the order's current courier took, while the order is accepted or
// picked up, and returns it; deliver-order can then name it as proof (PhotoForDelivery).
//
// The type comes from the bytes (http.DetectContentType), never from claimedType, which is
// the client's say-so and only logged when it disagrees; anything but JPEG, PNG or WebP is
// ErrPhotoType. r is read at most MaxPhotoBytes+1 bytes: a larger photo is ErrPhotoTooLarge
// without the rest being read, and a file that is not an image is refused after its first 512
// bytes. The caller's authorization is checked before anything is read. Anyone but the
// current courier gets ErrNotFound; the courier at another status gets ErrPhotoNotAllowed, and
// past MaxPhotosPerOrder ErrTooManyPhotos.
func (s *Service) UploadPhoto(ctx context.Context, t *tenancy.Tenant, courierID, orderID, claimedType string, r io.Reader) (*Photo, error) {
	id, ok := canonicalID(orderID)
	if !ok {
		return nil, ErrNotFound
	}
	p, err := s.orders.Parties(ctx, t, id)
	if err != nil {
		return nil, err
	}
	if p.CourierID == "" || courierID != p.CourierID {
		return nil, ErrNotFound
	}
	if p.Status != "accepted" && p.Status != "picked_up" {
		return nil, ErrPhotoNotAllowed
	}
	// Refuse before reading the upload when the order is already full; the count is taken
	// again under a lock when the row is written.
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error { return roomForPhoto(tx, id, false) })
	if err != nil {
		return nil, err
	}

	data, contentType, err := readPhoto(r)
	if err != nil {
		return nil, err
	}
	if claimed, _, _ := mime.ParseMediaType(claimedType); claimed != "" && claimed != contentType {
		s.log.InfoContext(ctx, "orderchat: photo type differs from the client's claim", "tenant", t.Slug,
			"claimed", claimed, "sniffed", contentType)
	}
	sum := sha256.Sum256(data)
	ph := &Photo{ID: uuid.NewString(), OrderID: id, UploadedBy: courierID, ContentType: contentType,
		Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
	ph.key = PhotoKey(t.ID, id, ph.ID, photoTypes[contentType])

	// The file goes first: a row must never point at bytes that are not there. If the row
	// cannot be written, the file is removed again; a crash in between leaves an unreferenced
	// file under an unguessable key, which costs space but exposes nothing.
	if err := s.files.Put(ctx, ph.key, contentType, bytes.NewReader(data), ph.Size); err != nil {
		return nil, fmt.Errorf("store photo of order %s: %w", id, err)
	}
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		if err := roomForPhoto(tx, id, true); err != nil {
			return err
		}
		return tx.Raw(`INSERT INTO order_photos (id, order_id, uploaded_by, storage_key, content_type, size_bytes, sha256)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING created_at`, ph.ID, id, courierID, ph.key, contentType, ph.Size, sum[:]).
			Row().Scan(&ph.CreatedAt)
	})
	if err != nil {
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if derr := s.files.Delete(cleanup, ph.key); derr != nil {
			s.log.WarnContext(ctx, "orderchat: cannot remove the file of a refused photo", "tenant", t.Slug, "key", ph.key, "err", derr)
		}
		if errors.Is(err, ErrTooManyPhotos) {
			return nil, err
		}
		return nil, fmt.Errorf("record photo of order %s: %w", id, err)
	}
	ph.CreatedAt = ph.CreatedAt.UTC()
	return ph, nil
}

// roomForPhoto refuses a photo past MaxPhotosPerOrder. With lock it first takes the order's
// photo lock (until commit), so two uploads racing for the last place cannot both win.
func roomForPhoto(tx *gorm.DB, orderID string, lock bool) error {
	if lock {
		if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, "orderchat.photos:"+orderID).Error; err != nil {
			return err
		}
	}
	var n int64
	if err := tx.Raw(`SELECT count(*) FROM order_photos WHERE order_id = ?`, orderID).Row().Scan(&n); err != nil {
		return err
	}
	if n >= MaxPhotosPerOrder {
		return ErrTooManyPhotos
	}
	return nil
}

// readPhoto reads at most MaxPhotoBytes+1 bytes of r and returns them with their sniffed
// type. The first 512 bytes (all DetectContentType looks at) are judged before the rest is
// read, so a wrong file costs no more than that.
func readPhoto(r io.Reader) ([]byte, string, error) {
	const sniffLen = 512
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, "", fmt.Errorf("%w: %v", ErrUpload, err)
	}
	head = head[:n]
	contentType, _, _ := mime.ParseMediaType(http.DetectContentType(head))
	if _, ok := photoTypes[contentType]; !ok || n == 0 {
		return nil, "", ErrPhotoType
	}
	var buf bytes.Buffer
	buf.Write(head)
	if n == sniffLen { // else r is already exhausted
		if _, err := buf.ReadFrom(io.LimitReader(r, MaxPhotoBytes+1-int64(n))); err != nil {
			return nil, "", fmt.Errorf("%w: %v", ErrUpload, err)
		}
	}
	if buf.Len() > MaxPhotoBytes {
		return nil, "", ErrPhotoTooLarge
	}
	return buf.Bytes(), contentType, nil
}

// OpenPhoto returns a photo's bytes (the caller closes them) and what it is, to the order's
// student, its current courier or staff (staff true, see StaffPermission); staff reads are
// written to the audit log. Everyone else gets ErrNotFound; a photo of another order is
// ErrPhotoNotFound.
func (s *Service) OpenPhoto(ctx context.Context, t *tenancy.Tenant, viewerID string, staff bool, orderID, photoID string) (io.ReadCloser, *Photo, error) {
	_, kind, orderID, err := s.party(ctx, t, viewerID, orderID, staff)
	if err != nil {
		return nil, nil, err
	}
	photoID, ok := canonicalID(photoID)
	if !ok {
		return nil, nil, ErrPhotoNotFound
	}
	var ph *Photo
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var err error
		if ph, err = getPhoto(tx, orderID, photoID); err != nil || kind != KindStaff {
			return err
		}
		return audit.Record(tx, audit.Entry{Actor: "user:" + viewerID, Action: "orderchat.photo_read", Target: "order:" + orderID,
			Meta: map[string]any{"photo": photoID}})
	})
	if err != nil {
		return nil, nil, err
	}
	rc, _, err := s.files.Open(ctx, ph.key)
	if errors.Is(err, storage.ErrNotFound) {
		s.log.ErrorContext(ctx, "orderchat: photo row without its file", "tenant", t.Slug, "photo", photoID, "key", ph.key)
		return nil, nil, ErrPhotoNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open photo %s: %w", photoID, err)
	}
	return rc, ph, nil
}

func getPhoto(tx *gorm.DB, orderID, photoID string) (*Photo, error) {
	ph := &Photo{}
	var sum []byte
	err := tx.Raw(`SELECT id, order_id, uploaded_by, storage_key, content_type, size_bytes, sha256, created_at
		FROM order_photos WHERE id = ? AND order_id = ?`, photoID, orderID).
		Row().Scan(&ph.ID, &ph.OrderID, &ph.UploadedBy, &ph.key, &ph.ContentType, &ph.Size, &sum, &ph.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrPhotoNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("photo %s: %w", photoID, err)
	}
	ph.SHA256, ph.CreatedAt = hex.EncodeToString(sum), ph.CreatedAt.UTC()
	return ph, nil
}

// PhotoForDelivery checks, inside deliver-order's transaction tx (a tenant transaction), that
// photoID is a photo of orderID uploaded by courierID; otherwise ErrPhotoNotFound. It reads
// only; the orders domain records the photo as the order's proof.
func (s *Service) PhotoForDelivery(tx *gorm.DB, orderID, photoID, courierID string) error {
	orderID, ok1 := canonicalID(orderID)
	photoID, ok2 := canonicalID(photoID)
	courierID, ok3 := canonicalID(courierID)
	if !ok1 || !ok2 || !ok3 {
		return ErrPhotoNotFound
	}
	var n int64
	err := tx.Raw(`SELECT count(*) FROM order_photos WHERE id = ? AND order_id = ? AND uploaded_by = ?`,
		photoID, orderID, courierID).Row().Scan(&n)
	if err != nil {
		return fmt.Errorf("check delivery photo %s: %w", photoID, err)
	}
	if n == 0 {
		return ErrPhotoNotFound
	}
	return nil
}
