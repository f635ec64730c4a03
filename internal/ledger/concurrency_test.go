package ledger_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/ledger/ledgertest"
)

// Many workers pay, refund, settle and pay out the same few orders, wallets and couriers at
// once. Whatever interleaving PostgreSQL picks, the books must end sound: every journal
// balanced, every cached balance equal to its entries, nothing overdrawn, money conserved, and
// the provider accounts moved by exactly the operations that reported success.
func TestConcurrentPostingKeepsLedgerSound(t *testing.T) {
	t.Parallel()
	db := setup(t)
	const (
		workers  = 20
		rounds   = 60
		wallets  = 10
		orders   = 25
		couriers = 3
		shareBP  = 8000
	)
	payer := func(order int) string { return fmt.Sprintf("u%d", order%wallets) }

	var (
		stripeNet, bankOut             atomic.Int64 // expected clearing:stripe and clearing:bank
		posted, refused, dups, retries atomic.Int64
	)
	// run retries serialization failures and deadlocks the way a real caller would; the lock
	// order makes deadlocks impossible, so the test also counts them to prove it.
	var deadlocks atomic.Int64
	run := func(fn func(tx *gorm.DB) error) error {
		for {
			err := db.InTenant(t.Context(), tenant, fn)
			var pe *pgconn.PgError
			if errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001") {
				if pe.Code == "40P01" {
					deadlocks.Add(1)
				}
				retries.Add(1)
				continue
			}
			return err
		}
	}
	// postOne posts j and sorts the outcome; then runs only when j was posted.
	postOne := func(j ledger.Journal, then func()) {
		err := run(func(tx *gorm.DB) error {
			_, err := ledger.Post(tx, j)
			return err
		})
		switch {
		case err == nil:
			posted.Add(1)
			if then != nil {
				then()
			}
		case errors.Is(err, ledger.ErrInsufficientFunds):
			refused.Add(1)
		case errors.Is(err, ledger.ErrDuplicate):
			dups.Add(1)
		default:
			t.Errorf("%s %s: %v", j.Kind, j.Ref, err)
		}
	}

	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 2024))
			for range rounds {
				o := rng.IntN(orders)
				order, user := fmt.Sprintf("o%d", o), payer(o)
				switch x := rng.IntN(100); {
				case x < 25: // top up a wallet by card
					amount := ledger.Money(1 + rng.IntN(500))
					postOne(topUp(user, amount), func() { stripeNet.Add(-int64(amount)) })
				case x < 50: // pay an order; a few keys per order, retried by several workers
					n := rng.IntN(3)
					j := pay(user, order, ledger.Money(100*(n+1)))
					j.IdempotencyKey = fmt.Sprintf("order:%s:pay:%d", order, n)
					postOne(j, nil)
				case x < 65: // partial refund to the wallet
					postOne(refund(user, order, ledger.Money(1+rng.IntN(150))), nil)
				case x < 72: // card refund: handed to Stripe, then confirmed in its own transaction
					amount := ledger.Money(1 + rng.IntN(100))
					postOne(ledger.Journal{Kind: ledger.Refund, Ref: "order:" + order, Entries: []ledger.Entry{
						{ledger.Escrow(order), -amount}, {ledger.Refunds("stripe"), amount},
					}}, func() {
						postOne(ledger.Journal{Kind: ledger.Refund, Ref: "order:" + order, Entries: []ledger.Entry{
							{ledger.Refunds("stripe"), -amount}, {ledger.Clearing("stripe"), amount},
						}}, func() { stripeNet.Add(int64(amount)) })
					})
				case x < 92: // settle whatever the order holds, read in the same transaction
					courier := fmt.Sprintf("c%d", rng.IntN(couriers))
					err := run(func(tx *gorm.DB) error {
						held, err := ledger.Balance(tx, ledger.Escrow(order))
						if err != nil || held == 0 {
							return err
						}
						// A refund may land between the read and Post's lock: then Post
						// refuses and the settlement is retried by a later round.
						_, err = ledger.Post(tx, settle(order, courier, held, shareBP))
						return err
					})
					if err != nil && !errors.Is(err, ledger.ErrInsufficientFunds) {
						t.Errorf("settle %s: %v", order, err)
					}
				default: // a courier withdraws
					amount := ledger.Money(1 + rng.IntN(200))
					courier := fmt.Sprintf("c%d", rng.IntN(couriers))
					postOne(ledger.Journal{Kind: ledger.Withdrawal, Ref: "payout:" + courier, Entries: []ledger.Entry{
						{ledger.Earnings(courier), -amount}, {ledger.Clearing("bank"), amount},
					}}, func() { bankOut.Add(int64(amount)) })
				}
			}
		})
	}
	wg.Wait()
	t.Logf("posted %d, refused for funds %d, duplicates %d, retries %d", posted.Load(), refused.Load(), dups.Load(), retries.Load())

	r := ledgertest.RequireClean(t, db, tenant)
	if r.Total != 0 {
		t.Errorf("balances sum to %d, want 0", r.Total)
	}
	if n := deadlocks.Load(); n != 0 {
		t.Errorf("%d deadlocks: the lock order is not holding", n)
	}
	if got := balance(t, db, ledger.Clearing("stripe")); int64(got) != stripeNet.Load() {
		t.Errorf("clearing:stripe = %d, successful top-ups and card refunds say %d", got, stripeNet.Load())
	}
	if got := balance(t, db, ledger.Clearing("bank")); int64(got) != bankOut.Load() {
		t.Errorf("clearing:bank = %d, successful withdrawals say %d", got, bankOut.Load())
	}
	if posted.Load() == 0 || refused.Load() == 0 || dups.Load() == 0 {
		t.Errorf("the mix did not exercise every path: %d posted, %d refused, %d duplicates", posted.Load(), refused.Load(), dups.Load())
	}
	var overdrawn int
	if err := in(db, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT count(*) FROM ledger_accounts WHERE balance < 0 AND kind NOT IN ('clearing', 'subsidy')`).Scan(&overdrawn).Error
	}); err != nil || overdrawn != 0 {
		t.Errorf("%d overdrawn accounts (%v)", overdrawn, err)
	}
}

// BenchmarkPost measures one wallet payment journal in its own tenant transaction.
func BenchmarkPost(b *testing.B) {
	db := setup(b)
	mustPost(b, db, topUp("payer", 1<<50))
	// Baselines: a read-only tenant transaction, and one that writes a single row, which pays
	// for the WAL flush at commit that every posting transaction pays too.
	b.Run("baseline=read_tx", func(b *testing.B) {
		for b.Loop() {
			if err := in(db, func(tx *gorm.DB) error { return tx.Exec(`SELECT 1`).Error }); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline=one_row_write_tx", func(b *testing.B) {
		for b.Loop() {
			if err := in(db, func(tx *gorm.DB) error {
				return tx.Exec(`INSERT INTO audit_log (actor, action) VALUES ('bench', 'bench')`).Error
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	bench := func(b *testing.B, key bool) {
		i := 0
		for b.Loop() {
			i++
			j := pay("payer", fmt.Sprintf("%s-%d", b.Name(), i), 100)
			if key {
				j.IdempotencyKey = fmt.Sprintf("%s-%d", b.Name(), i)
			}
			if _, err := post(db, j); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("payment", func(b *testing.B) { bench(b, false) })
	b.Run("payment_with_key", func(b *testing.B) { bench(b, true) })
}
