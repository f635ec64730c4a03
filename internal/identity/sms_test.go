package identity_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/paotui/paotui/internal/identity"
)

func TestLogSender(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	s := identity.NewLogSender(slog.New(slog.NewTextHandler(&buf, nil)))
	if err := s.Send(context.Background(), "13812345678", "【跑腿】您的登录验证码是 042917，5 分钟内有效。"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "13812345678") || !strings.Contains(out, "138****5678") || !strings.Contains(out, "042917") ||
		!strings.Contains(out, "level=INFO") {
		t.Fatalf("log line %q: want INFO, masked phone, code in clear", out)
	}
	tests := []struct{ name, phone, want string }{
		{"same spelling", "13812345678", "042917"},
		{"other spelling", "+86 138 1234 5678", "042917"},
		{"other phone", "13912345678", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.LastCode(tc.phone); got != tc.want {
				t.Fatalf("LastCode(%q) = %q, want %q", tc.phone, got, tc.want)
			}
		})
	}
}
