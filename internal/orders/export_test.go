package orders

import "testing"

// SetExportCap lowers the export cap of s, so that tests can reach it with a few orders.
func SetExportCap(s *Service, n int) { s.exportCap = n }

// A pin's label is typed by a student; exported to CSV it must never run as a formula.
func TestExportCells(t *testing.T) {
	for in, want := range map[string]string{
		"1号学生宿舍":            "1号学生宿舍",
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")",
		"+86 138":           "'+86 138",
		"-1":                "'-1",
		"@SUM(A1)":          "'@SUM(A1)",
		"":                  "",
	} {
		if got := cell(in); got != want {
			t.Errorf("cell(%q) = %q, want %q", in, got, want)
		}
	}
	for fen, want := range map[int64]string{0: "0.00", 5: "0.05", 1234: "12.34", -150: "-1.50"} {
		if got := yuan(fen); got != want {
			t.Errorf("yuan(%d) = %q, want %q", fen, got, want)
		}
	}
}
