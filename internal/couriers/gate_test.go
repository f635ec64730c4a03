package couriers_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/couriers"
)

func TestAvailability(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	key := couriers.OnlineKey(e.tn.ID)
	inSet := func(u string) bool {
		t.Helper()
		ok, err := e.rdb.SIsMember(ctx, key, u).Result()
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	stored := func(u string) (online bool, since *time.Time) {
		t.Helper()
		e.in(t, func(tx *gorm.DB) error {
			return tx.Raw(`SELECT online, online_since FROM courier_profiles WHERE user_id = ?`, u).Row().Scan(&online, &since)
		})
		return online, since
	}

	t.Run("online and offline are mirrored in redis", func(t *testing.T) {
		if key != "t:"+strconv.FormatInt(e.tn.ID, 10)+":couriers:online" {
			t.Fatalf("key %q", key)
		}
		u := e.courier(t, couriers.Approved, false)
		p, err := e.svc.GoOnline(ctx, e.tn, u)
		if err != nil {
			t.Fatal(err)
		}
		if on, since := stored(u); !p.Online || !on || since == nil || !inSet(u) {
			t.Fatalf("after GoOnline: profile %v, stored %v since %v, in set %v", p.Online, on, since, inSet(u))
		}
		_, firstSince := stored(u)
		time.Sleep(2 * time.Millisecond)
		if _, err := e.svc.GoOnline(ctx, e.tn, u); err != nil {
			t.Fatal(err)
		}
		if _, since := stored(u); !since.Equal(*firstSince) {
			t.Errorf("second GoOnline moved online_since from %v to %v", firstSince, since)
		}
		// A lost set is repaired by the next GoOnline.
		if err := e.rdb.Del(ctx, key).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.GoOnline(ctx, e.tn, u); err != nil || !inSet(u) {
			t.Fatalf("GoOnline after the set was lost: %v, in set %v", err, inSet(u))
		}
		for range 2 { // idempotent
			p, err = e.svc.GoOffline(ctx, e.tn, u)
			if err != nil {
				t.Fatal(err)
			}
			if on, since := stored(u); p.Online || on || since != nil || inSet(u) {
				t.Fatalf("after GoOffline: profile %v, stored %v since %v, in set %v", p.Online, on, since, inSet(u))
			}
		}
	})

	t.Run("only approved couriers go online", func(t *testing.T) {
		for _, tc := range []struct {
			status couriers.Status
			want   error
		}{
			{couriers.Pending, couriers.ErrNotApproved},
			{couriers.Rejected, couriers.ErrNotApproved},
			{couriers.Suspended, couriers.ErrSuspended},
		} {
			u := e.courier(t, tc.status, false)
			if _, err := e.svc.GoOnline(ctx, e.tn, u); !errors.Is(err, tc.want) {
				t.Errorf("%s: GoOnline = %v, want %v", tc.status, err, tc.want)
			}
			if inSet(u) {
				t.Errorf("%s courier in the online set", tc.status)
			}
			if _, err := e.svc.GoOffline(ctx, e.tn, u); err != nil {
				t.Errorf("%s: GoOffline = %v", tc.status, err)
			}
		}
		never := e.user(t)
		if _, err := e.svc.GoOnline(ctx, e.tn, never); !errors.Is(err, couriers.ErrNotApproved) {
			t.Errorf("never applied: GoOnline = %v", err)
		}
		if _, err := e.svc.GoOffline(ctx, e.tn, never); !errors.Is(err, couriers.ErrNotFound) {
			t.Errorf("never applied: GoOffline = %v", err)
		}
	})

	t.Run("suspension forces the courier offline, reinstating does not bring them back", func(t *testing.T) {
		u := e.courier(t, couriers.Approved, true)
		if !inSet(u) {
			t.Fatal("not online")
		}
		p, err := e.svc.Suspend(ctx, e.tn, e.staff, u, "投诉")
		if err != nil {
			t.Fatal(err)
		}
		if on, since := stored(u); p.Online || on || since != nil || inSet(u) {
			t.Fatalf("suspended courier still online: stored %v, in set %v", on, inSet(u))
		}
		if p, err = e.svc.Reinstate(ctx, e.tn, e.staff, u, ""); err != nil || p.Online || inSet(u) {
			t.Fatalf("reinstated: %+v, %v, in set %v", p, err, inSet(u))
		}
		if _, err := e.svc.GoOnline(ctx, e.tn, u); err != nil || !inSet(u) {
			t.Fatalf("reinstated courier going online: %v", err)
		}
	})
}

func TestGate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	t.Run("precedence", func(t *testing.T) { testGatePrecedence(t, e) })
	t.Run("one courier's grabs serialize", func(t *testing.T) { testLockEligibleSerializes(t, e) })
	t.Run("touch", func(t *testing.T) { testTouch(t, e) })
}

// The gate's refusals, in their order of precedence: each case is the most favourable
// courier that still fails at that step, so a gate checking in another order fails a case.
func testGatePrecedence(t *testing.T, e *env) {
	const floor = 60
	type setup struct {
		status couriers.Status
		online bool
		credit int
	}
	tests := []struct {
		name string
		s    *setup // nil: never applied
		id   string // overrides the courier id
		want error
	}{
		{"never applied", nil, "", couriers.ErrNotCourier},
		{"not a uuid", nil, "42", couriers.ErrNotCourier},
		{"pending, low credit", &setup{couriers.Pending, false, 10}, "", couriers.ErrNotCourier},
		{"rejected", &setup{couriers.Rejected, false, 100}, "", couriers.ErrNotCourier},
		{"suspended, low credit", &setup{couriers.Suspended, false, 10}, "", couriers.ErrSuspended},
		{"offline, low credit", &setup{couriers.Approved, false, 10}, "", couriers.ErrOffline},
		{"online, credit below the floor", &setup{couriers.Approved, true, floor - 1}, "", couriers.ErrCreditTooLow},
		{"online, credit at the floor", &setup{couriers.Approved, true, floor}, "", nil},
		{"online, full credit", &setup{couriers.Approved, true, 100}, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := e.user(t)
			if tc.s != nil {
				id = e.courier(t, tc.s.status, tc.s.online)
				e.setCredit(t, id, tc.s.credit)
			}
			if tc.id != "" {
				id = tc.id
			}
			e.in(t, func(tx *gorm.DB) error {
				if err := couriers.LockEligible(tx, id, floor); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
					t.Errorf("LockEligible = %v, want %v", err, tc.want)
				}
				// CheckApproved is the same gate without availability and credit.
				want := tc.want
				if want == couriers.ErrOffline || want == couriers.ErrCreditTooLow {
					want = nil
				}
				if err := couriers.CheckApproved(tx, id); !errors.Is(err, want) || (want == nil) != (err == nil) {
					t.Errorf("CheckApproved = %v, want %v", err, want)
				}
				// A refusal leaves the caller's transaction usable.
				var one int
				return tx.Raw(`SELECT 1`).Scan(&one).Error
			})
		})
	}
}

// Two grabs by one courier at once: the second LockEligible waits for the first transaction to
// end, so whatever the first counted and inserted is visible to the second.
func testLockEligibleSerializes(t *testing.T, e *env) {
	ctx := context.Background()
	u := e.courier(t, couriers.Approved, true)
	other := e.courier(t, couriers.Approved, true)

	locked, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- e.db.InTenant(ctx, e.tn, func(tx *gorm.DB) error {
			if err := couriers.LockEligible(tx, u, 0); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked

	// Another courier is not held up by the first one's lock.
	done := make(chan error, 1)
	go func() {
		done <- e.db.InTenant(ctx, e.tn, func(tx *gorm.DB) error { return couriers.LockEligible(tx, other, 0) })
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("another courier's LockEligible waited on the first courier's lock")
	}

	second := make(chan error, 1)
	go func() {
		second <- e.db.InTenant(ctx, e.tn, func(tx *gorm.DB) error { return couriers.LockEligible(tx, u, 0) })
	}()
	// Wait until PostgreSQL reports the second transaction blocked on a lock.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var waiting int
		if err := e.db.Gorm.Raw(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%courier_profiles%'`).Scan(&waiting).Error; err != nil {
			t.Fatal(err)
		}
		if waiting == 1 {
			break
		}
		select {
		case err := <-second:
			t.Fatalf("second LockEligible returned (%v) while the first transaction held the courier", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("second LockEligible never waited for the first")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-second:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("second LockEligible still waiting after the first committed")
	}
}

func testTouch(t *testing.T, e *env) {
	u := e.courier(t, couriers.Approved, true)
	last := func() *time.Time {
		var at *time.Time
		e.in(t, func(tx *gorm.DB) error {
			return tx.Raw(`SELECT last_active_at FROM courier_profiles WHERE user_id = ?`, u).Row().Scan(&at)
		})
		return at
	}
	t1 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		at, want time.Time
	}{
		{t1, t1},
		{t1.Add(time.Hour), t1.Add(time.Hour)},
		{t1.Add(time.Minute), t1.Add(time.Hour)}, // a late call with an older time changes nothing
	} {
		e.in(t, func(tx *gorm.DB) error { return couriers.Touch(tx, u, tc.at) })
		if got := last(); got == nil || !got.Equal(tc.want) {
			t.Errorf("Touch(%v): last_active_at %v, want %v", tc.at, got, tc.want)
		}
	}
	for _, id := range []string{e.user(t), "x"} {
		e.in(t, func(tx *gorm.DB) error {
			if err := couriers.Touch(tx, id, t1); err != nil {
				t.Errorf("Touch(%s) without a profile = %v, want nil", id, err)
			}
			return nil
		})
	}
}
