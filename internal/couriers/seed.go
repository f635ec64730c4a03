package couriers

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/platform/tenancy"
)

// SeedApproved gives a blueprint's courier account (demo campuses) an approved profile, as
// if they had applied and been vetted; provisioning calls it in its tenant transaction. The
// student number is made up from the user id, so seeding twice changes nothing.
func (s *Service) SeedApproved(ctx context.Context, tx *gorm.DB, t *tenancy.Tenant, userID, realName string) error {
	c, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return err
	}
	req, err := ApplyRequest{RealName: realName, StudentNo: "DEMO" + userID[:8], Vehicle: Bike}.normalize()
	if err != nil {
		return fmt.Errorf("seed courier %s: %w", userID, err)
	}
	nameEnc, err := c.Encrypt(fieldRealName, req.RealName)
	if err != nil {
		return err
	}
	noEnc, err := c.Encrypt(fieldStudentNo, req.StudentNo)
	if err != nil {
		return err
	}
	now := s.now().UTC().Truncate(time.Second)
	return tx.Exec(`INSERT INTO courier_profiles (user_id, status, real_name_enc, student_no_enc, student_no_bidx, vehicle,
		decision_reason, decided_at, applied_at, created_at, updated_at)
		VALUES (?, 'approved', ?, ?, ?, ?, 'seeded with the demo campus', ?, ?, ?, ?) ON CONFLICT (user_id) DO NOTHING`,
		userID, nameEnc, noEnc, c.BlindIndex(fieldStudentNo, req.StudentNo), string(req.Vehicle), now, now, now, now).Error
}
