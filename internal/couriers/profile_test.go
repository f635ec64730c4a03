package couriers_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/couriers"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

func TestApply(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()

	t.Run("validation", func(t *testing.T) {
		u := e.user(t)
		tests := []struct {
			name  string
			req   couriers.ApplyRequest
			field string // "" = accepted
		}{
			{"two han characters", couriers.ApplyRequest{RealName: "张三", StudentNo: "2021001"}, ""},
			{"one character", couriers.ApplyRequest{RealName: "张", StudentNo: "2021001"}, "realName"},
			{"blank name", couriers.ApplyRequest{RealName: "   ", StudentNo: "2021001"}, "realName"},
			{"thirty runes", couriers.ApplyRequest{RealName: strings.Repeat("欧", 30), StudentNo: "2021001"}, ""},
			{"thirty-one runes", couriers.ApplyRequest{RealName: strings.Repeat("欧", 31), StudentNo: "2021001"}, "realName"},
			{"invalid utf-8", couriers.ApplyRequest{RealName: "张\xff三", StudentNo: "2021001"}, "realName"},
			{"three digits", couriers.ApplyRequest{RealName: "张三", StudentNo: "202"}, "studentNo"},
			{"four", couriers.ApplyRequest{RealName: "张三", StudentNo: "2021"}, ""},
			{"twenty", couriers.ApplyRequest{RealName: "张三", StudentNo: strings.Repeat("9", 20)}, ""},
			{"twenty-one", couriers.ApplyRequest{RealName: "张三", StudentNo: strings.Repeat("9", 21)}, "studentNo"},
			{"dash", couriers.ApplyRequest{RealName: "张三", StudentNo: "2021-001"}, "studentNo"},
			{"full-width digits", couriers.ApplyRequest{RealName: "张三", StudentNo: "２０２１００１"}, "studentNo"},
			{"bad vehicle", couriers.ApplyRequest{RealName: "张三", StudentNo: "2021001", Vehicle: "car"}, "vehicle"},
			{"long note", couriers.ApplyRequest{RealName: "张三", StudentNo: "2021001", Note: strings.Repeat("长", 501)}, "note"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.svc.Apply(ctx, e.tn, u, tc.req)
				var ie *couriers.InvalidError
				switch {
				case tc.field == "" && err != nil:
					t.Fatalf("Apply: %v", err)
				case tc.field != "" && (!errors.As(err, &ie) || ie.Field != tc.field || !errors.Is(err, couriers.ErrInvalid)):
					t.Fatalf("Apply = %v; want an InvalidError on %s", err, tc.field)
				}
			})
		}
	})

	t.Run("own view is clear, stored values are sealed", func(t *testing.T) {
		u := e.user(t)
		p, err := e.svc.Apply(ctx, e.tn, u, couriers.ApplyRequest{RealName: "  欧阳  娜娜 ", StudentNo: " s2021abc9 ", Vehicle: couriers.Bike, Note: " 晚上有空 "})
		if err != nil {
			t.Fatal(err)
		}
		want := couriers.Profile{UserID: u, Status: couriers.Pending, RealName: "欧阳 娜娜", StudentNo: "S2021ABC9", Vehicle: couriers.Bike,
			Note: "晚上有空", CreditScore: 100}
		if p.UserID != want.UserID || p.Status != want.Status || p.RealName != want.RealName || p.StudentNo != want.StudentNo ||
			p.Vehicle != want.Vehicle || p.Note != want.Note || p.CreditScore != 100 || p.Masked || p.Online {
			t.Fatalf("profile %+v", p)
		}
		got, err := e.svc.Get(ctx, e.tn, u)
		if err != nil || got.RealName != "欧阳 娜娜" || got.StudentNo != "S2021ABC9" || got.Masked {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		var row []byte
		e.in(t, func(tx *gorm.DB) error {
			return tx.Raw(`SELECT convert_to(p::text, 'UTF8') FROM courier_profiles p WHERE user_id = ?`, u).Row().Scan(&row)
		})
		// Bytea and uuids print as lower-case hex, so these cannot appear by chance.
		for _, clear := range []string{"欧阳", "娜娜", "S2021ABC9", "s2021abc9"} {
			if bytes.Contains(row, []byte(clear)) {
				t.Errorf("stored row contains %q in clear", clear)
			}
		}
		if got := e.audited(t, u); !slices.Equal(got, []string{"couriers.apply"}) {
			t.Errorf("audit trail %v", got)
		}
	})

	t.Run("never applied", func(t *testing.T) {
		for _, id := range []string{e.user(t), "not-a-uuid"} {
			if _, err := e.svc.Get(ctx, e.tn, id); !errors.Is(err, couriers.ErrNotFound) {
				t.Errorf("Get(%s) = %v, want ErrNotFound", id, err)
			}
		}
	})

	t.Run("re-apply while pending updates in place", func(t *testing.T) {
		u := e.user(t)
		first := e.apply(t, u)
		time.Sleep(5 * time.Millisecond)
		p, err := e.svc.Apply(ctx, e.tn, u, couriers.ApplyRequest{RealName: "李四", StudentNo: "B77777", Vehicle: couriers.EBike})
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != couriers.Pending || p.RealName != "李四" || p.StudentNo != "B77777" || p.Vehicle != couriers.EBike {
			t.Fatalf("profile %+v", p)
		}
		if !p.AppliedAt.Equal(first.AppliedAt) {
			t.Errorf("applied at %v, want the first application's %v (its place in the queue)", p.AppliedAt, first.AppliedAt)
		}
		// The old number is free again.
		if _, err := e.svc.Apply(ctx, e.tn, e.user(t), couriers.ApplyRequest{RealName: "王五", StudentNo: first.StudentNo}); err != nil {
			t.Errorf("the replaced student number is still taken: %v", err)
		}
	})

	t.Run("re-apply after a rejection", func(t *testing.T) {
		u := e.courier(t, couriers.Rejected, false)
		p, err := e.svc.Get(ctx, e.tn, u)
		if err != nil || p.Status != couriers.Rejected || p.DecisionReason != "照片不清楚" {
			t.Fatalf("rejected profile %+v, %v", p, err)
		}
		p, err = e.svc.Apply(ctx, e.tn, u, couriers.ApplyRequest{RealName: "赵六", StudentNo: studentNo(), Note: "重新上传"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != couriers.Pending || p.RealName != "赵六" || p.Note != "重新上传" || p.DecisionReason != "" || p.DecidedAt != nil {
			t.Fatalf("re-applied profile %+v", p)
		}
	})

	t.Run("approved and suspended couriers cannot apply", func(t *testing.T) {
		for _, s := range []couriers.Status{couriers.Approved, couriers.Suspended} {
			u := e.courier(t, s, false)
			if _, err := e.svc.Apply(ctx, e.tn, u, couriers.ApplyRequest{RealName: "张三", StudentNo: studentNo()}); !errors.Is(err, couriers.ErrAlreadyCourier) {
				t.Errorf("%s: Apply = %v, want ErrAlreadyCourier", s, err)
			}
		}
	})

	t.Run("student number unique per tenant", func(t *testing.T) {
		no := studentNo()
		a, b := e.user(t), e.user(t)
		if _, err := e.svc.Apply(ctx, e.tn, a, couriers.ApplyRequest{RealName: "张三", StudentNo: no}); err != nil {
			t.Fatal(err)
		}
		for _, typed := range []string{no, strings.ToLower(no), " " + no + " "} {
			if _, err := e.svc.Apply(ctx, e.tn, b, couriers.ApplyRequest{RealName: "李四", StudentNo: typed}); !errors.Is(err, couriers.ErrStudentNoTaken) {
				t.Errorf("second user with %q: %v, want ErrStudentNoTaken", typed, err)
			}
		}
		if _, err := e.svc.Get(ctx, e.tn, b); !errors.Is(err, couriers.ErrNotFound) {
			t.Errorf("refused application left a profile: %v", err)
		}
		// The owner of the number may re-apply with it.
		if _, err := e.svc.Apply(ctx, e.tn, a, couriers.ApplyRequest{RealName: "张三", StudentNo: strings.ToLower(no)}); err != nil {
			t.Errorf("re-apply with own number: %v", err)
		}
	})

	t.Run("one user applying twice at once", func(t *testing.T) {
		u := e.user(t)
		const n = 4
		errs := make(chan error, n)
		for range n {
			go func() {
				_, err := e.svc.Apply(ctx, e.tn, u, couriers.ApplyRequest{RealName: "张三", StudentNo: "T" + u[:8]})
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Errorf("Apply: %v", err)
			}
		}
		if p, err := e.svc.Get(ctx, e.tn, u); err != nil || p.Status != couriers.Pending {
			t.Fatalf("Get = %+v, %v", p, err)
		}
	})

	t.Run("concurrent applications with one number", func(t *testing.T) {
		no := studentNo()
		const n = 6
		errs := make(chan error, n)
		for range n {
			u := e.user(t)
			go func() {
				_, err := e.svc.Apply(ctx, e.tn, u, couriers.ApplyRequest{RealName: "张三", StudentNo: no})
				errs <- err
			}()
		}
		ok := 0
		for range n {
			switch err := <-errs; {
			case err == nil:
				ok++
			case !errors.Is(err, couriers.ErrStudentNoTaken):
				t.Errorf("Apply: %v, want nil or ErrStudentNoTaken", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d applications with one student number succeeded, want 1", ok)
		}
	})
}

// The state machine through the service: every status × decision on a real profile, the
// reason rule, the audit trail, the courier role and what staff see.
func TestDecisions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	decide := map[couriers.Decision]func(context.Context, *tenancy.Tenant, string, string, string) (*couriers.Profile, error){
		couriers.Approve: e.svc.Approve, couriers.Reject: e.svc.Reject, couriers.Suspend: e.svc.Suspend, couriers.Reinstate: e.svc.Reinstate,
	}

	for _, from := range couriers.Statuses {
		for _, d := range couriers.Decisions {
			t.Run(string(from)+"/"+string(d), func(t *testing.T) {
				u := e.courier(t, from, false)
				before := e.audited(t, u)
				p, err := decide[d](ctx, e.tn, e.staff, u, "理由")
				want, legal := couriers.Next(from, d)
				if legal != nil {
					if !errors.Is(err, couriers.ErrBadTransition) {
						t.Fatalf("%s a %s profile: %v, want ErrBadTransition", d, from, err)
					}
					if after := e.audited(t, u); !slices.Equal(after, before) {
						t.Errorf("refused decision audited: %v", after)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if p.Status != want || p.DecisionReason != "理由" || p.DecidedBy != e.staff || p.DecidedAt == nil || !p.Masked {
					t.Fatalf("profile after %s: %+v", d, p)
				}
				if after := e.audited(t, u); len(after) != len(before)+1 || after[len(after)-1] != "couriers."+string(d) {
					t.Errorf("audit trail %v, want %v + couriers.%s", after, before, d)
				}
			})
		}
	}

	t.Run("reason required", func(t *testing.T) {
		for _, tc := range []struct {
			from couriers.Status
			d    couriers.Decision
		}{{couriers.Pending, couriers.Reject}, {couriers.Approved, couriers.Suspend}} {
			u := e.courier(t, tc.from, false)
			if _, err := decide[tc.d](ctx, e.tn, e.staff, u, "  "); !errors.Is(err, couriers.ErrReasonRequired) {
				t.Errorf("%s without reason: %v", tc.d, err)
			}
			if p, _ := e.svc.Get(ctx, e.tn, u); p.Status != tc.from {
				t.Errorf("status %s after a refused %s", p.Status, tc.d)
			}
		}
		u := e.courier(t, couriers.Pending, false)
		if _, err := e.svc.Reject(ctx, e.tn, e.staff, u, strings.Repeat("长", 201)); !errors.Is(err, couriers.ErrInvalid) {
			t.Errorf("201-character reason: %v", err)
		}
	})

	t.Run("unknown courier", func(t *testing.T) {
		for _, id := range []string{e.user(t), "nope"} {
			if _, err := e.svc.Approve(ctx, e.tn, e.staff, id, ""); !errors.Is(err, couriers.ErrNotFound) {
				t.Errorf("approve %s: %v", id, err)
			}
		}
	})

	t.Run("approval grants the courier role, suspension keeps it", func(t *testing.T) {
		u := e.courier(t, couriers.Pending, false)
		can := func() bool {
			ok, err := e.az.Can(ctx, e.tn, u, "trips:online")
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if can() { // also loads the tenant's policy into the cache: approval must invalidate it
			t.Fatal("an applicant may already go online")
		}
		if _, err := e.svc.Approve(ctx, e.tn, e.staff, u, ""); err != nil {
			t.Fatal(err)
		}
		if !can() {
			t.Fatal("approved courier lacks trips:online (role not granted, or the policy cache not invalidated)")
		}
		if roles, _ := e.az.RolesOf(ctx, e.tn, u); !slices.Contains(roles, "courier") {
			t.Fatalf("roles %v", roles)
		}
		if _, err := e.svc.Suspend(ctx, e.tn, e.staff, u, "投诉"); err != nil {
			t.Fatal(err)
		}
		if !can() {
			t.Error("suspension took the role away; the gate is what refuses a suspended courier")
		}
	})

	t.Run("a failed grant rolls the approval back", func(t *testing.T) {
		u := e.courier(t, couriers.Pending, false)
		svc := couriers.New(e.db, e.keys, failingRoles{e.az}, e.rdb, nil)
		if _, err := svc.Approve(ctx, e.tn, e.staff, u, ""); !errors.Is(err, errGrant) {
			t.Fatalf("Approve = %v, want the grant's error", err)
		}
		if p, _ := e.svc.Get(ctx, e.tn, u); p.Status != couriers.Pending {
			t.Errorf("status %s after a failed grant", p.Status)
		}
		if got := e.audited(t, u); slices.Contains(got, "couriers.approve") {
			t.Errorf("failed approval audited: %v", got)
		}
	})

	t.Run("staff views are masked", func(t *testing.T) {
		u := e.user(t)
		if _, err := e.svc.Apply(ctx, e.tn, u, couriers.ApplyRequest{RealName: "欧阳娜娜", StudentNo: "20210456"}); err != nil {
			t.Fatal(err)
		}
		p, err := e.svc.Approve(ctx, e.tn, e.staff, u, "")
		if err != nil {
			t.Fatal(err)
		}
		d, err := e.svc.Detail(ctx, e.tn, u)
		if err != nil {
			t.Fatal(err)
		}
		list, _, err := e.svc.List(ctx, e.tn, couriers.ListFilter{Status: couriers.Approved, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(list, func(p couriers.Profile) bool { return p.UserID == u })
		if i < 0 {
			t.Fatal("approved courier not listed")
		}
		for name, v := range map[string]*couriers.Profile{"decision": p, "detail": &d.Profile, "list": &list[i]} {
			if v.RealName != "欧***" || v.StudentNo != "20****56" || !v.Masked {
				t.Errorf("%s view: %q %q masked=%v", name, v.RealName, v.StudentNo, v.Masked)
			}
		}
		if !slices.Equal(d.Allowed, []couriers.Decision{couriers.Suspend}) {
			t.Errorf("allowed %v", d.Allowed)
		}
	})
}

var errGrant = errors.New("grant failed")

type failingRoles struct{ couriers.Roles }

func (failingRoles) GrantTx(*gorm.DB, *tenancy.Tenant, string, string) error { return errGrant }

func TestList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var pending, approved, online []string
	for range 3 {
		pending = append(pending, e.courier(t, couriers.Pending, false))
	}
	for range 2 {
		approved = append(approved, e.courier(t, couriers.Approved, false))
	}
	online = append(online, e.courier(t, couriers.Approved, true))
	rejected := e.courier(t, couriers.Rejected, false)
	yes, no := true, false

	tests := []struct {
		name string
		f    couriers.ListFilter
		want []string
	}{
		{"all in application order", couriers.ListFilter{}, slices.Concat(pending, approved, online, []string{rejected})},
		{"pending", couriers.ListFilter{Status: couriers.Pending}, pending},
		{"online", couriers.ListFilter{Online: &yes}, online},
		{"approved offline", couriers.ListFilter{Status: couriers.Approved, Online: &no}, approved},
		{"page 2 of 2", couriers.ListFilter{Status: couriers.Pending, Limit: 2, Offset: 2}, pending[2:]},
		{"suspended: none", couriers.ListFilter{Status: couriers.Suspended}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items, total, err := e.svc.List(ctx, e.tn, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, p := range items {
				got = append(got, p.UserID)
			}
			if !slices.Equal(got, tc.want) || items == nil {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			wantTotal := len(tc.want) + tc.f.Offset
			if total != int64(wantTotal) {
				t.Errorf("total %d, want %d", total, wantTotal)
			}
		})
	}
	if _, _, err := e.svc.List(ctx, e.tn, couriers.ListFilter{Status: "banned"}); !errors.Is(err, couriers.ErrInvalid) {
		t.Errorf("unknown status: %v", err)
	}
}
