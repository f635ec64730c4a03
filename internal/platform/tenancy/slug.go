package tenancy

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

var (
	// ErrSlugInvalid is returned for a subdomain that breaks the format rules.
	ErrSlugInvalid = errors.New("subdomain must be 3-30 lowercase letters, digits or hyphens, starting and ending with a letter or digit")
	// ErrSlugReserved is returned for a subdomain the platform keeps for itself.
	ErrSlugReserved = errors.New("subdomain is reserved")
)

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,28}[a-z0-9]$`)

// reserved are subdomains that name platform hosts, look official, or would confuse users.
var reserved = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`www admin api app apps static assets cdn img images media mail smtp imap pop
		status health metrics docs help support blog news about billing pay payment payments stripe
		auth login logout signup register account accounts dashboard console platform root system
		test dev staging prod demo-admin paotui official security abuse postmaster webmaster ftp ns ns1 ns2`) {
		reserved[w] = true
	}
}

// ValidateSlug checks a subdomain against the format and the reserved list (plus extra).
func ValidateSlug(slug string, extra []string) error {
	if !slugPattern.MatchString(slug) || strings.Contains(slug, "--") {
		return fmt.Errorf("%w (got %q)", ErrSlugInvalid, slug)
	}
	if reserved[slug] {
		return fmt.Errorf("%w: %q", ErrSlugReserved, slug)
	}
	for _, e := range extra {
		if strings.EqualFold(e, slug) {
			return fmt.Errorf("%w: %q", ErrSlugReserved, slug)
		}
	}
	return nil
}

// IsReserved reports whether sub is a platform host name (used by Host resolution).
func IsReserved(sub string) bool { return reserved[sub] }
