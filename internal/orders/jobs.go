package orders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Tenants lists the tenants the periodic sweep visits; the registry implements it.
type Tenants interface {
	Active(ctx context.Context) ([]tenancy.Tenant, error)
}

// HandleExpire expires an unpaid order once its payment deadline passed (delayed task queued
// at creation). Safe to run again or early: it does nothing to an order that moved on.
func (s *Service) HandleExpire(ctx context.Context, task *asynq.Task) error {
	t, id, err := taskOrder(ctx, task)
	if err != nil {
		return err
	}
	_, err = s.expire(ctx, t, id)
	return err
}

func (s *Service) expire(ctx context.Context, t *tenancy.Tenant, id string) (bool, error) {
	done := false
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		r, err := lock(tx, id)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if r.Status != AwaitingPayment || now.Before(r.PayBy) {
			return nil
		}
		done = true
		return s.move(tx, t, r, EventExpire, ActorSystem, "", "payment deadline passed", nil, now)
	})
	return done, err
}

// HandleAutoConfirm completes a delivered order the student did not confirm within the
// tenant's auto-confirm delay.
func (s *Service) HandleAutoConfirm(ctx context.Context, task *asynq.Task) error {
	t, id, err := taskOrder(ctx, task)
	if err != nil {
		return err
	}
	_, err = s.autoConfirm(ctx, t, id)
	return err
}

func (s *Service) autoConfirm(ctx context.Context, t *tenancy.Tenant, id string) (bool, error) {
	var due bool
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var r row
		if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil
			}
			return err
		}
		rules, err := loadRules(tx)
		if err != nil {
			return err
		}
		due = r.Status == Delivered && r.DeliveredAt != nil && !s.now().Before(r.DeliveredAt.Add(rules.AutoConfirmAfter))
		return nil
	})
	if err != nil || !due {
		return false, err
	}
	_, err = s.Confirm(ctx, t, ActorSystem, "", id)
	if errors.Is(err, ErrIllegalTransition) {
		return false, nil // confirmed by the student meanwhile
	}
	return err == nil, err
}

// Sweep repairs what delayed tasks missed in one tenant: unpaid orders past their deadline
// expire, delivered orders past the auto-confirm delay complete.
func (s *Service) Sweep(ctx context.Context, t *tenancy.Tenant) (expired, confirmed int, err error) {
	var overdue, delivered []string
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		rules, err := loadRules(tx)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if err := tx.Model(&row{}).Where("status = ? AND pay_by <= ?", AwaitingPayment, now).Limit(500).Pluck("id", &overdue).Error; err != nil {
			return err
		}
		return tx.Model(&row{}).Where("status = ? AND delivered_at <= ?", Delivered, now.Add(-rules.AutoConfirmAfter)).
			Limit(500).Pluck("id", &delivered).Error
	})
	if err != nil {
		return 0, 0, err
	}
	for _, id := range overdue {
		ok, err := s.expire(ctx, t, id)
		if err != nil {
			return expired, confirmed, err
		}
		if ok {
			expired++
		}
	}
	for _, id := range delivered {
		ok, err := s.autoConfirm(ctx, t, id)
		if err != nil {
			return expired, confirmed, err
		}
		if ok {
			confirmed++
		}
	}
	return expired, confirmed, nil
}

// HandleSweep is the periodic fan-out: one task per period visits every active tenant.
func (s *Service) HandleSweep(tenants Tenants) asynq.HandlerFunc {
	return func(ctx context.Context, _ *asynq.Task) error {
		list, err := tenants.Active(ctx)
		if err != nil {
			return err
		}
		var errs []error
		for i := range list {
			exp, conf, err := s.Sweep(ctx, &list[i])
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", list[i].Slug, err))
			}
			if exp+conf > 0 {
				s.log.Info("order sweep", "tenant", list[i].Slug, "expired", exp, "auto_confirmed", conf)
			}
		}
		return errors.Join(errs...)
	}
}

func taskOrder(ctx context.Context, task *asynq.Task) (*tenancy.Tenant, string, error) {
	_, ref, err := jobs.Decode[orderRef](task)
	if err != nil {
		return nil, "", fmt.Errorf("%v: %w", err, asynq.SkipRetry)
	}
	t, ok := tenancy.From(ctx)
	if !ok {
		return nil, "", fmt.Errorf("order task without a tenant: %w", asynq.SkipRetry)
	}
	return t, ref.OrderID, nil
}

// sweepEvery is how often the order sweeper runs.
const sweepEvery = time.Minute

// SweepSpec is the scheduler spec of the sweeper.
func SweepSpec() string { return "@every " + sweepEvery.String() }

// paymentSucceeded mirrors the payments domain's payload (ids only).
type paymentSucceeded struct {
	PaymentID string `json:"paymentId"`
	OrderID   string `json:"orderId"`
	Purpose   string `json:"purpose"`
}

// HandlePaymentSucceeded moves an order whose Stripe payment succeeded to awaiting_courier.
// If the order stopped waiting for payment meanwhile (expired, cancelled), the money goes
// straight back: the student never pays for an order they do not get.
func (s *Service) HandlePaymentSucceeded(ctx context.Context, task *asynq.Task) error {
	_, p, err := jobs.Decode[paymentSucceeded](task)
	if err != nil {
		return fmt.Errorf("%v: %w", err, asynq.SkipRetry)
	}
	if p.Purpose != "order" || p.OrderID == "" {
		return nil
	}
	t, ok := tenancy.From(ctx)
	if !ok {
		return fmt.Errorf("payment task without a tenant: %w", asynq.SkipRetry)
	}
	return s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		r, err := lock(tx, p.OrderID)
		if err != nil {
			return err
		}
		switch {
		case r.Status == AwaitingPayment:
			return s.markPaid(tx, t, r, "stripe")
		case r.PaymentProvider != nil && *r.PaymentProvider == "stripe" && r.PaidAmount > 0:
			return nil // already applied: a repeated task
		default:
			return s.payments.Refund(ctx, tx, r.ID, ledger.Money(r.Total), "payment arrived after the order was "+string(r.Status),
				"system", "late-payment:"+p.PaymentID)
		}
	})
}
