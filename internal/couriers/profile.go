package couriers

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paotui/paotui/internal/pii"
)

// Vehicle is how a courier gets around; dispatch may prefer bikes for long runs.
type Vehicle string

const (
	Walk  Vehicle = "walk"
	Bike  Vehicle = "bike"
	EBike Vehicle = "ebike"
)

// Fields of the sealed values, as named in the migration; the field is part of every
// ciphertext, so a value cannot be moved to another column unnoticed.
const (
	fieldRealName  = "courier.real_name"
	fieldStudentNo = "courier.student_no"
)

// Limits of an application.
const (
	minNameRunes, maxNameRunes         = 2, 30
	minStudentNoLen, maxStudentNoLen   = 4, 20
	maxNoteRunes                       = 500
	defaultListLimit, maxListLimit     = 20, 100
	defaultIncomeLimit, maxIncomeLimit = 20, 100
)

// ApplyRequest is what a student fills in to become a courier.
type ApplyRequest struct {
	RealName  string  `json:"realName" maxLength:"60" doc:"As on the student card, 2 to 30 characters."`
	StudentNo string  `json:"studentNo" maxLength:"40" doc:"4 to 20 letters and digits; one application per student number."`
	Vehicle   Vehicle `json:"vehicle,omitempty" enum:"walk,bike,ebike" doc:"Defaults to walk."`
	Note      string  `json:"note,omitempty" maxLength:"500" doc:"Anything staff should know (hours, areas)."`
}

// normalize trims the request and checks it; the student number is upper-cased, so the same
// card typed in either case meets the same blind index.
func (r ApplyRequest) normalize() (ApplyRequest, error) {
	r.RealName = strings.Join(strings.Fields(r.RealName), " ")
	if n := utf8.RuneCountInString(r.RealName); n < minNameRunes || n > maxNameRunes || !utf8.ValidString(r.RealName) {
		return r, &InvalidError{Field: "realName", Reason: "must be 2 to 30 characters"}
	}
	r.StudentNo = strings.ToUpper(strings.TrimSpace(r.StudentNo))
	if n := len(r.StudentNo); n < minStudentNoLen || n > maxStudentNoLen || strings.IndexFunc(r.StudentNo, notAlnum) >= 0 {
		return r, &InvalidError{Field: "studentNo", Reason: "must be 4 to 20 letters (A-Z) and digits"}
	}
	switch r.Vehicle {
	case "":
		r.Vehicle = Walk
	case Walk, Bike, EBike:
	default:
		return r, &InvalidError{Field: "vehicle", Reason: "must be walk, bike or ebike"}
	}
	r.Note = strings.TrimSpace(r.Note)
	if utf8.RuneCountInString(r.Note) > maxNoteRunes || !utf8.ValidString(r.Note) {
		return r, &InvalidError{Field: "note", Reason: "must be at most 500 characters"}
	}
	return r, nil
}

func notAlnum(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') }

// Profile is a courier profile. In the courier's own view the real name and student number
// are in clear; in staff views both are masked (Masked is true) until an audited PII reveal.
type Profile struct {
	UserID         string     `json:"userId"`
	Status         Status     `json:"status" enum:"pending,approved,rejected,suspended"`
	RealName       string     `json:"realName" doc:"Masked (张*) in staff views."`
	StudentNo      string     `json:"studentNo" doc:"Masked (20****56) in staff views."`
	Masked         bool       `json:"masked" doc:"True when realName and studentNo are masked."`
	Vehicle        Vehicle    `json:"vehicle" enum:"walk,bike,ebike"`
	Note           string     `json:"note"`
	DecisionReason string     `json:"decisionReason,omitempty" doc:"Why the application was rejected or the courier suspended."`
	DecidedBy      string     `json:"decidedBy,omitempty" doc:"Staff user who made the last decision (staff views only)."`
	DecidedAt      *time.Time `json:"decidedAt,omitempty"`
	AppliedAt      time.Time  `json:"appliedAt"`
	Online         bool       `json:"online"`
	OnlineSince    *time.Time `json:"onlineSince,omitempty"`
	LastActiveAt   *time.Time `json:"lastActiveAt,omitempty" doc:"When the courier last took or finished an order."`
	CreditScore    int        `json:"creditScore"`
	UpdatedAt      time.Time  `json:"updatedAt"`
	Allowed        []Decision `json:"allowed" doc:"Decisions staff may take now (staff views; empty for the courier)."`
}

// maskStudentNo shows at most two characters at each end, and a quarter of a short number:
// enough for staff to tell two applicants apart, not enough to reuse the number.
func maskStudentNo(s string) string {
	n := len(s) // ASCII only, checked on the way in
	keep := min(n/4, 2)
	return s[:keep] + strings.Repeat("*", n-2*keep) + s[n-keep:]
}

// profileRow is a courier_profiles row.
type profileRow struct {
	UserID         string
	Status         Status
	RealNameEnc    []byte
	StudentNoEnc   []byte
	Vehicle        Vehicle
	Note           string
	DecisionReason string
	DecidedBy      *string
	DecidedAt      *time.Time
	AppliedAt      time.Time
	Online         bool
	OnlineSince    *time.Time
	LastActiveAt   *time.Time
	CreditScore    int
	UpdatedAt      time.Time
}

const profileColumns = `user_id, status, real_name_enc, student_no_enc, vehicle, note, decision_reason,
	decided_by, decided_at, applied_at, online, online_since, last_active_at, credit_score, updated_at`

// view opens the sealed fields; staff views mask them.
func (r *profileRow) view(c *pii.Cipher, staff bool) (*Profile, error) {
	name, err := c.Decrypt(fieldRealName, r.RealNameEnc)
	if err != nil {
		return nil, err
	}
	no, err := c.Decrypt(fieldStudentNo, r.StudentNoEnc)
	if err != nil {
		return nil, err
	}
	p := &Profile{UserID: r.UserID, Status: r.Status, RealName: name, StudentNo: no, Vehicle: r.Vehicle, Note: r.Note,
		DecisionReason: r.DecisionReason, DecidedAt: r.DecidedAt, AppliedAt: r.AppliedAt, Online: r.Online,
		OnlineSince: r.OnlineSince, LastActiveAt: r.LastActiveAt, CreditScore: r.CreditScore, UpdatedAt: r.UpdatedAt,
		Allowed: []Decision{}}
	if staff {
		p.RealName, p.StudentNo, p.Masked = pii.MaskName(name), maskStudentNo(no), true
		if r.DecidedBy != nil {
			p.DecidedBy = *r.DecidedBy
		}
		p.Allowed = Allowed(r.Status)
	}
	return p, nil
}
