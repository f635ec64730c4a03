package app_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/paotui/paotui/internal/app/apptest"
)

type financeEntry struct {
	AccountKind string `json:"accountKind"`
	Owner       string `json:"owner"`
	Amount      int64  `json:"amount"`
}

type financeJournal struct {
	ID        string         `json:"id"`
	Seq       int64          `json:"seq"`
	Kind      string         `json:"kind"`
	Ref       string         `json:"ref"`
	Memo      string         `json:"memo"`
	CreatedBy string         `json:"createdBy"`
	CreatedAt time.Time      `json:"createdAt"`
	Amount    int64          `json:"amount"`
	Entries   []financeEntry `json:"entries"`
}

type financeJournalPage struct {
	Items      []financeJournal `json:"items"`
	NextBefore int64            `json:"nextBefore"`
}

// staffSession grants role to phone through the owner and signs that person in.
func (e *errandEnv) staffSession(t *testing.T, phone, name, role string) *apptest.Session {
	t.Helper()
	r := e.Do(e.host, "POST", "/api/v1/staff/roles", e.owner.AccessToken, map[string]string{"phone": phone, "name": name, "role": role})
	if r.Status != http.StatusOK {
		t.Fatalf("grant %s: %d %s", role, r.Status, r.Body)
	}
	return e.Login("campus", phone)
}

func (e *errandEnv) journals(t *testing.T, token, query string) financeJournalPage {
	t.Helper()
	r := e.Do(e.host, "GET", "/api/v1/admin/finance/journals?"+query, token, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("list-ledger-journals?%s: %d %s", query, r.Status, r.Body)
	}
	var p financeJournalPage
	r.JSON(t, &p)
	return p
}

// After a staff top-up and a paid order, finance sees exactly what the wallet and the order's
// escrow hold, the two journals newest first with balanced entries, pages of one, the kind, ref
// and date filters, and the accounts of one kind; a student and a dispatcher are refused.
func TestFinanceReadsTheBooks(t *testing.T) {
	e := newErrandEnv(t) // the student's wallet got 10000 分 from a staff top-up
	order := e.createPaid(t)
	fin := e.staffSession(t, "13600000001", "财务小王", "finance")
	admin := e.staffSession(t, "13600000002", "管理员小李", "admin")
	dispatcher := e.staffSession(t, "13600000003", "调度员小张", "dispatcher")

	// Summary: balances by account kind and this month's journals.
	var sum struct {
		Zone       string    `json:"zone"`
		MonthStart time.Time `json:"monthStart"`
		Balances   []struct {
			Kind     string `json:"kind"`
			Accounts int64  `json:"accounts"`
			NonZero  int64  `json:"nonZero"`
			Balance  int64  `json:"balance"`
		} `json:"balances"`
		Month []struct {
			Kind     string `json:"kind"`
			Journals int64  `json:"journals"`
			Amount   int64  `json:"amount"`
		} `json:"month"`
	}
	r := e.Do(e.host, "GET", "/api/v1/admin/finance/summary", fin.AccessToken, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("get-finance-summary: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &sum)
	loc, err := time.LoadLocation(sum.Zone)
	if err != nil {
		t.Fatalf("zone %q: %v", sum.Zone, err)
	}
	now := time.Now().In(loc)
	if want := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc); !sum.MonthStart.Equal(want) {
		t.Errorf("monthStart %s, want %s", sum.MonthStart, want)
	}
	balances := map[string][3]int64{}
	var total int64
	for _, b := range sum.Balances {
		balances[b.Kind] = [3]int64{b.Accounts, b.NonZero, b.Balance}
		total += b.Balance
	}
	wantBalances := map[string][3]int64{
		"wallet": {1, 1, 10000 - order.Total}, "escrow": {1, 1, order.Total}, "subsidy": {1, 1, -10000},
		"earnings": {}, "revenue": {}, "clearing": {}, "refunds": {},
	}
	if len(sum.Balances) != len(wantBalances) {
		t.Errorf("balances list %d kinds, want %d: %s", len(sum.Balances), len(wantBalances), r.Body)
	}
	for kind, want := range wantBalances {
		if got := balances[kind]; got != want {
			t.Errorf("%s: %d accounts (%d not empty) holding %d, want %v", kind, got[0], got[1], got[2], want)
		}
	}
	if total != 0 {
		t.Errorf("balances sum to %d, not zero", total)
	}
	month := map[string][2]int64{}
	for _, m := range sum.Month {
		month[m.Kind] = [2]int64{m.Journals, m.Amount}
	}
	if month["adjustment"] != [2]int64{1, 10000} || month["payment"] != [2]int64{1, order.Total} || month["settlement"] != [2]int64{} || len(sum.Month) != 7 {
		t.Errorf("this month's journals %+v (order total %d)", sum.Month, order.Total)
	}

	// Journals, newest first, each balanced.
	all := e.journals(t, fin.AccessToken, "")
	if len(all.Items) != 2 || all.NextBefore != 0 {
		t.Fatalf("journals: %+v", all)
	}
	pay, topup := all.Items[0], all.Items[1]
	if pay.Kind != "payment" || pay.Ref != "order:"+order.ID || pay.Amount != order.Total || pay.CreatedBy == "" ||
		topup.Kind != "adjustment" || topup.Memo != "welcome credit" || topup.Amount != 10000 || pay.Seq <= topup.Seq {
		t.Fatalf("journals not as posted, newest first: %+v", all.Items)
	}
	for _, j := range all.Items {
		var s int64
		for _, en := range j.Entries {
			s += en.Amount
		}
		if len(j.Entries) < 2 || s != 0 {
			t.Errorf("journal %s entries %+v sum to %d", j.ID, j.Entries, s)
		}
	}
	wantPay := map[financeEntry]bool{
		{AccountKind: "wallet", Owner: e.student.User.ID, Amount: -order.Total}: true,
		{AccountKind: "escrow", Owner: order.ID, Amount: order.Total}:           true,
	}
	for _, en := range pay.Entries {
		if !wantPay[en] {
			t.Errorf("payment entry %+v not expected", en)
		}
	}

	// Pages of one: the cursor walks back to the top-up and stops.
	p1 := e.journals(t, fin.AccessToken, "limit=1")
	if len(p1.Items) != 1 || p1.Items[0].ID != pay.ID || p1.NextBefore != pay.Seq {
		t.Fatalf("page 1: %+v", p1)
	}
	p2 := e.journals(t, fin.AccessToken, "limit=1&before="+strconv.FormatInt(p1.NextBefore, 10))
	if len(p2.Items) != 1 || p2.Items[0].ID != topup.ID || p2.NextBefore != 0 {
		t.Fatalf("page 2, the last: %+v", p2)
	}
	if p := e.journals(t, fin.AccessToken, "before="+strconv.FormatInt(topup.Seq, 10)); len(p.Items) != 0 || p.NextBefore != 0 {
		t.Fatalf("before the first journal: %+v", p)
	}

	// Filters.
	today := now.Format(time.DateOnly)
	tomorrow := now.AddDate(0, 0, 1).Format(time.DateOnly)
	for _, c := range []struct {
		name, query string
		want        []string
	}{
		{"kind payment", "kind=payment", []string{pay.ID}},
		{"kind adjustment", "kind=adjustment", []string{topup.ID}},
		{"kind without journals", "kind=settlement", nil},
		{"bare order id", "ref=" + order.ID, []string{pay.ID}},
		{"full ref", "ref=" + url.QueryEscape("order:"+order.ID), []string{pay.ID}},
		{"unknown ref", "ref=order:nothing", nil},
		{"today", "from=" + today + "&to=" + today, []string{pay.ID, topup.ID}},
		{"from tomorrow", "from=" + tomorrow, nil},
		{"until yesterday", "to=" + now.AddDate(0, 0, -1).Format(time.DateOnly), nil},
		{"kind and day", "kind=adjustment&to=" + today, []string{topup.ID}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := e.journals(t, fin.AccessToken, c.query)
			if len(got.Items) != len(c.want) {
				t.Fatalf("%d journals, want %d: %+v", len(got.Items), len(c.want), got.Items)
			}
			for i, id := range c.want {
				if got.Items[i].ID != id {
					t.Errorf("item %d is %s, want %s", i, got.Items[i].ID, id)
				}
			}
		})
	}

	// Accounts of one kind, largest first, by id only.
	var wallets struct {
		Items []struct {
			Kind    string `json:"kind"`
			Owner   string `json:"owner"`
			Balance int64  `json:"balance"`
		} `json:"items"`
		Total int64 `json:"total"`
	}
	r = e.Do(e.host, "GET", "/api/v1/admin/finance/accounts?kind=wallet", admin.AccessToken, nil)
	r.JSON(t, &wallets)
	if r.Status != http.StatusOK || wallets.Total != 1 || len(wallets.Items) != 1 || wallets.Items[0].Owner != e.student.User.ID ||
		wallets.Items[0].Balance != 10000-order.Total || wallets.Items[0].Kind != "wallet" {
		t.Fatalf("list-ledger-accounts wallet: %d %s", r.Status, r.Body)
	}
	// One student's wallet by owner (the admin's user drawer); another owner has none.
	for owner, want := range map[string]int64{e.student.User.ID: 1, e.owner.User.ID: 0} {
		r = e.Do(e.host, "GET", "/api/v1/admin/finance/accounts?kind=wallet&owner="+owner, admin.AccessToken, nil)
		wallets.Items, wallets.Total = nil, -1
		r.JSON(t, &wallets)
		if r.Status != http.StatusOK || wallets.Total != want || int64(len(wallets.Items)) != want {
			t.Fatalf("list-ledger-accounts wallet of %s: %d %s", owner, r.Status, r.Body)
		}
	}
	r = e.Do(e.host, "GET", "/api/v1/admin/finance/accounts?kind=earnings", admin.AccessToken, nil)
	var none struct {
		Items []any `json:"items"`
		Total int64 `json:"total"`
	}
	r.JSON(t, &none)
	if r.Status != http.StatusOK || none.Items == nil || len(none.Items) != 0 || none.Total != 0 {
		t.Fatalf("list-ledger-accounts earnings before any settlement: %d %s", r.Status, r.Body)
	}

	// Bad input gets problems.
	for _, c := range []struct {
		name, path, code, location string
	}{
		{"from after to", "/api/v1/admin/finance/journals?from=" + tomorrow + "&to=" + today, "finance_range_invalid", "query.to"},
		{"not a date", "/api/v1/admin/finance/journals?from=2026-13-40", "validation_failed", "query.from"},
		{"unknown journal kind", "/api/v1/admin/finance/journals?kind=gift", "validation_failed", "query.kind"},
		{"limit above 100", "/api/v1/admin/finance/journals?limit=101", "validation_failed", "query.limit"},
		{"no account kind", "/api/v1/admin/finance/accounts", "validation_failed", "query.kind"},
		{"unknown account kind", "/api/v1/admin/finance/accounts?kind=vault", "validation_failed", "query.kind"},
		{"NUL in the ref", "/api/v1/admin/finance/journals?ref=order%00x", "validation_failed", "query.ref"},
		{"ref not UTF-8", "/api/v1/admin/finance/journals?ref=%ff%fe", "validation_failed", "query.ref"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.Do(e.host, "GET", c.path, fin.AccessToken, nil)
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			p := r.Problem(t)
			if p.Code != c.code || len(p.Errors) == 0 || p.Errors[0].Location != c.location {
				t.Fatalf("problem %s, want %s at %s", r.Body, c.code, c.location)
			}
		})
	}

	// Only staff with finance:read.
	for _, path := range []string{"/api/v1/admin/finance/summary", "/api/v1/admin/finance/journals", "/api/v1/admin/finance/accounts?kind=earnings"} {
		for name, token := range map[string]string{"student": e.student.AccessToken, "dispatcher": dispatcher.AccessToken} {
			if r := e.Do(e.host, "GET", path, token, nil); r.Status != http.StatusForbidden {
				t.Errorf("%s %s: %d %s", name, path, r.Status, r.Body)
			}
		}
		if r := e.Do(e.host, "GET", path, admin.AccessToken, nil); r.Status != http.StatusOK {
			t.Errorf("admin %s: %d %s", path, r.Status, r.Body)
		}
	}
}

// After a settlement the earnings account of the courier shows what they are owed, and the
// settlement journal moves the order's escrow out to the courier and the team.
func TestFinanceShowsCourierEarnings(t *testing.T) {
	e := newErrandEnv(t)
	done := e.placeOrder(t, 0)
	e.deliver(t, done)
	if r := e.Do(e.host, "POST", "/api/v1/orders/"+done.ID+"/confirm", e.student.AccessToken, nil); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	settled := e.journals(t, e.owner.AccessToken, "kind=settlement")
	if len(settled.Items) != 1 || settled.Items[0].Ref != "order:"+done.ID || settled.Items[0].Amount != done.Total {
		t.Fatalf("settlement journals: %+v", settled)
	}
	var earned int64
	for _, en := range settled.Items[0].Entries {
		if en.AccountKind == "earnings" {
			if en.Owner != e.courier.User.ID {
				t.Errorf("earnings entry owned by %s, want the courier %s", en.Owner, e.courier.User.ID)
			}
			earned = en.Amount
		}
	}
	var accounts struct {
		Items []struct {
			Owner   string `json:"owner"`
			Balance int64  `json:"balance"`
		} `json:"items"`
		Total int64 `json:"total"`
	}
	r := e.Do(e.host, "GET", "/api/v1/admin/finance/accounts?kind=earnings&limit=10", e.owner.AccessToken, nil)
	r.JSON(t, &accounts)
	if r.Status != http.StatusOK || earned <= 0 || accounts.Total != 1 || len(accounts.Items) != 1 ||
		accounts.Items[0].Owner != e.courier.User.ID || accounts.Items[0].Balance != earned {
		t.Fatalf("earnings accounts (courier earned %d): %d %s", earned, r.Status, r.Body)
	}
	var escrow struct {
		Items []struct {
			Owner   string `json:"owner"`
			Balance int64  `json:"balance"`
		} `json:"items"`
	}
	r = e.Do(e.host, "GET", "/api/v1/admin/finance/accounts?kind=escrow", e.owner.AccessToken, nil)
	r.JSON(t, &escrow)
	if len(escrow.Items) != 1 || escrow.Items[0].Owner != done.ID || escrow.Items[0].Balance != 0 {
		t.Fatalf("a settled order's escrow: %s", r.Body)
	}

	// The summary: the order's escrow is empty, its price split between the courier and the team.
	var sum struct {
		Balances []struct {
			Kind                       string
			Accounts, NonZero, Balance int64
		}
	}
	r = e.Do(e.host, "GET", "/api/v1/admin/finance/summary", e.owner.AccessToken, nil)
	r.JSON(t, &sum)
	got := map[string][3]int64{}
	for _, b := range sum.Balances {
		got[b.Kind] = [3]int64{b.Accounts, b.NonZero, b.Balance}
	}
	if got["escrow"] != [3]int64{1, 0, 0} || got["earnings"] != [3]int64{1, 1, earned} || got["revenue"] != [3]int64{1, 1, done.Total - earned} {
		t.Fatalf("summary after settlement (total %d, courier %d): %s", done.Total, earned, r.Body)
	}
}
