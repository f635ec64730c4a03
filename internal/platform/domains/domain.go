package domains

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

var (
	// ErrInvalidDomain matches every *InvalidError: a name that is not a public host name.
	ErrInvalidDomain = errors.New("invalid domain")
	// ErrPlatformDomain is returned for the platform's base domain or a name under it: those
	// are the platform's to hand out (as subdomains), not a tenant's to claim.
	ErrPlatformDomain = errors.New("names under the platform's domain cannot be added; your service already has its subdomain")
	// ErrDomainTaken is returned when another tenant has the domain (verified, or claimed
	// recently; see claimTTL).
	ErrDomainTaken = errors.New("another service uses this domain")
	// ErrDomainExists is returned when the tenant already added the domain.
	ErrDomainExists = errors.New("this domain was already added")
	// ErrTooManyDomains is returned when the tenant has MaxPerTenant domains.
	ErrTooManyDomains = errors.New("too many custom domains")
	// ErrDomainNotFound is returned for a domain the tenant has not added.
	ErrDomainNotFound = errors.New("domain not found")
	// ErrTXTMissing is returned by Verify when _paotui.<domain> has no TXT record (yet).
	ErrTXTMissing = errors.New("no TXT record found at the verification name")
	// ErrTXTMismatch is returned by Verify when TXT records exist but none holds the token.
	ErrTXTMismatch = errors.New("the TXT record does not hold this domain's verification value")
	// ErrDNSUnavailable is returned by Verify when DNS could not answer (timeout, server
	// failure); trying again later may succeed.
	ErrDNSUnavailable = errors.New("DNS lookup failed")
)

// MaxPerTenant bounds a tenant's custom domains, verified or not, so that one tenant cannot
// park many names. A campus team needs one or two.
const MaxPerTenant = 5

// claimTTL is how long an unverified domain stays claimed. After it, another tenant that
// adds the domain takes the claim over: a pending row proves nothing, and without expiry
// anyone could block a name (say, a university's) from its real owner.
const claimTTL = 72 * time.Hour

// TXTPrefix is the verification name's label in front of the domain.
const TXTPrefix = "_paotui."

// valuePrefix is what the TXT record's value starts with, so the record says what it is for.
const valuePrefix = "paotui-verification="

// CustomDomain is a tenant's custom domain as its owner sees it, with the DNS records to
// create.
type CustomDomain struct {
	Domain      string     `json:"domain" example:"paotui.example-university.cn"`
	Status      string     `json:"status" enum:"pending,verified" doc:"pending until the TXT record is found by verify-domain."`
	VerifiedAt  *time.Time `json:"verifiedAt,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	TXTRecord   TXTRecord  `json:"txtRecord" doc:"Create this record, then call verify-domain."`
	CNAMETarget string     `json:"cnameTarget" example:"campus.paotui.example" doc:"Point the domain here (CNAME) so requests reach the service."`
}

// TXTRecord is a DNS record the owner must create.
type TXTRecord struct {
	Name  string `json:"name" example:"_paotui.paotui.example-university.cn"`
	Type  string `json:"type" enum:"TXT"`
	Value string `json:"value" example:"paotui-verification=k5j3..."`
}

// Status values of a CustomDomain.
const (
	StatusPending  = "pending"
	StatusVerified = "verified"
)

// InvalidError says why a domain name was refused. errors.Is matches ErrInvalidDomain.
type InvalidError struct{ Reason string }

func (e *InvalidError) Error() string { return "invalid domain: " + e.Reason }

// Unwrap returns ErrInvalidDomain.
func (e *InvalidError) Unwrap() error { return ErrInvalidDomain }

func invalid(format string, args ...any) *InvalidError {
	return &InvalidError{Reason: fmt.Sprintf(format, args...)}
}

// privateSuffixes never resolve on the public internet (RFC 2606, 6761, 6762, 8375), so DNS
// could never verify them.
var privateSuffixes = []string{"localhost", "local", "internal", "invalid", "test", "example", "onion", "home.arpa"}

// Normalize returns name as stored and resolved (lower case, no trailing dot) if it is a
// public host name, else an *InvalidError saying what is wrong. Internationalised names are
// accepted in their punycode (xn--) form only, the form the Host header carries.
func Normalize(name string) (string, error) {
	d := strings.ToLower(strings.TrimSpace(name))
	if strings.Contains(d, "://") || strings.ContainsAny(d, "/:?#@") {
		return "", invalid("give the host name only, without https://, a port or a path")
	}
	d = strings.TrimSuffix(d, ".")
	if d == "" {
		return "", invalid("is required")
	}
	for _, r := range d {
		if r > 0x7f {
			return "", invalid("write internationalised names in their punycode form (xn--...)")
		}
	}
	if len(d) > 253 {
		return "", invalid("must be at most 253 characters")
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "", invalid("must be a full domain name such as paotui.example-university.cn")
	}
	for _, l := range labels {
		if err := checkLabel(l); err != nil {
			return "", err
		}
	}
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return "", invalid("must be a domain name, not an IP address")
	}
	for _, s := range privateSuffixes {
		if d == s || strings.HasSuffix(d, "."+s) {
			return "", invalid("%s names are not public and cannot be verified", s)
		}
	}
	return d, nil
}

func checkLabel(l string) error {
	if l == "" {
		return invalid("must not contain empty labels (..)")
	}
	if len(l) > 63 {
		return invalid("each part between dots must be at most 63 characters")
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return invalid("may hold only letters, digits, hyphens and dots (got %q)", string(c))
		}
	}
	if l[0] == '-' || l[len(l)-1] == '-' {
		return invalid("parts must not start or end with a hyphen")
	}
	return nil
}

// underBase reports whether d is base or a name under it.
func underBase(d, base string) bool {
	base = strings.TrimSuffix(strings.ToLower(base), ".")
	return d == base || strings.HasSuffix(d, "."+base)
}
