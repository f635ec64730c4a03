package pii

import (
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"
)

// ErrInvalidPhone is returned for anything that is not a mainland-China mobile number.
var ErrInvalidPhone = errors.New("not a mainland China mobile number")

var mobile = regexp.MustCompile(`^1[3-9]\d{9}$`)

// NormalizePhone returns the 11-digit form of a mainland-China mobile number written with an
// optional +86, 0086 or 86 prefix and any spaces or dashes. Phones are stored, indexed and
// compared only in this form, so every entry point (login, registration, staff search) must
// pass through it.
func NormalizePhone(s string) (string, error) {
	p := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	switch {
	case strings.HasPrefix(p, "+86"):
		p = p[3:]
	case strings.HasPrefix(p, "0086"):
		p = p[4:]
	case len(p) == 13 && strings.HasPrefix(p, "86"):
		// Only a 13-digit string can carry a bare 86: no 11-digit mobile starts with 8.
		p = p[2:]
	}
	if !mobile.MatchString(p) {
		return "", ErrInvalidPhone
	}
	return p, nil
}

// MaskPhone hides the middle of a phone for couriers and lists: "13812341234" becomes
// "138****1234". Any other input is masked too, never revealing more than the first 3 and
// last 4 characters, and less of short strings, so a malformed value cannot leak whole.
func MaskPhone(p string) string {
	r := []rune(p)
	n := len(r)
	head, tail := 3, 4
	if n < 11 {
		// Reveal at most half of a short string: a quarter at each end.
		head, tail = n/4, n/4
	}
	out := make([]rune, 0, n)
	out = append(out, r[:head]...)
	for range n - head - tail {
		out = append(out, '*')
	}
	return string(append(out, r[n-tail:]...))
}

// MaskName keeps a name's first character and stars the rest, one star per character:
// "张三" → "张*", "欧阳娜娜" → "欧***", "Alice" → "A****". A one-character name is fully
// masked, as showing it would show it all.
func MaskName(n string) string {
	if n == "" {
		return ""
	}
	first, size := utf8.DecodeRuneInString(n)
	rest := utf8.RuneCountInString(n[size:])
	if rest == 0 {
		return "*"
	}
	return string(first) + strings.Repeat("*", rest)
}
