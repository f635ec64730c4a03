package signup

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/pii"
	"github.com/paotui/paotui/internal/platform/billing"
	"github.com/paotui/paotui/internal/platform/plans"
	"github.com/paotui/paotui/internal/platform/provision"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
)

var (
	// ErrSubdomainInvalid: the subdomain breaks the format rules.
	ErrSubdomainInvalid = errors.New("subdomain must be 3-30 lowercase letters, digits or hyphens")
	// ErrSubdomainReserved: the platform keeps this subdomain.
	ErrSubdomainReserved = errors.New("this subdomain is kept for the platform")
	// ErrSubdomainTaken: another team has it (or got it a moment earlier).
	ErrSubdomainTaken = errors.New("another team already uses this subdomain")
	// ErrInvalid: a field is missing or too long.
	ErrInvalid = errors.New("invalid signup")
	// ErrNotFound: no signup with this id.
	ErrNotFound = errors.New("no such signup")
)

// LimitError is a signup refused by an abuse limit.
type LimitError struct {
	Which      string // "ip" or "phone"
	RetryAfter time.Duration
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("too many signups from this %s; retry after %s", e.Which, e.RetryAfter.Round(time.Second))
}

// Codes proves the owner's phone (identity implements it).
type Codes interface {
	SendSignupCode(ctx context.Context, phone, ip string) (time.Duration, error)
	CheckSignupCode(ctx context.Context, phone, code, ip string) error
}

// Limits are the abuse limits of signups.
type Limits struct {
	PerIPPerHour   int
	PerPhonePerDay int
}

// Service signs campus teams up.
type Service struct {
	db      *store.DB
	reg     *tenancy.Registry
	prov    *provision.Service
	plans   *plans.Service
	billing *billing.Service
	codes   Codes
	rdb     *redis.Client
	limits  Limits
	secret  []byte // keys the Redis tags of IPs and phones
	url     func(host string) string
	base    string
	log     *slog.Logger
}

// New wires the signup service. secret keys the tags that stand for IPs and phones in Redis.
func New(db *store.DB, reg *tenancy.Registry, prov *provision.Service, pl *plans.Service, b *billing.Service, codes Codes,
	rdb *redis.Client, limits Limits, secret []byte, url func(string) string, baseDomain string, log *slog.Logger) *Service {
	return &Service{db: db, reg: reg, prov: prov, plans: pl, billing: b, codes: codes, rdb: rdb, limits: limits,
		secret: secret, url: url, base: baseDomain, log: log}
}

// Request is a signup.
type Request struct {
	TeamName  string
	Subdomain string
	School    string
	Phone     string
	Code      string
	PlanID    string
	Interval  billing.Interval
	OwnerName string
	IP        string
}

func text(field, v string, max int) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || !utf8.ValidString(v) || utf8.RuneCountInString(v) > max {
		return "", fmt.Errorf("%w: %s must be 1-%d characters", ErrInvalid, field, max)
	}
	return v, nil
}

// slugError turns a slug check into the signup's own errors.
func (s *Service) slugError(slug string) error {
	a, err := Check(context.Background(), s.reg, slug)
	switch {
	case err != nil:
		return err
	case a.Reason == "invalid":
		return ErrSubdomainInvalid
	case a.Reason == "reserved":
		return ErrSubdomainReserved
	}
	return nil
}

// SendCode texts the owner's phone a signup code.
func (s *Service) SendCode(ctx context.Context, phone, ip string) (time.Duration, error) {
	return s.codes.SendSignupCode(ctx, phone, ip)
}

// Signup registers a team: it validates everything it can before spending anything, charges
// the abuse limits, uses up the SMS code, then registers the tenant with its signup and
// subscription records in one transaction and returns at once; provisioning and the Stripe
// set-up run as jobs, followed through Status. Two signups racing for one subdomain: the
// registry's unique slug lets exactly one win, the other gets ErrSubdomainTaken.
func (s *Service) Signup(ctx context.Context, r Request) (*SignupStatus, error) {
	var err error
	if r.TeamName, err = text("teamName", r.TeamName, 100); err != nil {
		return nil, err
	}
	if r.School, err = text("school", r.School, 100); err != nil {
		return nil, err
	}
	r.Subdomain = strings.ToLower(strings.TrimSpace(r.Subdomain))
	if err := s.slugError(r.Subdomain); err != nil {
		return nil, err
	}
	phone, err := pii.NormalizePhone(r.Phone)
	if err != nil {
		return nil, err
	}
	if r.Interval == "" {
		r.Interval = billing.Monthly
	}
	plan, err := s.plans.ForSignup(ctx, r.PlanID)
	if err != nil {
		return nil, err
	}
	if err := s.billing.CheckPlan(plan, r.Interval); err != nil {
		return nil, err
	}
	if _, err := s.reg.BySlug(ctx, r.Subdomain); err == nil {
		return nil, ErrSubdomainTaken
	}
	if _, err := s.charge(ctx, "ip", r.IP, s.limits.PerIPPerHour, time.Hour); err != nil {
		return nil, err
	}
	if err := s.codes.CheckSignupCode(ctx, phone, r.Code, r.IP); err != nil {
		return nil, err
	}
	phoneKey, err := s.charge(ctx, "phone", phone, s.limits.PerPhonePerDay, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	id := uuid.New()
	t, err := s.prov.Register(ctx, provision.Request{Slug: r.Subdomain, Name: r.TeamName, OwnerPhone: phone, OwnerName: r.OwnerName,
		Attach: func(tx *gorm.DB, t *tenancy.Tenant) error {
			if err := tx.Exec(`INSERT INTO public.signups (id, tenant_id, school) VALUES (?, ?, ?)`, id, t.ID, r.School).Error; err != nil {
				return err
			}
			return s.billing.Open(tx, t.ID, plan, r.Interval)
		}})
	switch {
	case errors.Is(err, tenancy.ErrSlugTaken):
		// Lost a race for the subdomain: the team did nothing wrong, so its phone keeps its
		// allowance for the retry with another subdomain (the SMS code is spent, though).
		s.rdb.Decr(context.WithoutCancel(ctx), phoneKey)
		return nil, ErrSubdomainTaken
	case errors.Is(err, tenancy.ErrSlugReserved):
		return nil, ErrSubdomainReserved
	case errors.Is(err, tenancy.ErrSlugInvalid):
		return nil, ErrSubdomainInvalid
	case err != nil && t == nil:
		return nil, err
	case err != nil:
		// Registered, but its provisioning job was not queued: the periodic sweep resumes it.
		s.log.WarnContext(ctx, "signup registered but provisioning not queued", "tenant", t.ID, "err", err)
	}
	return s.Status(ctx, id.String())
}

// charge counts one signup against value's window and returns the counter's key; over the
// limit it returns a *LimitError.
func (s *Service) charge(ctx context.Context, which, value string, limit int, window time.Duration) (string, error) {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(which + "\x00" + value))
	key := "paotui:signup:" + which + ":" + hex.EncodeToString(m.Sum(nil))[:32]
	pipe := s.rdb.TxPipeline()
	n := pipe.Incr(ctx, key)
	pipe.ExpireNX(ctx, key, window)
	ttl := pipe.PTTL(ctx, key)
	if _, err := pipe.Exec(ctx); err != nil {
		return "", fmt.Errorf("count signup: %w", err)
	}
	if n.Val() > int64(limit) {
		return key, &LimitError{Which: which, RetryAfter: ttl.Val()}
	}
	return key, nil
}

// SignupStatus is how far a signup got.
type SignupStatus struct {
	SignupID     string          `json:"signupId" format:"uuid"`
	TenantID     int64           `json:"tenantId"`
	Slug         string          `json:"slug"`
	State        string          `json:"state" enum:"provisioning,awaiting_payment,ready,paused,deleted" doc:"ready: the admin is live at adminUrl."`
	Ready        bool            `json:"ready"`
	Step         string          `json:"step" doc:"Provisioning step: registered, schema, blueprint, accounts, done."`
	LastError    string          `json:"lastError,omitempty" doc:"Set while a provisioning step is being retried."`
	AdminURL     string          `json:"adminUrl"`
	CheckoutURL  string          `json:"checkoutUrl,omitempty" doc:"Where to pay when the plan needs payment first; appears once Stripe answered."`
	Subscription *billing.Status `json:"subscription,omitempty" enum:"none,incomplete,trialing,active,past_due,unpaid,canceled,paused"`
	CreatedAt    time.Time       `json:"createdAt"`
}

// Status reports signup id: the tenant's provisioning, its payment and whether the admin is
// reachable. Errors: ErrNotFound.
func (s *Service) Status(ctx context.Context, id string) (*SignupStatus, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, ErrNotFound
	}
	var row struct {
		TenantID  int64
		CreatedAt time.Time
	}
	err := s.db.Gorm.WithContext(ctx).Raw(`SELECT tenant_id, created_at FROM public.signups WHERE id = ?`, id).Scan(&row).Error
	if err != nil {
		return nil, err
	}
	if row.TenantID == 0 {
		return nil, ErrNotFound
	}
	t, err := s.reg.ByID(ctx, row.TenantID)
	if err != nil {
		return nil, err
	}
	p, err := s.prov.Progress(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	st := &SignupStatus{SignupID: id, TenantID: t.ID, Slug: t.Slug, Step: p.Step, LastError: p.LastError,
		AdminURL: s.url(t.Slug+"."+s.base) + "/admin", CreatedAt: row.CreatedAt}
	if v, err := s.billing.ViewFor(ctx, t); err != nil {
		return nil, err
	} else if v != nil {
		st.Subscription, st.CheckoutURL = &v.Status, v.CheckoutURL
	}
	switch {
	case t.Status == tenancy.StatusActive:
		st.State, st.Ready = "ready", true
	case t.Status == tenancy.StatusDeleted:
		st.State = "deleted"
	case t.Status == tenancy.StatusSuspended && t.Hold == tenancy.HoldBilling && st.Subscription != nil && *st.Subscription == billing.StatusIncomplete:
		st.State = "awaiting_payment"
	case t.Status == tenancy.StatusSuspended:
		st.State = "paused"
	default:
		st.State = "provisioning"
	}
	if st.State == "provisioning" && st.Subscription != nil && *st.Subscription == billing.StatusIncomplete && st.CheckoutURL != "" {
		// Provisioning and payment run side by side; the client can send the owner to pay now.
		st.State = "awaiting_payment"
	}
	return st, nil
}
