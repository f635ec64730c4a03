package couriers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/dispatch"
	"github.com/paotui/paotui/internal/pii"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
)

// Ciphers gives a tenant's PII cipher (*pii.Keyring).
type Ciphers interface {
	For(ctx context.Context, tenantID int64) (*pii.Cipher, error)
}

// Roles grants and revokes tenant roles (*authz.Authorizer). GrantTx and RevokeTx write in
// the caller's transaction; Invalidate runs after it commits so every replica reloads.
type Roles interface {
	GrantTx(tx *gorm.DB, t *tenancy.Tenant, userID, role string) error
	RevokeTx(tx *gorm.DB, t *tenancy.Tenant, userID, role string) error
	Invalidate(ctx context.Context, t *tenancy.Tenant) error
}

// courierRole is authz.RoleCourier: what an approval grants (the hall, trips, earnings).
const courierRole = "courier"

// OnlineKey is the Redis set of tenantID's online couriers (user ids). PostgreSQL is the
// truth; the set is its mirror for the tracking package, which checks it on every location
// ping without a database round trip. GoOnline re-adds the courier every time, so a lost set
// heals as couriers come online.
func OnlineKey(tenantID int64) string { return fmt.Sprintf("t:%d:couriers:online", tenantID) }

// Service runs courier applications, staff decisions and availability. Every change is one
// tenant transaction; decisions carry their audit entry in it.
type Service struct {
	db    *store.DB
	keys  Ciphers
	roles Roles
	rdb   redis.UniversalClient
	log   *slog.Logger
	now   func() time.Time
	// positions and limits are optional (WithPositions, WithLimits).
	positions Positions
	limits    Limits
}

// Limits are the tenant's plan limit on active couriers (the platform's plans implement it).
type Limits interface {
	AllowCourier(ctx context.Context, t *tenancy.Tenant) error
}

// WithLimits makes approving (or reinstating) a courier respect the tenant's plan.
func (s *Service) WithLimits(l Limits) *Service {
	s.limits = l
	return s
}

// New builds the service. log may be nil.
func New(db *store.DB, keys Ciphers, roles Roles, rdb redis.UniversalClient, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, keys: keys, roles: roles, rdb: rdb, log: log, now: time.Now}
}

// LockEligible is the package's LockEligible, so that *Service is the courier gate
// orders.Couriers asks for.
func (s *Service) LockEligible(tx *gorm.DB, courierID string, minCredit int) error {
	return LockEligible(tx, courierID, minCredit)
}

// CheckApproved is the package's CheckApproved (orders.Couriers).
func (s *Service) CheckApproved(tx *gorm.DB, courierID string) error {
	return CheckApproved(tx, courierID)
}

// Touch is the package's Touch (orders.Couriers).
func (s *Service) Touch(tx *gorm.DB, courierID string, at time.Time) error {
	return Touch(tx, courierID, at)
}

// errBadUser guards against a caller passing something that is not a user id.
var errBadUser = errors.New("couriers: user id is not a uuid")

// Apply files userID's application, or replaces it: while pending its fields are updated (the
// place in the review queue is kept), after a rejection it goes back to pending with the new
// fields. Errors: *InvalidError (ErrInvalid), ErrAlreadyCourier for an approved or suspended
// courier, ErrStudentNoTaken when another user of the tenant applied with the same student
// number (compared through its blind index; the number itself is never stored in clear).
func (s *Service) Apply(ctx context.Context, t *tenancy.Tenant, userID string, req ApplyRequest) (*Profile, error) {
	if !validUUID(userID) {
		return nil, errBadUser
	}
	req, err := req.normalize()
	if err != nil {
		return nil, err
	}
	c, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	nameEnc, err := c.Encrypt(fieldRealName, req.RealName)
	if err != nil {
		return nil, err
	}
	noEnc, err := c.Encrypt(fieldStudentNo, req.StudentNo)
	if err != nil {
		return nil, err
	}
	bidx := c.BlindIndex(fieldStudentNo, req.StudentNo)
	var out *profileRow
	apply := func(tx *gorm.DB) error {
		r, err := lockProfile(tx, userID)
		if err != nil {
			return err
		}
		if r != nil && (r.Status == Approved || r.Status == Suspended) {
			return ErrAlreadyCourier
		}
		var taken bool
		if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM courier_profiles WHERE student_no_bidx = ? AND user_id <> ?)`,
			bidx, userID).Scan(&taken).Error; err != nil {
			return err
		}
		if taken {
			return ErrStudentNoTaken
		}
		now := s.now().UTC()
		var rows []profileRow
		switch {
		case r == nil:
			err = tx.Raw(`INSERT INTO courier_profiles (user_id, real_name_enc, student_no_enc, student_no_bidx, vehicle, note,
				applied_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+profileColumns,
				userID, nameEnc, noEnc, bidx, string(req.Vehicle), req.Note, now, now, now).Scan(&rows).Error
		case r.Status == Pending:
			err = tx.Raw(`UPDATE courier_profiles SET real_name_enc = ?, student_no_enc = ?, student_no_bidx = ?, vehicle = ?,
				note = ?, updated_at = ? WHERE user_id = ? RETURNING `+profileColumns,
				nameEnc, noEnc, bidx, string(req.Vehicle), req.Note, now, userID).Scan(&rows).Error
		default: // rejected: a fresh application, so the old decision no longer describes it
			err = tx.Raw(`UPDATE courier_profiles SET status = 'pending', real_name_enc = ?, student_no_enc = ?, student_no_bidx = ?,
				vehicle = ?, note = ?, applied_at = ?, decision_reason = '', decided_by = NULL, decided_at = NULL, updated_at = ?
				WHERE user_id = ? RETURNING `+profileColumns,
				nameEnc, noEnc, bidx, string(req.Vehicle), req.Note, now, now, userID).Scan(&rows).Error
		}
		if err != nil {
			return err
		}
		if len(rows) != 1 {
			return errNoRow
		}
		out = &rows[0]
		from := ""
		if r != nil {
			from = string(r.Status)
		}
		return audit.Record(tx, audit.Entry{Actor: "user:" + userID, Action: "couriers.apply", Target: "user:" + userID,
			Meta: map[string]any{"from": from, "to": string(Pending)}})
	}
	err = s.db.InTenant(ctx, t, apply)
	if isUnique(err, "courier_profiles_pkey") || isUnique(err, "courier_profiles_student_no_bidx_key") {
		// A concurrent application committed first: the same user's (a double tap), whose row
		// the second attempt now updates, or another user's with this number, which the second
		// attempt's check reports as taken.
		err = s.db.InTenant(ctx, t, apply)
	}
	if isUnique(err, "courier_profiles_student_no_bidx_key") {
		return nil, ErrStudentNoTaken
	}
	if err != nil {
		return nil, fmt.Errorf("apply as courier: %w", err)
	}
	return out.view(c, false)
}

func isUnique(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == constraint
}

// Get returns userID's own profile, name and student number in clear (they are the
// courier's own). ErrNotFound when they never applied.
func (s *Service) Get(ctx context.Context, t *tenancy.Tenant, userID string) (*Profile, error) {
	c, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	var r *profileRow
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		r, err = profileByID(tx, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r.view(c, false)
}

// ListFilter selects profiles for staff.
type ListFilter struct {
	Status Status // "" for all
	Online *bool  // nil for both
	Limit  int    // 1..100; 0 means 20
	Offset int
}

// List returns one page of profiles as staff see them (masked), in application order (the
// review queue's order), and how many match in all.
func (s *Service) List(ctx context.Context, t *tenancy.Tenant, f ListFilter) ([]Profile, int64, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, 0, &InvalidError{Field: "status", Reason: "must be pending, approved, rejected or suspended"}
	}
	if f.Limit <= 0 {
		f.Limit = defaultListLimit
	}
	f.Limit, f.Offset = min(f.Limit, maxListLimit), max(f.Offset, 0)
	c, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, 0, err
	}
	where, args := []string{"true"}, []any{}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	if f.Online != nil {
		where, args = append(where, "online = ?"), append(args, *f.Online)
	}
	cond := strings.Join(where, " AND ")
	var (
		rows  []profileRow
		total int64
	)
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		if err := tx.Raw(`SELECT count(*) FROM courier_profiles WHERE `+cond, args...).Scan(&total).Error; err != nil {
			return err
		}
		return tx.Raw(`SELECT `+profileColumns+` FROM courier_profiles WHERE `+cond+` ORDER BY applied_at, user_id LIMIT ? OFFSET ?`,
			append(args, f.Limit, f.Offset)...).Scan(&rows).Error
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list couriers: %w", err)
	}
	out := make([]Profile, 0, len(rows))
	for i := range rows {
		p, err := rows[i].view(c, true)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *p)
	}
	return out, total, nil
}

// CourierDetail is one courier as staff see it: the masked profile and the figures of their
// earnings view.
type CourierDetail struct {
	Profile
	Stats CourierStats `json:"stats"`
	// Dispatch offers of the last 30 days the courier answered or let expire, and how many
	// they accepted: declines and timeouts count against them.
	OffersAnswered int `json:"offersAnswered"`
	OffersAccepted int `json:"offersAccepted"`
}

// acceptanceWindow is how far back the acceptance figures look.
const acceptanceWindow = 30 * 24 * time.Hour

// Detail returns userID's profile (masked) with their earnings figures, for staff.
// ErrNotFound when they never applied.
func (s *Service) Detail(ctx context.Context, t *tenancy.Tenant, userID string) (*CourierDetail, error) {
	c, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	var (
		r                 *profileRow
		stats             *CourierStats
		offered, accepted int
	)
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		if r, err = profileByID(tx, userID); err != nil {
			return err
		}
		if stats, err = loadStats(tx, userID, s.now()); err != nil {
			return err
		}
		offered, accepted, err = dispatch.AcceptanceRate(tx, userID, s.now().Add(-acceptanceWindow))
		return err
	})
	if err != nil {
		return nil, err
	}
	p, err := r.view(c, true)
	if err != nil {
		return nil, err
	}
	return &CourierDetail{Profile: *p, Stats: *stats, OffersAnswered: offered, OffersAccepted: accepted}, nil
}

// maxReasonRunes bounds a decision's reason; the courier reads it in the app.
const maxReasonRunes = 200

// Approve accepts a pending application and grants the courier role in the same transaction.
func (s *Service) Approve(ctx context.Context, t *tenancy.Tenant, actorID, userID, reason string) (*Profile, error) {
	return s.decide(ctx, t, Approve, actorID, userID, reason)
}

// Reject turns a pending application down; reason is required (ErrReasonRequired) and shown
// to the applicant, who may apply again.
func (s *Service) Reject(ctx context.Context, t *tenancy.Tenant, actorID, userID, reason string) (*Profile, error) {
	return s.decide(ctx, t, Reject, actorID, userID, reason)
}

// Suspend takes an approved courier off the road: they go offline at once and the gate
// refuses them new orders. Their role is kept (the gate, not the role, is what refuses) so
// they can still see their earnings and finish what they carry. reason is required.
func (s *Service) Suspend(ctx context.Context, t *tenancy.Tenant, actorID, userID, reason string) (*Profile, error) {
	return s.decide(ctx, t, Suspend, actorID, userID, reason)
}

// Reinstate lifts a suspension. The courier stays offline until they go online themselves.
func (s *Service) Reinstate(ctx context.Context, t *tenancy.Tenant, actorID, userID, reason string) (*Profile, error) {
	return s.decide(ctx, t, Reinstate, actorID, userID, reason)
}

// decide applies a staff decision: the move is checked against the machine on the locked row,
// written with who decided and why, audited as "couriers.<decision>", and an approval grants
// the role, all in one transaction. Errors: ErrNotFound, ErrReasonRequired, *InvalidError
// (reason too long), *TransitionError (ErrBadTransition). The profile returned is the staff
// view.
func (s *Service) decide(ctx context.Context, t *tenancy.Tenant, d Decision, actorID, userID, reason string) (*Profile, error) {
	if !validUUID(actorID) {
		return nil, errBadUser
	}
	reason = strings.TrimSpace(reason)
	if NeedsReason(d) && reason == "" {
		return nil, ErrReasonRequired
	}
	if (d == Approve || d == Reinstate) && s.limits != nil {
		// Soft: checked before the decision's transaction, like every plan limit.
		if err := s.limits.AllowCourier(ctx, t); err != nil {
			return nil, err
		}
	}
	if utf8.RuneCountInString(reason) > maxReasonRunes {
		return nil, &InvalidError{Field: "reason", Reason: "must be at most 200 characters"}
	}
	c, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	var out *profileRow
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		r, err := lockProfile(tx, userID)
		if err != nil {
			return err
		}
		if r == nil {
			return ErrNotFound
		}
		to, err := Next(r.Status, d)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		var rows []profileRow
		// Leaving approved also ends availability; the CHECK on the table insists.
		if err := tx.Raw(`UPDATE courier_profiles SET status = ?, decision_reason = ?, decided_by = ?, decided_at = ?, updated_at = ?,
				online = online AND ? = 'approved', online_since = CASE WHEN ? = 'approved' THEN online_since END
			WHERE user_id = ? RETURNING `+profileColumns,
			string(to), reason, actorID, now, now, string(to), string(to), userID).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) != 1 {
			return errNoRow
		}
		out = &rows[0]
		if to == Approved {
			// Reinstating re-grants too: granting is idempotent, and it repairs a role someone
			// revoked by hand during the suspension.
			if err := s.roles.GrantTx(tx, t, userID, courierRole); err != nil {
				return err
			}
		}
		return audit.Record(tx, audit.Entry{Actor: "user:" + actorID, Action: "couriers." + string(d), Target: "user:" + userID,
			Meta: map[string]any{"from": string(r.Status), "to": string(to)}})
	})
	if err != nil {
		return nil, err
	}
	// The change is committed; what follows only propagates it. A failure is logged, not
	// returned: the decision stands, and the caches heal (the policy cache within its TTL, the
	// online set on the courier's next GoOnline, which the gate would refuse anyway).
	bg := context.WithoutCancel(ctx)
	if out.Status == Approved {
		if err := s.roles.Invalidate(bg, t); err != nil {
			s.log.ErrorContext(ctx, "couriers: invalidate roles after decision", "tenant", t.ID, "decision", string(d), "err", err)
		}
	}
	if d == Suspend {
		if err := s.rdb.SRem(bg, OnlineKey(t.ID), userID).Err(); err != nil {
			s.log.ErrorContext(ctx, "couriers: drop suspended courier from the online set", "tenant", t.ID, "err", err)
		}
	}
	return out.view(c, true)
}

// GoOnline makes an approved courier available for orders and adds them to the Redis online
// set. Idempotent: an online courier stays online since the first call, and is re-added to
// the set (which repairs a set lost with Redis). Errors: ErrNotApproved (no profile, pending
// or rejected), ErrSuspended. A Redis failure is returned after the database change
// committed; calling again repairs it.
func (s *Service) GoOnline(ctx context.Context, t *tenancy.Tenant, userID string) (*Profile, error) {
	return s.setOnline(ctx, t, userID, true)
}

// GoOffline ends availability and removes the courier from the Redis online set.
// Idempotent; any courier with a profile may call it (suspended couriers already are
// offline). ErrNotFound when the user never applied.
func (s *Service) GoOffline(ctx context.Context, t *tenancy.Tenant, userID string) (*Profile, error) {
	return s.setOnline(ctx, t, userID, false)
}

func (s *Service) setOnline(ctx context.Context, t *tenancy.Tenant, userID string, online bool) (*Profile, error) {
	c, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	var out *profileRow
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		r, err := lockProfile(tx, userID)
		if err != nil {
			return err
		}
		switch {
		case r == nil && online:
			return ErrNotApproved
		case r == nil:
			return ErrNotFound
		case online && r.Status == Suspended:
			return ErrSuspended
		case online && r.Status != Approved:
			return ErrNotApproved
		case r.Online == online:
			out = r
			return nil
		}
		var since *time.Time
		if online {
			now := s.now().UTC()
			since = &now
		}
		var rows []profileRow
		if err := tx.Raw(`UPDATE courier_profiles SET online = ?, online_since = ?, updated_at = now() WHERE user_id = ? RETURNING `+profileColumns,
			online, since, userID).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) != 1 {
			return errNoRow
		}
		out = &rows[0]
		return nil
	})
	if err != nil {
		return nil, err
	}
	// After commit, so the set never shows a courier the database does not. Two toggles of the
	// same courier racing between commit and here could leave the set one step behind; the
	// next toggle (GoOnline always re-adds) puts it right.
	bg := context.WithoutCancel(ctx)
	key := OnlineKey(t.ID)
	if online {
		err = s.rdb.SAdd(bg, key, userID).Err()
	} else {
		err = s.rdb.SRem(bg, key, userID).Err()
	}
	if err != nil {
		return nil, fmt.Errorf("mirror courier availability in redis: %w", err)
	}
	if !online && s.positions != nil {
		// An offline courier is not on the map, in the hall's distances or in dispatch.
		if err := s.positions.Forget(bg, t.ID, userID); err != nil {
			return nil, fmt.Errorf("forget courier position: %w", err)
		}
	}
	return out.view(c, false)
}

// Positions forgets a courier's live position (tracking implements it).
type Positions interface {
	Forget(ctx context.Context, tenantID int64, courierID string) error
}

// WithPositions makes going offline (and suspension) drop the courier's live position.
func (s *Service) WithPositions(p Positions) *Service {
	s.positions = p
	return s
}
