package identity

import (
	"context"
	"log/slog"
	"regexp"
	"sync"

	"github.com/paotui/paotui/internal/pii"
)

// Sender delivers a text message to a normalised mainland-China mobile number. Real drivers
// (an SMS gateway) implement it; LogSender is the development one.
type Sender interface {
	Send(ctx context.Context, phone, text string) error
}

// LogSender is the development SMS driver: instead of sending, it logs each message at INFO
// with the phone masked and the code in clear, so a developer can sign in from the server log.
// It is for development only (config refuses the log driver in production): anyone who reads
// the log can sign in as anyone. It also keeps the last code per phone for tests and dev
// tooling; that map grows with every phone it sees and is never pruned.
type LogSender struct {
	log  *slog.Logger
	mu   sync.Mutex
	last map[string]string // normalised phone -> last code
}

// NewLogSender logs through log (slog.Default() when nil).
func NewLogSender(log *slog.Logger) *LogSender {
	if log == nil {
		log = slog.Default()
	}
	return &LogSender{log: log, last: map[string]string{}}
}

// codeInText finds the login code in a message: the only run of exactly six digits.
var codeInText = regexp.MustCompile(`(?:^|\D)(\d{6})(?:\D|$)`)

// Send logs text and never fails.
func (l *LogSender) Send(ctx context.Context, phone, text string) error {
	code := ""
	if m := codeInText.FindStringSubmatch(text); m != nil {
		code = m[1]
	}
	l.mu.Lock()
	l.last[phoneKey(phone)] = code
	l.mu.Unlock()
	l.log.InfoContext(ctx, "sms not sent: log driver (development only)",
		"phone", pii.MaskPhone(phone), "code", code)
	return nil
}

// LastCode is the code of the last message sent to phone (any accepted spelling), or "".
func (l *LogSender) LastCode(phone string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last[phoneKey(phone)]
}

func phoneKey(phone string) string {
	if p, err := pii.NormalizePhone(phone); err == nil {
		return p
	}
	return phone
}
