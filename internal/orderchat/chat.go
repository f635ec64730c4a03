package orderchat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paotui/paotui/internal/pii"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Errors of the order chat and photos; the HTTP layer gives each its own problem code.
var (
	// ErrNotFound is returned for an unknown order and for an order the caller has no part
	// in, so that outsiders cannot tell the two apart. Orders.Parties must return it (or wrap
	// it) for an unknown order.
	ErrNotFound = errors.New("order not found")
	// ErrBodyInvalid refuses an empty, over-long or non-text message.
	ErrBodyInvalid = errors.New("a message is 1 to 500 characters of text")
	// ErrChatClosed refuses a message from the student or courier of a finished order.
	ErrChatClosed = errors.New("this order is finished and its chat is closed; contact support for anything more")
	// ErrRateLimited is what a *RateLimitError is.
	ErrRateLimited = errors.New("too many messages in a short time; wait a moment")
	// ErrPhotoTooLarge refuses a photo over MaxPhotoBytes.
	ErrPhotoTooLarge = errors.New("the photo is larger than 5 MiB")
	// ErrPhotoType refuses a file whose bytes are not a JPEG, PNG or WebP image.
	ErrPhotoType = errors.New("the photo must be a JPEG, PNG or WebP image")
	// ErrPhotoNotFound is returned for a photo that does not exist, belongs to another order,
	// or (PhotoForDelivery) was uploaded by someone else.
	ErrPhotoNotFound = errors.New("photo not found")
	// ErrPhotoNotAllowed refuses a photo while the order is not accepted or picked up.
	ErrPhotoNotAllowed = errors.New("photos can be added only while the order is accepted or picked up")
	// ErrTooManyPhotos refuses a photo past MaxPhotosPerOrder.
	ErrTooManyPhotos = fmt.Errorf("an order holds at most %d photos", MaxPhotosPerOrder)
	// ErrUpload is returned when the photo's bytes could not be read from the client.
	ErrUpload = errors.New("the upload was cut off or could not be read")
)

// RateLimitError says when the sender may write again.
type RateLimitError struct{ Wait time.Duration }

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%v (try again in %s)", ErrRateLimited, e.Wait.Round(time.Second))
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// RetryAfter feeds the problem's Retry-After header (httpx.RetryAfterer).
func (e *RateLimitError) RetryAfter() time.Duration { return e.Wait }

// Sender kinds.
const (
	KindStudent = "student"
	KindCourier = "courier"
	KindStaff   = "staff"
)

// MaxBodyRunes is the longest message, in characters.
const MaxBodyRunes = 500

// Rate limit: a sender may post RateLimit messages per RateWindow in one order. Enough for a
// quick back-and-forth at the door, too few to flood the other side's phone.
const (
	RateLimit  = 20
	RateWindow = time.Minute
)

// bodyField is the pii.Cipher field of message bodies.
const bodyField = "orderchat.body"

// Message is one chat message, opened.
type Message struct {
	ID         int64     `json:"id" doc:"Increasing within the tenant; pass the last one seen as after to read on."`
	OrderID    string    `json:"orderId" format:"uuid"`
	SenderID   string    `json:"senderId" format:"uuid"`
	SenderKind string    `json:"senderKind" enum:"student,courier,staff" doc:"Whether the sender wrote as the order's student, its courier or staff."`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"createdAt"`
}

// Parties are the people of an order as the orders domain sees them now.
type Parties struct {
	StudentID string
	CourierID string // "" when no courier holds the order
	Status    string
	// Terminal: nothing more can happen to the order (completed, cancelled, expired, refunded).
	Terminal bool
}

// Orders is what the chat needs of the orders domain.
type Orders interface {
	// Parties returns who the order's student and current courier are and where the order
	// is. For an unknown order it must return ErrNotFound (or an error wrapping it).
	Parties(ctx context.Context, t *tenancy.Tenant, orderID string) (Parties, error)
}

// Notifier hears about messages after they are stored (the app publishes them live). It is
// called synchronously after the commit and must not block for long; it cannot fail the send.
type Notifier interface {
	MessagePosted(ctx context.Context, t *tenancy.Tenant, orderID string, m Message)
}

// Ciphers gives a tenant's PII cipher.
type Ciphers interface {
	For(ctx context.Context, tenantID int64) (*pii.Cipher, error)
}

// Authorizer answers permission questions; authz.Authorizer implements it.
type Authorizer interface {
	Can(ctx context.Context, t *tenancy.Tenant, userID, perm string) (bool, error)
}

// StaffPermission is what makes a caller staff for the chat. Reaching the chat operations is
// not enough: students and couriers hold orderchat:* too (for their own orders), so a caller
// who is not a party of the order counts as staff only when they may also read every order in
// the admin console. Together with the operations' orderchat:read / orderchat:write this
// admits owner, admin and support to read and write and dispatchers to read, and keeps finance
// (orders:read without orderchat) out.
const StaffPermission = "orders:read"

// cleanBody trims a message and checks it: valid UTF-8, 1 to MaxBodyRunes characters, no
// control characters but line breaks and tabs (CRLF becomes LF).
func cleanBody(body string) (string, error) {
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	if body == "" || !utf8.ValidString(body) || utf8.RuneCountInString(body) > MaxBodyRunes {
		return "", ErrBodyInvalid
	}
	for _, r := range body {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return "", ErrBodyInvalid
		}
	}
	return body, nil
}

// role is the part a caller plays in an order: a sender kind, or "" for none.
func role(p Parties, userID string, staff bool) string {
	switch {
	case userID == "":
		return ""
	case userID == p.StudentID:
		return KindStudent
	case p.CourierID != "" && userID == p.CourierID:
		return KindCourier
	case staff:
		return KindStaff
	}
	return ""
}
