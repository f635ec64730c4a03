package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/ledger/ledgertest"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

const tenant = store.Schema("tenant_1")

// errRollback ends a transaction a test wants undone.
var errRollback = errors.New("roll back")

// setup gives the test its own database with one migrated tenant.
func setup(t testing.TB) *store.DB {
	t.Helper()
	db, d := storetest.New(t)
	if _, _, err := store.NewMigrator(d.URL, 1, nil).UpTenant(context.Background(), tenant.SchemaName()); err != nil {
		t.Fatal(err)
	}
	return db
}

func in(db *store.DB, fn func(tx *gorm.DB) error) error {
	return db.InTenant(context.Background(), tenant, fn)
}

func post(db *store.DB, j ledger.Journal) (string, error) {
	var id string
	err := in(db, func(tx *gorm.DB) error {
		var err error
		id, err = ledger.Post(tx, j)
		return err
	})
	return id, err
}

func mustPost(t testing.TB, db *store.DB, j ledger.Journal) string {
	t.Helper()
	id, err := post(db, j)
	if err != nil {
		t.Fatalf("post %s %s: %v", j.Kind, j.Ref, err)
	}
	return id
}

func balance(t testing.TB, db *store.DB, a ledger.AccountRef) ledger.Money {
	t.Helper()
	var b ledger.Money
	if err := in(db, func(tx *gorm.DB) error {
		var err error
		b, err = ledger.Balance(tx, a)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

// rows counts journals, entries and accounts.
func rows(t testing.TB, db *store.DB) [3]int64 {
	t.Helper()
	var n [3]int64
	if err := in(db, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT (SELECT count(*) FROM ledger_journals), (SELECT count(*) FROM ledger_entries),
			(SELECT count(*) FROM ledger_accounts)`).Row().Scan(&n[0], &n[1], &n[2])
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func topUp(user string, amount ledger.Money) ledger.Journal {
	return ledger.Journal{Kind: ledger.TopUp, Ref: "topup:" + user, Actor: "user:" + user, Entries: []ledger.Entry{
		{ledger.Clearing("stripe"), -amount}, {ledger.Wallet(user), amount},
	}}
}

func pay(user, order string, amount ledger.Money) ledger.Journal {
	return ledger.Journal{Kind: ledger.Payment, Ref: "order:" + order, Actor: "user:" + user, Entries: []ledger.Entry{
		{ledger.Wallet(user), -amount}, {ledger.Escrow(order), amount},
	}}
}

func refund(user, order string, amount ledger.Money) ledger.Journal {
	return ledger.Journal{Kind: ledger.Refund, Ref: "order:" + order, Actor: "system", Entries: []ledger.Entry{
		{ledger.Escrow(order), -amount}, {ledger.Wallet(user), amount},
	}}
}

// settle moves an order's escrow to the courier and the tenant, leaving out a zero share.
func settle(order, courier string, amount ledger.Money, shareBP int) ledger.Journal {
	c, tn := ledger.Split(amount, shareBP)
	j := ledger.Journal{Kind: ledger.Settlement, Ref: "order:" + order, Actor: "system:settle",
		Entries: []ledger.Entry{{ledger.Escrow(order), -amount}}}
	if c != 0 {
		j.Entries = append(j.Entries, ledger.Entry{Account: ledger.Earnings(courier), Amount: c})
	}
	if tn != 0 {
		j.Entries = append(j.Entries, ledger.Entry{Account: ledger.Revenue(), Amount: tn})
	}
	return j
}

func TestPostMovesMoneyAndKeepsHistory(t *testing.T) {
	t.Parallel()
	db := setup(t)
	mustPost(t, db, topUp("u1", 1000))
	// A coupon: the student pays 90, the tenant's promotion budget 10.
	mustPost(t, db, ledger.Journal{Kind: ledger.Payment, Ref: "order:o1", Actor: "user:u1", Memo: "coupon WELCOME10",
		Entries: []ledger.Entry{{ledger.Wallet("u1"), -90}, {ledger.Subsidy(), -10}, {ledger.Escrow("o1"), 100}}})
	mustPost(t, db, refund("u1", "o1", 30))
	mustPost(t, db, settle("o1", "c1", 70, 8000))

	for _, tc := range []struct {
		account ledger.AccountRef
		want    ledger.Money
	}{
		{ledger.Clearing("stripe"), -1000},
		{ledger.Wallet("u1"), 940},
		{ledger.Subsidy(), -10},
		{ledger.Escrow("o1"), 0},
		{ledger.Earnings("c1"), 56},
		{ledger.Revenue(), 14},
		{ledger.Wallet("nobody"), 0},
	} {
		if got := balance(t, db, tc.account); got != tc.want {
			t.Errorf("balance of %s = %d, want %d", tc.account, got, tc.want)
		}
	}

	var history []ledger.Posting
	var byRef []ledger.Posted
	err := in(db, func(tx *gorm.DB) error {
		first, err := ledger.History(tx, ledger.Wallet("u1"), 0, 2)
		if err != nil {
			return err
		}
		rest, err := ledger.History(tx, ledger.Wallet("u1"), first[len(first)-1].EntryID, 2)
		if err != nil {
			return err
		}
		history = append(first, rest...)
		byRef, err = ledger.JournalsByRef(tx, "order:o1")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var amounts []ledger.Money
	for _, p := range history {
		amounts = append(amounts, p.Amount)
	}
	if want := []ledger.Money{30, -90, 1000}; !slices.Equal(amounts, want) {
		t.Errorf("wallet history newest first = %v, want %v", amounts, want)
	}
	if history[1].Memo != "coupon WELCOME10" || history[1].Kind != ledger.Payment || history[1].Ref != "order:o1" {
		t.Errorf("payment posting = %+v", history[1])
	}
	var kinds []ledger.JournalKind
	for _, j := range byRef {
		kinds = append(kinds, j.Kind)
	}
	if want := []ledger.JournalKind{ledger.Payment, ledger.Refund, ledger.Settlement}; !slices.Equal(kinds, want) {
		t.Fatalf("journals of order:o1 = %v, want %v", kinds, want)
	}
	if got := byRef[2].Entries; len(got) != 3 || byRef[2].Actor != "system:settle" || byRef[2].ID == "" {
		t.Errorf("settlement journal = %+v", byRef[2])
	}
	ledgertest.RequireClean(t, db, tenant)
}

// A refused journal leaves nothing behind, and the caller's transaction stays usable: here it
// goes on to commit another journal.
func TestPostRefusesBadJournalsWithoutWriting(t *testing.T) {
	t.Parallel()
	db := setup(t)
	mustPost(t, db, topUp("u1", 100))
	mustPost(t, db, pay("u1", "o1", 60))
	entries := func(es ...ledger.Entry) []ledger.Entry { return es }
	w, e := ledger.Wallet("u1"), ledger.Escrow("o1")
	tests := []struct {
		name string
		j    ledger.Journal
		want error
	}{
		{"unbalanced", ledger.Journal{Kind: ledger.Payment, Entries: entries(ledger.Entry{w, -10}, ledger.Entry{e, 9})}, ledger.ErrUnbalanced},
		{"one entry", ledger.Journal{Kind: ledger.Payment, Entries: entries(ledger.Entry{w, -10})}, ledger.ErrInvalid},
		{"zero amounts", ledger.Journal{Kind: ledger.Payment, Entries: entries(ledger.Entry{w, 0}, ledger.Entry{e, 0})}, ledger.ErrInvalid},
		{"account twice", ledger.Journal{Kind: ledger.Payment, Entries: entries(ledger.Entry{w, -10}, ledger.Entry{w, 10})}, ledger.ErrInvalid},
		{"unknown journal kind", ledger.Journal{Kind: "gift", Entries: entries(ledger.Entry{w, -10}, ledger.Entry{e, 10})}, ledger.ErrInvalid},
		{"unknown account kind", ledger.Journal{Kind: ledger.Payment, Entries: entries(ledger.Entry{ledger.AccountRef{"cash", "x"}, -10}, ledger.Entry{e, 10})}, ledger.ErrInvalid},
		{"wallet without owner", ledger.Journal{Kind: ledger.Payment, Entries: entries(ledger.Entry{ledger.Wallet(""), -10}, ledger.Entry{e, 10})}, ledger.ErrInvalid},
		{"revenue with owner", ledger.Journal{Kind: ledger.Payment, Entries: entries(ledger.Entry{ledger.AccountRef{ledger.KindRevenue, "x"}, 10}, ledger.Entry{e, -10})}, ledger.ErrInvalid},
		{"adjustment without memo", ledger.Journal{Kind: ledger.Adjustment, Entries: entries(ledger.Entry{w, -10}, ledger.Entry{e, 10})}, ledger.ErrInvalid},
		{"overflowing amounts", ledger.Journal{Kind: ledger.Payment, Entries: entries(ledger.Entry{w, 1 << 62}, ledger.Entry{e, 1 << 62}, ledger.Entry{ledger.Clearing("x"), 1 << 62}, ledger.Entry{ledger.Subsidy(), 1 << 62})}, ledger.ErrInvalid},
		{"wallet short", pay("u1", "o2", 41), ledger.ErrInsufficientFunds},
		{"refund above what the order holds", refund("u1", "o1", 61), ledger.ErrInsufficientFunds},
		{"settling an unpaid order", settle("o3", "c1", 10, 8000), ledger.ErrInsufficientFunds},
		{"new wallet pays", pay("u2", "o1", 1), ledger.ErrInsufficientFunds},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := rows(t, db)
			err := in(db, func(tx *gorm.DB) error {
				if _, err := ledger.Post(tx, tc.j); !errors.Is(err, tc.want) {
					t.Errorf("Post = %v, want %v", err, tc.want)
				}
				return tx.Exec(`SELECT 1`).Error // still usable, and committed
			})
			if err != nil {
				t.Fatal(err)
			}
			after := rows(t, db)
			if after[0] != before[0] || after[1] != before[1] {
				t.Errorf("journals, entries went from %v to %v", before[:2], after[:2])
			}
			if balance(t, db, w) != 40 || balance(t, db, e) != 60 {
				t.Errorf("balances moved: wallet %d, escrow %d", balance(t, db, w), balance(t, db, e))
			}
		})
	}
	ledgertest.RequireClean(t, db, tenant)
}

func TestFundsErrorNamesTheAccount(t *testing.T) {
	t.Parallel()
	db := setup(t)
	mustPost(t, db, topUp("u1", 50))
	_, err := post(db, pay("u1", "o1", 80))
	var fe *ledger.FundsError
	if !errors.As(err, &fe) || fe.Account != ledger.Wallet("u1") || fe.Balance != 50 || fe.Change != -80 {
		t.Fatalf("err = %v (%+v), want a FundsError on wallet:u1 holding 50", err, fe)
	}
	// Accounts that mirror the outside world may go negative; the rest refuse.
	for kind, want := range map[ledger.AccountKind]bool{
		ledger.KindWallet: false, ledger.KindEscrow: false, ledger.KindEarnings: false, ledger.KindRevenue: false,
		ledger.KindRefunds: false, ledger.KindClearing: true, ledger.KindSubsidy: true,
	} {
		if got := kind.AllowsNegative(); got != want {
			t.Errorf("%s.AllowsNegative() = %v, want %v", kind, got, want)
		}
	}
}

func TestPostNeedsATransaction(t *testing.T) {
	t.Parallel()
	db := setup(t)
	if _, err := ledger.Post(db.Gorm, topUp("u1", 1)); !errors.Is(err, ledger.ErrNoTransaction) {
		t.Fatalf("Post outside a transaction = %v, want ErrNoTransaction", err)
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	db := setup(t)
	mustPost(t, db, topUp("u1", 100))
	j := pay("u1", "o1", 70)
	j.IdempotencyKey = "order:o1:pay"
	first := mustPost(t, db, j)

	// The wallet now holds 30: a replay must say "already done", not "insufficient funds".
	again, err := post(db, j)
	if !errors.Is(err, ledger.ErrDuplicate) || again != first {
		t.Fatalf("replay = %q, %v; want %q, ErrDuplicate", again, err, first)
	}
	// Entry order does not matter; the movement does.
	swapped := j
	swapped.Entries = []ledger.Entry{j.Entries[1], j.Entries[0]}
	if _, err := post(db, swapped); !errors.Is(err, ledger.ErrDuplicate) {
		t.Fatalf("replay with entries swapped = %v, want ErrDuplicate", err)
	}
	other := pay("u1", "o1", 20)
	other.IdempotencyKey = j.IdempotencyKey
	if id, err := post(db, other); !errors.Is(err, ledger.ErrKeyReused) || id != first {
		t.Fatalf("same key, other amount = %q, %v; want %q, ErrKeyReused", id, err, first)
	}
	if b := balance(t, db, ledger.Wallet("u1")); b != 30 {
		t.Fatalf("wallet = %d after replays, want 30", b)
	}

	// Racing the same key: exactly one journal, and everyone else learns it is done, even
	// though after the first the wallet can no longer pay.
	mustPost(t, db, topUp("u2", 10))
	race := pay("u2", "o2", 10)
	race.IdempotencyKey = "order:o2:pay"
	var wg sync.WaitGroup
	ids := make([]string, 10)
	errs := make([]error, len(ids))
	for i := range ids {
		wg.Go(func() { ids[i], errs[i] = post(db, race) })
	}
	wg.Wait()
	posted := 0
	for i, err := range errs {
		switch {
		case err == nil:
			posted++
		case !errors.Is(err, ledger.ErrDuplicate):
			t.Errorf("racer %d: %v", i, err)
		}
		if ids[i] != ids[0] {
			t.Errorf("racer %d got journal %q, racer 0 %q", i, ids[i], ids[0])
		}
	}
	if posted != 1 || balance(t, db, ledger.Wallet("u2")) != 0 {
		t.Fatalf("%d racers posted, wallet %d; want 1 and 0", posted, balance(t, db, ledger.Wallet("u2")))
	}
	ledgertest.RequireClean(t, db, tenant)
}

// The database refuses what Post would never write, for any writer that goes around it.
func TestDatabaseGuards(t *testing.T) {
	t.Parallel()
	db := setup(t)
	mustPost(t, db, topUp("u1", 100))
	mustPost(t, db, pay("u1", "o1", 10))
	var wallet, clearing, escrow int64
	if err := in(db, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT (SELECT id FROM ledger_accounts WHERE kind = 'wallet'), (SELECT id FROM ledger_accounts WHERE kind = 'clearing'),
			(SELECT id FROM ledger_accounts WHERE kind = 'escrow')`).Row().Scan(&wallet, &clearing, &escrow)
	}); err != nil {
		t.Fatal(err)
	}
	journal := func(tx *gorm.DB) (string, error) {
		var id string
		err := tx.Raw(`INSERT INTO ledger_journals (kind) VALUES ('adjustment') RETURNING id::text`).Scan(&id).Error
		return id, err
	}
	tests := []struct {
		name string
		sql  func(tx *gorm.DB) error
	}{
		{"unbalanced journal", func(tx *gorm.DB) error {
			id, err := journal(tx)
			if err != nil {
				return err
			}
			return tx.Exec(`INSERT INTO ledger_entries (journal_id, account_id, amount) VALUES ($1::uuid, $2, 5), ($1::uuid, $3, -4)`, id, wallet, clearing).Error
		}},
		{"journal without entries", func(tx *gorm.DB) error { _, err := journal(tx); return err }},
		{"journal with one entry", func(tx *gorm.DB) error {
			id, err := journal(tx)
			if err != nil {
				return err
			}
			return tx.Exec(`INSERT INTO ledger_entries (journal_id, account_id, amount) VALUES ($1::uuid, $2, 5)`, id, wallet).Error
		}},
		{"entry added to a posted journal", func(tx *gorm.DB) error {
			return tx.Exec(`INSERT INTO ledger_entries (journal_id, account_id, amount) SELECT id, $1, 1 FROM ledger_journals WHERE kind = 'topup'`, escrow).Error
		}},
		{"zero amount", func(tx *gorm.DB) error {
			id, err := journal(tx)
			if err != nil {
				return err
			}
			return tx.Exec(`INSERT INTO ledger_entries (journal_id, account_id, amount) VALUES ($1::uuid, $2, 0), ($1::uuid, $3, 0)`, id, wallet, clearing).Error
		}},
		{"editing an entry", func(tx *gorm.DB) error { return tx.Exec(`UPDATE ledger_entries SET amount = amount * 2`).Error }},
		{"deleting an entry", func(tx *gorm.DB) error { return tx.Exec(`DELETE FROM ledger_entries`).Error }},
		{"editing a journal", func(tx *gorm.DB) error { return tx.Exec(`UPDATE ledger_journals SET memo = 'x'`).Error }},
		{"truncating entries", func(tx *gorm.DB) error { return tx.Exec(`TRUNCATE ledger_entries`).Error }},
		{"overdrawn wallet", func(tx *gorm.DB) error {
			return tx.Exec(`UPDATE ledger_accounts SET balance = -1 WHERE id = $1`, wallet).Error
		}},
		{"wallet without owner", func(tx *gorm.DB) error {
			return tx.Exec(`INSERT INTO ledger_accounts (kind, owner) VALUES ('wallet', '')`).Error
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := rows(t, db)
			err := in(db, tc.sql)
			if err == nil {
				t.Fatal("the database accepted it")
			}
			t.Log(err)
			if after := rows(t, db); after != before {
				t.Fatalf("rows went from %v to %v", before, after)
			}
		})
	}
	// The same overdraft rule as AllowsNegative, kind by kind.
	for _, ref := range []ledger.AccountRef{ledger.Wallet("x"), ledger.Escrow("x"), ledger.Earnings("x"), ledger.Revenue(),
		ledger.Refunds("x"), ledger.Clearing("x"), ledger.Subsidy()} {
		var insertErr error
		_ = in(db, func(tx *gorm.DB) error {
			insertErr = tx.Exec(`INSERT INTO ledger_accounts (kind, owner, balance) VALUES ($1, $2, -1)`, string(ref.Kind), ref.Owner).Error
			return errRollback
		})
		if (insertErr == nil) != ref.Kind.AllowsNegative() {
			t.Errorf("negative %s: database says %v, AllowsNegative %v", ref, insertErr, ref.Kind.AllowsNegative())
		}
	}
	// The trigger reads its own schema's entries whatever the session's search_path is: from a
	// session on the default path, a balanced journal commits and an unbalanced one does not.
	outside := func(amount int) error {
		return db.Gorm.Transaction(func(tx *gorm.DB) error {
			var id string
			if err := tx.Raw(`INSERT INTO tenant_1.ledger_journals (kind) VALUES ('adjustment') RETURNING id::text`).Scan(&id).Error; err != nil {
				return err
			}
			return tx.Exec(`INSERT INTO tenant_1.ledger_entries (journal_id, account_id, amount) VALUES ($1::uuid, $2, -5), ($1::uuid, $3, $4)`,
				id, wallet, clearing, amount).Error
		})
	}
	if err := outside(5); err != nil {
		t.Fatalf("balanced journal from outside the tenant's search_path: %v", err)
	}
	if err := outside(6); err == nil {
		t.Fatal("unbalanced journal from outside the tenant's search_path was accepted")
	}
	// A balanced journal written by hand is accepted: the trigger checks sums, not the writer.
	if err := in(db, func(tx *gorm.DB) error {
		id, err := journal(tx)
		if err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO ledger_entries (journal_id, account_id, amount) VALUES ($1::uuid, $2, -5), ($1::uuid, $3, 5)`, id, wallet, clearing).Error
	}); err != nil {
		t.Fatalf("balanced raw journal: %v", err)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	db := setup(t)
	for i := range 50 {
		user, order := fmt.Sprintf("u%d", i%7), fmt.Sprintf("o%d", i)
		mustPost(t, db, topUp(user, 500))
		mustPost(t, db, pay(user, order, 300))
		mustPost(t, db, refund(user, order, 100))
		mustPost(t, db, settle(order, fmt.Sprintf("c%d", i%3), 200, 7777))
	}
	r := ledgertest.RequireClean(t, db, tenant)
	if r.Journals != 200 || r.Entries != 50*9 || r.Total != 0 {
		t.Fatalf("report = %s", r)
	}

	tamper := func(t *testing.T, sql string) ledger.Report {
		t.Helper()
		var r ledger.Report
		err := in(db, func(tx *gorm.DB) error {
			if err := tx.Exec(sql).Error; err != nil {
				return err
			}
			var err error
			if r, err = ledger.Check(tx); err != nil {
				return err
			}
			return errRollback
		})
		if err == nil || r.Clean() {
			t.Fatalf("tampering went unnoticed: %v, %s", err, r)
		}
		return r
	}
	codes := func(r ledger.Report) []string {
		var out []string
		for _, p := range r.Problems {
			out = append(out, p.Code)
		}
		slices.Sort(out)
		return out
	}

	t.Run("cached balance", func(t *testing.T) {
		r := tamper(t, `UPDATE ledger_accounts SET balance = balance + 1 WHERE kind = 'wallet' AND owner = 'u3'`)
		if want := []string{ledger.ProblemStaleBalance, ledger.ProblemTotal}; !slices.Equal(codes(r), want) {
			t.Fatalf("problems = %v, want %v\n%s", codes(r), want, r)
		}
		if r.Problems[1].Account != ledger.Wallet("u3") {
			t.Fatalf("problem names %s, want wallet:u3", r.Problems[1].Account)
		}
	})
	t.Run("entry inserted around the trigger", func(t *testing.T) {
		// Takes 10000 out of a wallet that never held that much, in a journal that then no longer
		// balances.
		r := tamper(t, `
ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_balanced;
INSERT INTO ledger_entries (journal_id, account_id, amount)
SELECT (SELECT journal_id FROM ledger_entries ORDER BY id LIMIT 1), id, -10000 FROM ledger_accounts WHERE kind = 'wallet' AND owner = 'u5';
ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_balanced`)
		want := []string{ledger.ProblemStaleBalance, ledger.ProblemOverdrawn, ledger.ProblemUnbalanced}
		slices.Sort(want)
		if !slices.Equal(codes(r), want) {
			t.Fatalf("problems = %v, want %v\n%s", codes(r), want, r)
		}
	})
	ledgertest.RequireClean(t, db, tenant)
}
