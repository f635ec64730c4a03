package domains

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/platform/plans"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
)

// TXTResolver looks up DNS TXT records; net.DefaultResolver in production, a fake in tests.
// A name without TXT records is reported as a *net.DNSError with IsNotFound set, or as no
// records.
type TXTResolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// Gate is the plan check custom domains need (plans.Service implements it).
type Gate interface {
	Check(ctx context.Context, tenantID int64, limit plans.Kind, current int64) error
}

// Invalidator drops a tenant's cached host entries on every replica (tenancy.Resolver).
type Invalidator interface {
	Invalidate(ctx context.Context, tenantID int64) error
}

// dnsTimeout bounds one verification lookup, so a slow authoritative server cannot hold the
// owner's request (and a connection) for the resolver's full retry schedule.
const dnsTimeout = 5 * time.Second

// Service manages custom domains. It is safe for concurrent use.
type Service struct {
	db    *store.DB
	gate  Gate
	dns   TXTResolver
	hosts Invalidator
	base  string
	log   *slog.Logger
	now   func() time.Time
}

// NewService wires the domain service: gate checks the plan, dns verifies, hosts is told when
// a domain starts or stops resolving, baseDomain is the platform's own domain (names under it
// are refused). log may be nil.
func NewService(db *store.DB, gate Gate, dns TXTResolver, hosts Invalidator, baseDomain string, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, gate: gate, dns: dns, hosts: hosts, base: strings.ToLower(strings.TrimSuffix(baseDomain, ".")),
		log: log, now: time.Now}
}

type domainRow struct {
	Domain     string
	TenantID   int64
	TxtToken   string
	VerifiedAt *time.Time
	CreatedAt  time.Time
}

func (s *Service) view(t *tenancy.Tenant, r domainRow) CustomDomain {
	d := CustomDomain{
		Domain: r.Domain, Status: StatusPending, CreatedAt: r.CreatedAt.UTC(),
		TXTRecord:   TXTRecord{Name: TXTPrefix + r.Domain, Type: "TXT", Value: valuePrefix + r.TxtToken},
		CNAMETarget: t.Slug + "." + s.base,
	}
	if r.VerifiedAt != nil {
		v := r.VerifiedAt.UTC()
		d.Status, d.VerifiedAt = StatusVerified, &v
	}
	return d
}

const rowColumns = `domain, tenant_id, txt_token, verified_at, created_at`

// List returns one page of tenant t's domains by name and how many it has.
func (s *Service) List(ctx context.Context, t *tenancy.Tenant, limit, offset int) ([]CustomDomain, int64, error) {
	db := s.db.Gorm.WithContext(ctx)
	var total int64
	if err := db.Raw(`SELECT count(*) FROM public.tenant_domains WHERE tenant_id = ?`, t.ID).Scan(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count domains: %w", err)
	}
	if limit <= 0 || limit > MaxPerTenant*4 {
		limit = MaxPerTenant * 4
	}
	var rows []domainRow
	err := db.Raw(`SELECT `+rowColumns+` FROM public.tenant_domains WHERE tenant_id = ? ORDER BY domain LIMIT ? OFFSET ?`,
		t.ID, limit, max(offset, 0)).Scan(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list domains: %w", err)
	}
	out := make([]CustomDomain, len(rows))
	for i, r := range rows {
		out[i] = s.view(t, r)
	}
	return out, total, nil
}

// Get returns tenant t's domain name. Errors: ErrDomainNotFound.
func (s *Service) Get(ctx context.Context, t *tenancy.Tenant, name string) (CustomDomain, error) {
	r, err := s.row(s.db.Gorm.WithContext(ctx), t.ID, name)
	if err != nil {
		return CustomDomain{}, err
	}
	return s.view(t, r), nil
}

func (s *Service) row(tx *gorm.DB, tenantID int64, name string) (domainRow, error) {
	d, err := Normalize(name)
	if err != nil {
		return domainRow{}, ErrDomainNotFound
	}
	var rows []domainRow
	err = tx.Raw(`SELECT `+rowColumns+` FROM public.tenant_domains WHERE domain = ? AND tenant_id = ?`, d, tenantID).Scan(&rows).Error
	if err != nil {
		return domainRow{}, fmt.Errorf("read domain: %w", err)
	}
	if len(rows) == 0 {
		return domainRow{}, ErrDomainNotFound
	}
	return rows[0], nil
}

// Add claims name for tenant t, pending verification, and returns it with the TXT record to
// create. by names the actor and IP of the audit entries. A domain another tenant claimed
// more than claimTTL ago without verifying it is taken over. Errors: *InvalidError,
// ErrPlatformDomain, ErrDomainExists, ErrDomainTaken, ErrTooManyDomains, and the plan's
// *plans.LimitError when the plan has no custom domains.
func (s *Service) Add(ctx context.Context, t *tenancy.Tenant, name string, by audit.Entry) (CustomDomain, error) {
	// The platform's own names first: in development the base domain is localhost, which
	// Normalize would refuse with a less helpful reason.
	if underBase(strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), "."), s.base) {
		return CustomDomain{}, ErrPlatformDomain
	}
	d, err := Normalize(name)
	if err != nil {
		return CustomDomain{}, err
	}
	token, err := newToken()
	if err != nil {
		return CustomDomain{}, err
	}
	var row domainRow
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var cur []domainRow
		if err := tx.Raw(`SELECT `+rowColumns+` FROM public.tenant_domains WHERE domain = ? FOR UPDATE`, d).Scan(&cur).Error; err != nil {
			return fmt.Errorf("read domain: %w", err)
		}
		now := s.clock()
		var releasedFrom int64
		if len(cur) > 0 {
			c := cur[0]
			switch {
			case c.TenantID == t.ID:
				return ErrDomainExists
			case c.VerifiedAt != nil || now.Sub(c.CreatedAt) < claimTTL:
				return ErrDomainTaken
			}
			releasedFrom = c.TenantID
		}
		var n int64
		if err := tx.Raw(`SELECT count(*) FROM public.tenant_domains WHERE tenant_id = ?`, t.ID).Scan(&n).Error; err != nil {
			return fmt.Errorf("count domains: %w", err)
		}
		if n >= MaxPerTenant {
			return fmt.Errorf("%w: at most %d", ErrTooManyDomains, MaxPerTenant)
		}
		if err := s.gate.Check(ctx, t.ID, plans.KindCustomDomains, n); err != nil {
			return err
		}
		row = domainRow{Domain: d, TenantID: t.ID, TxtToken: token, CreatedAt: now}
		if releasedFrom != 0 {
			err := tx.Exec(`UPDATE public.tenant_domains SET tenant_id = ?, txt_token = ?, verified_at = NULL, created_at = ?
				WHERE domain = ?`, t.ID, token, now, d).Error
			if err != nil {
				return fmt.Errorf("take over domain: %w", err)
			}
		} else {
			res := tx.Exec(`INSERT INTO public.tenant_domains (domain, tenant_id, txt_token, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (domain) DO NOTHING`, d, t.ID, token, now)
			if res.Error != nil {
				return fmt.Errorf("add domain: %w", res.Error)
			}
			if res.RowsAffected == 0 {
				return ErrDomainTaken // claimed by a concurrent request
			}
		}
		var meta map[string]any
		if releasedFrom != 0 {
			meta = map[string]any{"releasedFromTenant": releasedFrom}
		}
		return record(tx, t, by, "domain.add", d, meta)
	})
	if err != nil {
		return CustomDomain{}, err
	}
	return s.view(t, row), nil
}

// Verify looks up the TXT record at _paotui.<name> and, when one holds the domain's token,
// marks the domain verified and tells every replica, so the tenant resolves at the domain
// immediately. A verified domain is returned as it is. Errors: ErrDomainNotFound,
// ErrTXTMissing, ErrTXTMismatch, ErrDNSUnavailable, and the plan's *plans.LimitError when the
// plan no longer includes custom domains.
func (s *Service) Verify(ctx context.Context, t *tenancy.Tenant, name string, by audit.Entry) (CustomDomain, error) {
	db := s.db.Gorm.WithContext(ctx)
	r, err := s.row(db, t.ID, name)
	if err != nil {
		return CustomDomain{}, err
	}
	if r.VerifiedAt != nil {
		return s.view(t, r), nil
	}
	var verified int64
	if err := db.Raw(`SELECT count(*) FROM public.tenant_domains WHERE tenant_id = ? AND verified_at IS NOT NULL`, t.ID).
		Scan(&verified).Error; err != nil {
		return CustomDomain{}, fmt.Errorf("count verified domains: %w", err)
	}
	if err := s.gate.Check(ctx, t.ID, plans.KindCustomDomains, verified); err != nil {
		return CustomDomain{}, err
	}
	if err := s.lookup(ctx, r.Domain, r.TxtToken); err != nil {
		return CustomDomain{}, err
	}
	now := s.clock()
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE public.tenant_domains SET verified_at = ?
			WHERE domain = ? AND tenant_id = ? AND txt_token = ? AND verified_at IS NULL`, now, r.Domain, t.ID, r.TxtToken)
		if res.Error != nil {
			return fmt.Errorf("mark domain verified: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			// Deleted, or verified by a concurrent request, meanwhile: report what is there now.
			var err error
			r, err = s.row(tx, t.ID, r.Domain)
			return err
		}
		r.VerifiedAt = &now
		return record(tx, t, by, "domain.verify", r.Domain, nil)
	})
	if err != nil {
		return CustomDomain{}, err
	}
	s.announce(ctx, t)
	return s.view(t, r), nil
}

// clock is now as PostgreSQL stores it (microseconds), so what Add and Verify return equals
// what later reads return.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// lookup checks that a TXT record at the domain's verification name holds the token.
func (s *Service) lookup(ctx context.Context, domain, token string) error {
	lctx, cancel := context.WithTimeout(ctx, dnsTimeout)
	defer cancel()
	txts, err := s.dns.LookupTXT(lctx, TXTPrefix+domain)
	var de *net.DNSError
	switch {
	case errors.As(err, &de) && de.IsNotFound:
		return ErrTXTMissing
	case err != nil:
		return &unavailableError{cause: err}
	case len(txts) == 0:
		return ErrTXTMissing
	}
	want := valuePrefix + token
	for _, v := range txts {
		// Some DNS panels keep the quotes people type around the value.
		if strings.Trim(strings.TrimSpace(v), `"`) == want {
			return nil
		}
	}
	return ErrTXTMismatch
}

// unavailableError is ErrDNSUnavailable with its cause (for logs) and a hint to retry.
type unavailableError struct{ cause error }

func (e *unavailableError) Error() string { return ErrDNSUnavailable.Error() + ": " + e.cause.Error() }

func (e *unavailableError) Is(target error) bool { return target == ErrDNSUnavailable }

func (e *unavailableError) Unwrap() error { return e.cause }

// RetryAfter suggests when to try again (becomes the problem's Retry-After).
func (e *unavailableError) RetryAfter() time.Duration { return 30 * time.Second }

// Delete removes tenant t's domain name; a verified one stops resolving on every replica.
// Errors: ErrDomainNotFound.
func (s *Service) Delete(ctx context.Context, t *tenancy.Tenant, name string, by audit.Entry) error {
	d, err := Normalize(name)
	if err != nil {
		return ErrDomainNotFound
	}
	var wasVerified bool
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var gone []struct{ VerifiedAt *time.Time }
		if err := tx.Raw(`DELETE FROM public.tenant_domains WHERE domain = ? AND tenant_id = ? RETURNING verified_at`, d, t.ID).
			Scan(&gone).Error; err != nil {
			return fmt.Errorf("delete domain: %w", err)
		}
		if len(gone) == 0 {
			return ErrDomainNotFound
		}
		wasVerified = gone[0].VerifiedAt != nil
		return record(tx, t, by, "domain.delete", d, map[string]any{"verified": wasVerified})
	})
	if err != nil {
		return err
	}
	if wasVerified {
		s.announce(ctx, t)
	}
	return nil
}

// announce drops the tenant's cached hosts on every replica. A failed publish is logged, not
// returned: the change is committed, this replica already dropped its entries, and the others'
// entries expire with the resolver's TTL.
func (s *Service) announce(ctx context.Context, t *tenancy.Tenant) {
	if err := s.hosts.Invalidate(context.WithoutCancel(ctx), t.ID); err != nil {
		s.log.WarnContext(ctx, "tenant host cache invalidation not published", "tenant", t.Slug, "err", err)
	}
}

// record writes the change to the tenant's audit log, which its owner reads, and to the
// platform's, where a claimed host name is a platform matter (abuse, certificates).
func record(tx *gorm.DB, t *tenancy.Tenant, by audit.Entry, action, domain string, meta map[string]any) error {
	by.Action, by.Target, by.Meta = action, "domain:"+domain, meta
	if err := audit.Record(tx, by); err != nil {
		return err
	}
	return audit.RecordPlatform(tx, &t.ID, by)
}

// newToken is the secret a TXT record must show: 160 random bits, DNS-safe.
func newToken() (string, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}
