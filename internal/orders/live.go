package orders

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/realtime"
	"github.com/paotui/paotui/internal/settings"
)

// LivePublisher publishes replayable live events (realtime.Publisher).
type LivePublisher interface {
	Publish(ctx context.Context, channel, typ string, data any) (string, error)
}

// Live event types.
const (
	LiveStatus     = "status"      // order channel: one timeline event (EventRow)
	LiveAdminOrder = "order"       // admin feed: an order changed (AdminOrderEvent)
	LiveHallOpen   = "hall_open"   // hall: an order is open to grab (HallItem)
	LiveHallClosed = "hall_closed" // hall: an order left the hall (HallClosed)
	LiveAssigned   = "assigned"    // courier channel: an order was given to this courier
	LiveUnassigned = "unassigned"  // courier channel: an order was taken from this courier
)

// AdminOrderEvent is an order's change on the admin live feed.
type AdminOrderEvent struct {
	OrderID   string  `json:"orderId"`
	Number    string  `json:"number"`
	Event     string  `json:"event"`
	From      *string `json:"from,omitempty"`
	To        string  `json:"to"`
	CourierID *string `json:"courierId,omitempty"`
	Exception *string `json:"exception,omitempty"`
	At        string  `json:"at"`
}

// HallClosed says an order left the hall and why (its new status).
type HallClosed struct {
	OrderID string `json:"orderId"`
	Status  Status `json:"status"`
}

// CourierOrderEvent tells a courier an order became (or stopped being) theirs.
type CourierOrderEvent struct {
	OrderID string `json:"orderId"`
	Event   string `json:"event"`
	Reason  string `json:"reason,omitempty"`
}

// HandleStatusChanged publishes an order's new timeline events live: to the order's channel
// (its student and courier), the admin feed, the task hall and the couriers concerned.
//
// Tasks for one order may run concurrently or out of order on several workers, so the task's
// payload is only a wake-up: the handler locks the order's live cursor and publishes every
// timeline event after it, in timeline order, then moves the cursor. Subscribers see each
// change once and in order whichever task runs first; a failed publish is retried from the
// last event that made it.
func (s *Service) HandleStatusChanged(pub LivePublisher) asynq.HandlerFunc {
	return func(ctx context.Context, task *asynq.Task) error {
		_, change, err := jobs.Decode[StatusChange](task)
		if err != nil {
			return fmt.Errorf("%v: %w", err, asynq.SkipRetry)
		}
		t, ok := tenancy.From(ctx)
		if !ok {
			return fmt.Errorf("status task without a tenant: %w", asynq.SkipRetry)
		}
		var failed error
		err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
			failed = s.publishTimeline(ctx, tx, t, pub, change.OrderID)
			return nil
		})
		if err != nil {
			return err
		}
		return failed
	}
}

// publishTimeline publishes what the order's cursor has not covered yet and moves the cursor
// past what was published. Its error is the publish failure, if any (the cursor update is
// kept so the retry resumes after what did go out).
func (s *Service) publishTimeline(ctx context.Context, tx *gorm.DB, t *tenancy.Tenant, pub LivePublisher, orderID string) error {
	if err := tx.Exec(`INSERT INTO order_live_cursors (order_id) VALUES (?) ON CONFLICT DO NOTHING`, orderID).Error; err != nil {
		return err
	}
	var cur struct {
		PublishedEventID int64
		CourierID        *string
	}
	if err := tx.Raw(`SELECT published_event_id, courier_id FROM order_live_cursors WHERE order_id = ? FOR UPDATE`, orderID).
		Scan(&cur).Error; err != nil {
		return err
	}
	last, courier := cur.PublishedEventID, ""
	if cur.CourierID != nil {
		courier = *cur.CourierID
	}
	var events []EventRow
	if err := tx.Table("order_events").Where("order_id = ? AND id > ?", orderID, last).Order("id").Find(&events).Error; err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	var r row
	if err := tx.Where("id = ?", orderID).Take(&r).Error; err != nil {
		return err
	}
	published := last
	var failed error
	for _, ev := range events {
		if failed = s.publishEvent(ctx, tx, t, pub, &r, ev, &courier); failed != nil {
			break
		}
		published = ev.ID
	}
	if published != last {
		var who any
		if courier != "" {
			who = courier
		}
		if err := tx.Exec(`UPDATE order_live_cursors SET published_event_id = ?, courier_id = ? WHERE order_id = ?`,
			published, who, orderID).Error; err != nil {
			return err
		}
	}
	return failed
}

func (s *Service) publishEvent(ctx context.Context, tx *gorm.DB, t *tenancy.Tenant, pub LivePublisher, r *row, ev EventRow, courier *string) error {
	if _, err := pub.Publish(ctx, realtime.OrderChannel(t.ID, r.ID), LiveStatus, ev); err != nil {
		return err
	}
	admin := AdminOrderEvent{OrderID: r.ID, Number: fmt.Sprintf("P%06d", r.Number), Event: ev.Event, From: ev.FromStatus,
		To: ev.ToStatus, Exception: r.Exception, At: ev.At.UTC().Format(time.RFC3339Nano)}
	if r.CourierID != nil {
		admin.CourierID = r.CourierID
	}
	if _, err := pub.Publish(ctx, realtime.AdminChannel(t.ID), LiveAdminOrder, admin); err != nil {
		return err
	}
	from := ""
	if ev.FromStatus != nil {
		from = *ev.FromStatus
	}
	to := Status(ev.ToStatus)
	switch {
	case to == AwaitingCourier && from != string(AwaitingCourier):
		item, err := s.hallItem(tx, r.ID)
		if err != nil {
			return err
		}
		if item != nil {
			if _, err := pub.Publish(ctx, realtime.HallChannel(t.ID), LiveHallOpen, item); err != nil {
				return err
			}
		}
	case from == string(AwaitingCourier) && to != AwaitingCourier:
		if _, err := pub.Publish(ctx, realtime.HallChannel(t.ID), LiveHallClosed, HallClosed{OrderID: r.ID, Status: to}); err != nil {
			return err
		}
	}
	// The courier who gains or loses the order hears it on their own channel.
	switch ev.Event {
	case string(EventAccept), "reassign":
		if ev.Event == "reassign" && *courier != "" {
			if _, err := pub.Publish(ctx, realtime.CourierChannel(t.ID, *courier), LiveUnassigned,
				CourierOrderEvent{OrderID: r.ID, Event: ev.Event, Reason: ev.Reason}); err != nil {
				return err
			}
		}
		if r.CourierID != nil {
			*courier = *r.CourierID
			if _, err := pub.Publish(ctx, realtime.CourierChannel(t.ID, *r.CourierID), LiveAssigned,
				CourierOrderEvent{OrderID: r.ID, Event: ev.Event, Reason: ev.Reason}); err != nil {
				return err
			}
		}
	case string(EventRelease), string(EventCancel):
		if *courier != "" && ev.ActorID != *courier {
			if _, err := pub.Publish(ctx, realtime.CourierChannel(t.ID, *courier), LiveUnassigned,
				CourierOrderEvent{OrderID: r.ID, Event: ev.Event, Reason: ev.Reason}); err != nil {
				return err
			}
		}
		*courier = ""
	}
	return nil
}

// hallItem is the order's hall entry if it is open now.
func (s *Service) hallItem(tx *gorm.DB, orderID string) (*HallItem, error) {
	b, err := settings.Load(tx)
	if err != nil {
		return nil, err
	}
	var rows []hallRow
	if err := tx.Table("orders").Select(hallColumns).
		Where("id = ? AND status = 'awaiting_courier'", orderID).Scan(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 || b.DispatchMode == "dispatch" {
		return nil, nil
	}
	var window time.Duration
	if b.DispatchMode == "hybrid" {
		window, _ = time.ParseDuration(b.GrabWindow)
	}
	it := rows[0].item(s.now().UTC(), window)
	return &it, nil
}
