package billing

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/paotui/paotui/internal/platform/plans"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// usageRow is public.usage_reports: what was last sent for a billing period.
type usageRow struct {
	TenantID    int64     `gorm:"primaryKey"`
	PeriodStart time.Time `gorm:"primaryKey"`
	Quantity    int64
	ReportedAt  time.Time
}

func (usageRow) TableName() string { return "public.usage_reports" }

// HandleReportUsage is TaskReportUsage: it reports every metered subscription's orders of the
// current billing period to Stripe. A tenant that fails is logged and retried next period
// rather than holding the others back.
func (s *Service) HandleReportUsage(ctx context.Context, _ *asynq.Task) error {
	n, err := s.ReportUsage(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		s.log.InfoContext(ctx, "metered usage reported", "subscriptions", n)
	}
	return nil
}

// ReportUsage sends the order count of each metered subscription's current period where it
// changed since the last report (action "set", so a repeated report cannot double-count). It
// returns how many subscriptions were reported.
func (s *Service) ReportUsage(ctx context.Context) (int, error) {
	if s.stripe == nil {
		return 0, nil
	}
	var rows []subRow
	if err := s.db.Gorm.WithContext(ctx).Where("metered_item_id IS NOT NULL AND current_period_start IS NOT NULL AND status IN ?",
		[]Status{StatusActive, StatusTrialing, StatusPastDue, StatusUnpaid}).Order("tenant_id").Find(&rows).Error; err != nil {
		return 0, err
	}
	reported := 0
	var errs []error
	for _, r := range rows {
		ok, err := s.reportOne(ctx, r)
		if err != nil {
			s.log.WarnContext(ctx, "metered usage not reported", "tenant", r.TenantID, "err", err)
			errs = append(errs, err)
		}
		if ok {
			reported++
		}
	}
	if len(errs) == len(rows) && len(rows) > 0 {
		return reported, errors.Join(errs...)
	}
	return reported, nil
}

func (s *Service) reportOne(ctx context.Context, r subRow) (bool, error) {
	t, err := s.reg.ByID(ctx, r.TenantID)
	if err != nil || (t.Status != tenancy.StatusActive && t.Status != tenancy.StatusSuspended) {
		return false, err
	}
	var n int64
	if err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var err error
		n, err = plans.CountOrdersSince(tx, *r.CurrentPeriodStart)
		return err
	}); err != nil {
		return false, err
	}
	var last usageRow
	err = s.db.Gorm.WithContext(ctx).Where("tenant_id = ? AND period_start = ?", r.TenantID, *r.CurrentPeriodStart).Take(&last).Error
	if err == nil && last.Quantity == n {
		return false, nil
	}
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return false, err
	}
	// The timestamp must fall inside the period; a period that just ended gets its last second.
	at := s.now()
	if r.CurrentPeriodEnd != nil && !at.Before(*r.CurrentPeriodEnd) {
		at = r.CurrentPeriodEnd.Add(-time.Second)
	}
	key := idemKey(r.TenantID, fmt.Sprintf("usage-%d-%s", r.CurrentPeriodStart.Unix(), strconv.FormatInt(n, 10)))
	if err := s.stripe.SetUsage(ctx, *r.MeteredItemID, n, at, key); err != nil {
		return false, fmt.Errorf("%w: %w", ErrProvider, err)
	}
	row := usageRow{TenantID: r.TenantID, PeriodStart: *r.CurrentPeriodStart, Quantity: n, ReportedAt: s.now()}
	return true, s.db.Gorm.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error
}
