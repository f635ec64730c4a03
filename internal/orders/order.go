package orders

import (
	"encoding/json"
	"time"

	"github.com/paotui/paotui/internal/pricing"
)

// Stop is a pickup or drop-off: a named campus place or a dropped pin with a label.
type Stop struct {
	PlaceID *string `json:"placeId,omitempty" doc:"A campus place; omit to use a pin (lng/lat with a name)."`
	Name    string  `json:"name" doc:"What the courier sees: the place's name, or the label of a pin."`
	Lng     float64 `json:"lng"`
	Lat     float64 `json:"lat"`
}

func (s Stop) point() pricing.Point { return pricing.Point{Lng: s.Lng, Lat: s.Lat} }

// Order is an errand as its student and staff see it.
type Order struct {
	ID              string         `json:"id"`
	Number          string         `json:"number" doc:"Human order number, e.g. P000123."`
	StudentID       string         `json:"studentId"`
	CourierID       *string        `json:"courierId,omitempty"`
	TaskType        string         `json:"taskType"`
	Status          Status         `json:"status"`
	Exception       *string        `json:"exception,omitempty"`
	Pickup          Stop           `json:"pickup"`
	Dropoff         Stop           `json:"dropoff"`
	Size            string         `json:"size,omitempty"`
	Minutes         int            `json:"minutes,omitempty"`
	Form            map[string]any `json:"form" doc:"The task type's form as the student filled it."`
	WindowStart     *time.Time     `json:"windowStart,omitempty"`
	WindowEnd       *time.Time     `json:"windowEnd,omitempty"`
	DistanceMeters  int            `json:"distanceMeters"`
	Lines           []pricing.Line `json:"lines"`
	Total           pricing.Money  `json:"total" doc:"What the student pays, in 分."`
	Tip             pricing.Money  `json:"tip"`
	PaidAmount      pricing.Money  `json:"paidAmount"`
	RefundedAmount  pricing.Money  `json:"refundedAmount"`
	PaymentProvider *string        `json:"paymentProvider,omitempty"`
	PayBy           time.Time      `json:"payBy" doc:"Unpaid orders expire at this time."`
	PaidAt          *time.Time     `json:"paidAt,omitempty"`
	AcceptedAt      *time.Time     `json:"acceptedAt,omitempty"`
	PickedUpAt      *time.Time     `json:"pickedUpAt,omitempty"`
	DeliveredAt     *time.Time     `json:"deliveredAt,omitempty"`
	CompletedAt     *time.Time     `json:"completedAt,omitempty"`
	CancelledAt     *time.Time     `json:"cancelledAt,omitempty"`
	CancelReason    *string        `json:"cancelReason,omitempty"`
	DeliveryCode    string         `json:"deliveryCode,omitempty" doc:"Shown to the student only; the courier asks for it at hand-over."`
	StudentPhone    string         `json:"studentPhone,omitempty" doc:"The student's phone, masked; shown to the order's courier only."`
	ProofPhotoID    *string        `json:"proofPhotoId,omitempty" doc:"The photo the courier delivered with (get-order-photo), when not the code."`
	CreatedAt       time.Time      `json:"createdAt"`
	UpdatedAt       time.Time      `json:"updatedAt"`
	Allowed         []Event        `json:"allowed" doc:"What the caller may do next (for buttons)."`
}

// Event history of an order.
type EventRow struct {
	ID         int64     `json:"id"`
	Event      string    `json:"event"`
	FromStatus *string   `json:"fromStatus,omitempty"`
	ToStatus   string    `json:"toStatus"`
	ActorKind  string    `json:"actorKind"`
	ActorID    string    `json:"actorId,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	At         time.Time `json:"at"`
}

// row is an orders row as stored.
type row struct {
	ID              string
	Number          int64 `gorm:"->"`
	StudentID       string
	CourierID       *string
	TaskType        string
	Status          Status
	Exception       *string
	ExceptionNote   *string
	PickupPlaceID   *string
	PickupName      string
	PickupLng       float64
	PickupLat       float64
	DropoffPlaceID  *string
	DropoffName     string
	DropoffLng      float64
	DropoffLat      float64
	Size            string
	Minutes         int
	FormEnc         []byte
	WindowStart     *time.Time
	WindowEnd       *time.Time
	DistanceM       int
	PriceLines      json.RawMessage `gorm:"type:jsonb"`
	Total           int64
	Tip             int64
	CourierShareBP  int `gorm:"column:courier_share_bp"`
	QuoteID         string
	PaidAmount      int64
	RefundedAmount  int64
	PaymentProvider *string
	PayBy           time.Time
	PaidAt          *time.Time
	AcceptedAt      *time.Time
	PickedUpAt      *time.Time
	DeliveredAt     *time.Time
	CompletedAt     *time.Time
	CancelledAt     *time.Time
	CancelReason    *string
	DeliveryCodeEnc []byte
	ProofPhotoID    *string
	Version         int
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (row) TableName() string { return "orders" }
