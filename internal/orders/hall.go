package orders

import (
	"context"
	"fmt"
	"math"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/pricing"
	"github.com/paotui/paotui/internal/settings"
)

// HallPoint is a courier's position for the hall.
type HallPoint struct {
	Lng float64 `json:"lng"`
	Lat float64 `json:"lat"`
}

// HallQuery filters and sorts the task hall.
type HallQuery struct {
	Sort     string `query:"sort" enum:"distance,reward,newest" default:"distance" doc:"distance: nearest pickup first (needs a recent position; otherwise newest); reward: best paid first."`
	TaskType string `query:"taskType" maxLength:"40"`
	Limit    int    `query:"limit" minimum:"1" maximum:"100" default:"30"`
	Offset   int    `query:"offset" minimum:"0" maximum:"10000"`
}

// HallStop is a stop as the hall shows it: a campus place name and, for the pickup, where it is.
type HallStop struct {
	Name string   `json:"name"`
	Lng  *float64 `json:"lng,omitempty"`
	Lat  *float64 `json:"lat,omitempty"`
}

// HallItem is an open order before anyone takes it: enough to decide, nothing personal (no
// student, no form values; those show once the courier has the order).
type HallItem struct {
	ID             string        `json:"id"`
	Number         string        `json:"number"`
	TaskType       string        `json:"taskType"`
	Pickup         HallStop      `json:"pickup"`
	Dropoff        HallStop      `json:"dropoff"`
	DistanceMeters *int          `json:"distanceMeters,omitempty" doc:"From the courier's last position to the pickup; absent without a recent position."`
	TripMeters     int           `json:"tripMeters" doc:"Pickup to drop-off."`
	Reward         pricing.Money `json:"reward" doc:"What the courier earns, tip included, in 分."`
	Tip            pricing.Money `json:"tip"`
	Size           string        `json:"size,omitempty"`
	Minutes        int           `json:"minutes,omitempty"`
	WindowStart    *time.Time    `json:"windowStart,omitempty"`
	WindowEnd      *time.Time    `json:"windowEnd,omitempty"`
	PaidAt         time.Time     `json:"paidAt"`
	WaitingSeconds int64         `json:"waitingSeconds"`
	GrabbableUntil *time.Time    `json:"grabbableUntil,omitempty" doc:"Hybrid mode: after this the order is dispatched instead."`
}

// Hall is one page of the task hall.
type Hall struct {
	Mode     string     `json:"mode" enum:"grab,dispatch,hybrid" doc:"In dispatch mode the hall is empty: orders come as offers."`
	Position *HallPoint `json:"position,omitempty" doc:"The position distances are measured from."`
	Sort     string     `json:"sort" doc:"The order actually applied (distance falls back to newest without a position)."`
	Items    []HallItem `json:"items"`
	Total    int64      `json:"total"`
}

// rewardSQL is the courier's reward (share of the price less the tip, plus the tip) computed
// exactly as ledger.Split does it — halves to even — so the hall sorts by the figure it shows.
const rewardSQL = `((total - tip) * courier_share_bp / 10000 + tip + CASE
	WHEN 2 * ((total - tip) * courier_share_bp % 10000) > 10000 THEN 1
	WHEN 2 * ((total - tip) * courier_share_bp % 10000) = 10000 AND ((total - tip) * courier_share_bp / 10000) % 2 = 1 THEN 1
	ELSE 0 END)`

// metresPerDegree is the length of a degree of latitude. Across a campus the equirectangular
// approximation is within a metre of the great circle and lets PostgreSQL sort by distance
// without an extension.
const metresPerDegree = 111_195.0

// hallColumns are what a hall entry is made of (hallRow).
const hallColumns = `id, number, task_type, pickup_name, pickup_lng, pickup_lat, dropoff_name, distance_m, total, tip,
	courier_share_bp, size, minutes, window_start, window_end, paid_at`

type hallRow struct {
	ID             string
	Number         int64
	TaskType       string
	PickupName     string
	PickupLng      float64
	PickupLat      float64
	DropoffName    string
	DistanceM      int
	Total          int64
	Tip            int64
	CourierShareBP int `gorm:"column:courier_share_bp"`
	Size           string
	Minutes        int
	WindowStart    *time.Time
	WindowEnd      *time.Time
	PaidAt         time.Time
	Away           *float64
}

// TaskHall lists the orders a courier may grab now. Only approved couriers who are not
// suspended see it (offline couriers may look; grabbing needs them online).
func (s *Service) TaskHall(ctx context.Context, t *tenancy.Tenant, courierID string, at *HallPoint, q HallQuery) (*Hall, error) {
	if s.couriers == nil {
		return nil, ErrCourierNotAllowed
	}
	if q.Limit <= 0 {
		q.Limit = 30
	}
	out := &Hall{Items: []HallItem{}, Position: at, Sort: q.Sort}
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		if err := s.couriers.CheckApproved(tx, courierID); err != nil {
			return err
		}
		b, err := settings.Load(tx)
		if err != nil {
			return err
		}
		out.Mode = b.DispatchMode
		if b.DispatchMode == "dispatch" {
			return nil
		}
		now := s.now().UTC()
		var window time.Duration
		where, args := "status = 'awaiting_courier'", []any{}
		if b.DispatchMode == "hybrid" {
			window, _ = time.ParseDuration(b.GrabWindow)
			where += " AND paid_at > ?"
			args = append(args, now.Add(-window))
		}
		if q.TaskType != "" {
			where += " AND task_type = ?"
			args = append(args, q.TaskType)
		}
		if err := tx.Table("orders").Where(where, args...).Count(&out.Total).Error; err != nil {
			return err
		}
		away := "NULL::float8"
		var awayArgs []any
		if at != nil {
			away = "sqrt(power((pickup_lng - ?) * cos(radians(?)), 2) + power(pickup_lat - ?, 2)) * ?"
			awayArgs = []any{at.Lng, at.Lat, at.Lat, metresPerDegree}
		}
		order := "paid_at DESC, id"
		switch {
		case q.Sort == "reward":
			order = rewardSQL + " DESC, paid_at DESC, id"
		case q.Sort == "distance" && at != nil:
			order = "away, paid_at DESC, id"
		default:
			out.Sort = "newest"
		}
		var rows []hallRow
		err = tx.Table("orders").
			Select(hallColumns+", "+away+" AS away", awayArgs...).
			Where(where, args...).Order(order).Limit(q.Limit).Offset(q.Offset).Scan(&rows).Error
		if err != nil {
			return err
		}
		for _, r := range rows {
			out.Items = append(out.Items, r.item(now, window))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (r hallRow) item(now time.Time, window time.Duration) HallItem {
	courier, _ := ledger.Split(ledger.Money(r.Total-r.Tip), r.CourierShareBP)
	lng, lat := r.PickupLng, r.PickupLat
	it := HallItem{ID: r.ID, Number: fmt.Sprintf("P%06d", r.Number), TaskType: r.TaskType,
		Pickup: HallStop{Name: r.PickupName, Lng: &lng, Lat: &lat}, Dropoff: HallStop{Name: r.DropoffName},
		TripMeters: r.DistanceM, Reward: pricing.Money(int64(courier) + r.Tip), Tip: pricing.Money(r.Tip),
		Size: r.Size, Minutes: r.Minutes, WindowStart: r.WindowStart, WindowEnd: r.WindowEnd, PaidAt: r.PaidAt,
		WaitingSeconds: int64(now.Sub(r.PaidAt).Seconds())}
	if r.Away != nil && !math.IsNaN(*r.Away) {
		m := int(math.Round(*r.Away))
		it.DistanceMeters = &m
	}
	if window > 0 {
		until := r.PaidAt.Add(window)
		it.GrabbableUntil = &until
	}
	return it
}
