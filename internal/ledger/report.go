package ledger

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/settings"
	"github.com/paotui/paotui/internal/store"
)

// The finance reads: what the books hold by account kind, the journals newest first and the
// accounts of one kind, for the tenant's finance staff. Reads only, each in the tenant's
// scoped transaction.

// accountKinds lists every account kind in the order the finance screen shows them.
var accountKinds = []AccountKind{KindWallet, KindEscrow, KindEarnings, KindRevenue, KindClearing, KindRefunds, KindSubsidy}

// Page sizes of the finance lists.
const (
	DefaultReportLimit = 50
	MaxReportLimit     = 100
)

var (
	// ErrDateRange is a journal date filter that is not a date or whose from is after its to.
	ErrDateRange = errors.New("from and to are dates (YYYY-MM-DD) and from is not after to")
	// ErrFilter is a kind the books do not know.
	ErrFilter = errors.New("invalid filter")
)

// KindBalance is what the accounts of one kind hold together.
type KindBalance struct {
	Kind     AccountKind `json:"kind" enum:"wallet,escrow,earnings,revenue,clearing,refunds,subsidy"`
	Accounts int64       `json:"accounts" doc:"How many accounts of this kind exist (one per student, order, courier or provider)."`
	NonZero  int64       `json:"nonZero" doc:"How many of them hold money now; for escrow, the paid orders not yet settled or refunded."`
	Balance  Money       `json:"balance" doc:"Sum of their balances in 分. Clearing and subsidy run negative by design: minus what providers brought in, minus what promotions cost."`
}

// KindVolume is how much money journals of one kind moved.
type KindVolume struct {
	Kind     JournalKind `json:"kind" enum:"payment,topup,settlement,refund,withdrawal,adjustment,promotion"`
	Journals int64       `json:"journals"`
	Amount   Money       `json:"amount" doc:"Money moved in 分: the sum of the journals' positive entries."`
}

// FinanceSummary is the finance screen's head: balances by account kind now, and this month's
// journals by kind.
type FinanceSummary struct {
	Zone       string        `json:"zone" example:"Asia/Shanghai" doc:"The team's time zone; the month starts in it."`
	MonthStart time.Time     `json:"monthStart" doc:"The first of this month, 00:00 in the team's zone."`
	Balances   []KindBalance `json:"balances" doc:"Every account kind, in a fixed order, zero when unused. All balances together sum to zero."`
	Month      []KindVolume  `json:"month" doc:"Every journal kind, journals posted since monthStart."`
}

// EntryView is one line of a journal as the finance screen shows it.
type EntryView struct {
	AccountKind AccountKind `json:"accountKind" enum:"wallet,escrow,earnings,revenue,clearing,refunds,subsidy"`
	Owner       string      `json:"owner,omitempty" doc:"User id (wallet, earnings), order id (escrow) or provider (clearing, refunds); absent for revenue and subsidy."`
	Amount      Money       `json:"amount" doc:"分; positive when money came into the account."`
}

// JournalView is one journal with its entries.
type JournalView struct {
	ID        string      `json:"id" format:"uuid"`
	Seq       int64       `json:"seq" doc:"Posting order; pass as before to list older journals."`
	Kind      JournalKind `json:"kind" enum:"payment,topup,settlement,refund,withdrawal,adjustment,promotion"`
	Ref       string      `json:"ref,omitempty" doc:"What the money moved for, e.g. order:<id> or payment:<id>."`
	Memo      string      `json:"memo,omitempty"`
	CreatedBy string      `json:"createdBy,omitempty" doc:"Who caused it: user:<id>, staff:<id> or system:<job>."`
	CreatedAt time.Time   `json:"createdAt"`
	Amount    Money       `json:"amount" doc:"Money moved in 分: the sum of the positive entries."`
	Entries   []EntryView `json:"entries" doc:"In posting order; they sum to zero."`
}

// AccountView is one account and what it holds.
type AccountView struct {
	Kind      AccountKind `json:"kind" enum:"wallet,escrow,earnings,revenue,clearing,refunds,subsidy"`
	Owner     string      `json:"owner,omitempty" doc:"User id (wallet, earnings), order id (escrow) or provider (clearing, refunds)."`
	Balance   Money       `json:"balance" doc:"分 held now."`
	UpdatedAt time.Time   `json:"updatedAt" doc:"When the balance last changed."`
}

// JournalFilter selects journals; zero fields do not filter.
type JournalFilter struct {
	Kind JournalKind
	// Ref is a journal's exact ref ("order:<id>"); a bare order or payment id also finds the
	// journals of "order:<id>" and "payment:<id>".
	Ref string
	// From and To are days in the team's zone, YYYY-MM-DD, both included.
	From, To string
	Before   int64 // a Seq of the previous page; 0 for the newest
	Limit    int   // 1..MaxReportLimit; 0 means DefaultReportLimit
}

// AccountFilter selects the accounts of one kind, largest balance first.
type AccountFilter struct {
	Kind          AccountKind
	Owner         string // "" for every account of Kind
	Limit, Offset int    // Limit 1..MaxReportLimit, 0 means DefaultReportLimit
}

// Reports reads a tenant's books for its finance staff.
type Reports struct {
	db  *store.DB
	now func() time.Time
}

// NewReports returns the finance reads over db.
func NewReports(db *store.DB) *Reports { return &Reports{db: db, now: time.Now} }

// Summary returns scope's balances by account kind and this month's journals by kind, the
// month cut in the team's time zone.
func (r *Reports) Summary(ctx context.Context, scope store.Scope) (*FinanceSummary, error) {
	var s *FinanceSummary
	err := r.db.InTenant(ctx, scope, func(tx *gorm.DB) error {
		loc, err := settings.Location(tx)
		if err != nil {
			return err
		}
		n := r.now().In(loc)
		s, err = summarize(tx, time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, loc))
		if err == nil {
			s.Zone = loc.String()
		}
		return err
	})
	return s, err
}

// Journals returns one page of scope's journals, newest first, and the cursor of the next
// (older) page, 0 on the last. Errors: ErrDateRange, ErrFilter. A ref that is not text
// (NUL, invalid UTF-8) never gets here: httpx refuses it for every query parameter.
func (r *Reports) Journals(ctx context.Context, scope store.Scope, f JournalFilter) ([]JournalView, int64, error) {
	if f.Kind != "" && !slices.Contains(journalKinds, f.Kind) {
		return nil, 0, fmt.Errorf("%w: unknown journal kind %q", ErrFilter, f.Kind)
	}
	var (
		out  []JournalView
		next int64
	)
	err := r.db.InTenant(ctx, scope, func(tx *gorm.DB) error {
		q, err := f.query(tx)
		if err != nil {
			return err
		}
		out, next, err = listJournals(tx, q)
		return err
	})
	return out, next, err
}

// Accounts returns one page of scope's accounts of one kind, largest balance first, and how
// many accounts the kind has. Errors: ErrFilter.
func (r *Reports) Accounts(ctx context.Context, scope store.Scope, f AccountFilter) ([]AccountView, int64, error) {
	if _, ok := kinds[f.Kind]; !ok {
		return nil, 0, fmt.Errorf("%w: unknown account kind %q", ErrFilter, f.Kind)
	}
	var (
		out   []AccountView
		total int64
	)
	err := r.db.InTenant(ctx, scope, func(tx *gorm.DB) error {
		var err error
		out, total, err = listAccounts(tx, f)
		return err
	})
	return out, total, err
}

// journalQuery is a JournalFilter resolved against the team's zone: [from, to) instants.
type journalQuery struct {
	kind     JournalKind
	refs     []string
	from, to *time.Time
	before   int64
	limit    int
}

func (f JournalFilter) query(tx *gorm.DB) (journalQuery, error) {
	q := journalQuery{kind: f.Kind, before: f.Before, limit: f.Limit}
	if ref := strings.TrimSpace(f.Ref); ref != "" {
		q.refs = []string{ref}
		// Staff paste an order's id from the orders screen; the books name it by its source.
		if !strings.Contains(ref, ":") {
			q.refs = append(q.refs, "order:"+ref, "payment:"+ref)
		}
	}
	if f.From == "" && f.To == "" {
		return q, nil
	}
	loc, err := settings.Location(tx)
	if err != nil {
		return q, err
	}
	day := func(s string) (*time.Time, error) {
		if s == "" {
			return nil, nil
		}
		d, err := time.ParseInLocation(time.DateOnly, s, loc)
		if err != nil {
			return nil, ErrDateRange
		}
		return &d, nil
	}
	if q.from, err = day(f.From); err != nil {
		return q, err
	}
	if q.to, err = day(f.To); err != nil {
		return q, err
	}
	if q.from != nil && q.to != nil && q.from.After(*q.to) {
		return q, ErrDateRange
	}
	if q.to != nil {
		// To is included: the journals before the next day's midnight (23 or 25 hours away
		// where the zone keeps daylight saving).
		end := time.Date(q.to.Year(), q.to.Month(), q.to.Day()+1, 0, 0, 0, 0, loc)
		q.to = &end
	}
	return q, nil
}

// summarize returns the balances by account kind and the journals posted since monthStart by
// kind; Zone is left for the caller, who knows where monthStart was cut.
func summarize(tx *gorm.DB, monthStart time.Time) (*FinanceSummary, error) {
	s := &FinanceSummary{MonthStart: monthStart, Balances: make([]KindBalance, len(accountKinds)), Month: make([]KindVolume, len(journalKinds))}
	at := map[AccountKind]int{}
	for i, k := range accountKinds {
		s.Balances[i] = KindBalance{Kind: k}
		at[k] = i
	}
	var balances []struct {
		Kind     string
		Accounts int64
		NonZero  int64
		Balance  int64
	}
	if err := tx.Raw(`SELECT kind, count(*) AS accounts, count(*) FILTER (WHERE balance <> 0) AS non_zero,
			coalesce(sum(balance), 0)::bigint AS balance
		FROM ledger_accounts GROUP BY kind`).Scan(&balances).Error; err != nil {
		return nil, fmt.Errorf("balances by kind: %w", err)
	}
	for _, b := range balances {
		if i, ok := at[AccountKind(b.Kind)]; ok {
			s.Balances[i].Accounts, s.Balances[i].NonZero, s.Balances[i].Balance = b.Accounts, b.NonZero, Money(b.Balance)
		}
	}
	jat := map[JournalKind]int{}
	for i, k := range journalKinds {
		s.Month[i] = KindVolume{Kind: k}
		jat[k] = i
	}
	var volumes []struct {
		Kind     string
		Journals int64
		Amount   int64
	}
	if err := tx.Raw(`SELECT j.kind, count(DISTINCT j.id) AS journals,
			coalesce(sum(e.amount) FILTER (WHERE e.amount > 0), 0)::bigint AS amount
		FROM ledger_journals j JOIN ledger_entries e ON e.journal_id = j.id
		WHERE j.created_at >= $1::timestamptz
		GROUP BY j.kind`, monthStart.UTC()).Scan(&volumes).Error; err != nil {
		return nil, fmt.Errorf("journals this month: %w", err)
	}
	for _, v := range volumes {
		if i, ok := jat[JournalKind(v.Kind)]; ok {
			s.Month[i].Journals, s.Month[i].Amount = v.Journals, Money(v.Amount)
		}
	}
	return s, nil
}

// listJournals pages through the journals matching q, newest first, each with its entries.
//
// A journal's place in posting order (Seq) is the id of its first entry: journal ids are
// random uuids and journals of one transaction share a created_at, so neither can be a
// cursor. Walking ledger_entries backwards by id and keeping each journal's first entry reads
// only as many rows as the page needs when nothing narrows the list.
func listJournals(tx *gorm.DB, q journalQuery) ([]JournalView, int64, error) {
	if q.before <= 0 {
		q.before = math.MaxInt64
	}
	if q.limit <= 0 {
		q.limit = DefaultReportLimit
	}
	q.limit = min(q.limit, MaxReportLimit)
	where := []string{"e.id < ?", "NOT EXISTS (SELECT 1 FROM ledger_entries f WHERE f.journal_id = e.journal_id AND f.id < e.id)"}
	args := []any{q.before}
	if q.kind != "" {
		where = append(where, "j.kind = ?")
		args = append(args, string(q.kind))
	}
	if len(q.refs) > 0 {
		// ref <> '' lets the planner use the partial index on ref.
		where = append(where, "j.ref IN ? AND j.ref <> ''")
		args = append(args, q.refs)
	}
	if q.from != nil {
		where = append(where, "j.created_at >= ?")
		args = append(args, q.from.UTC())
	}
	if q.to != nil {
		where = append(where, "j.created_at < ?")
		args = append(args, q.to.UTC())
	}
	args = append(args, q.limit+1)
	var heads []struct {
		ID        string
		Seq       int64
		Kind      string
		Ref       string
		Memo      string
		CreatedBy string
		CreatedAt time.Time
	}
	if err := tx.Raw(`SELECT j.id::text AS id, e.id AS seq, j.kind, j.ref, j.memo, j.created_by, j.created_at
		FROM ledger_entries e JOIN ledger_journals j ON j.id = e.journal_id
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY e.id DESC LIMIT ?`, args...).Scan(&heads).Error; err != nil {
		return nil, 0, fmt.Errorf("list journals: %w", err)
	}
	var next int64
	if len(heads) > q.limit {
		heads = heads[:q.limit]
		next = heads[len(heads)-1].Seq
	}
	out := make([]JournalView, len(heads))
	at := make(map[string]int, len(heads))
	ids := make([]string, len(heads))
	for i, h := range heads {
		out[i] = JournalView{ID: h.ID, Seq: h.Seq, Kind: JournalKind(h.Kind), Ref: h.Ref, Memo: h.Memo, CreatedBy: h.CreatedBy,
			CreatedAt: h.CreatedAt, Entries: []EntryView{}}
		at[h.ID] = i
		ids[i] = h.ID
	}
	if len(ids) == 0 {
		return out, 0, nil
	}
	var lines []struct {
		JournalID string
		Kind      string
		Owner     string
		Amount    int64
	}
	if err := tx.Raw(`SELECT e.journal_id::text AS journal_id, a.kind, a.owner, e.amount
		FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
		WHERE e.journal_id IN ?
		ORDER BY e.id`, ids).Scan(&lines).Error; err != nil {
		return nil, 0, fmt.Errorf("list journal entries: %w", err)
	}
	for _, l := range lines {
		j := &out[at[l.JournalID]]
		j.Entries = append(j.Entries, EntryView{AccountKind: AccountKind(l.Kind), Owner: l.Owner, Amount: Money(l.Amount)})
		if l.Amount > 0 {
			j.Amount += Money(l.Amount)
		}
	}
	return out, next, nil
}

// listAccounts pages through the accounts of f.Kind, largest balance first (ties by age), and
// counts them all.
func listAccounts(tx *gorm.DB, f AccountFilter) ([]AccountView, int64, error) {
	if f.Limit <= 0 {
		f.Limit = DefaultReportLimit
	}
	f.Limit = min(f.Limit, MaxReportLimit)
	f.Offset = max(f.Offset, 0)
	// An empty owner matches every account: ('' = '' OR ...) keeps one statement for both.
	var total int64
	if err := tx.Raw(`SELECT count(*) FROM ledger_accounts WHERE kind = ? AND (? = '' OR owner = ?)`, string(f.Kind), f.Owner, f.Owner).Scan(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count %s accounts: %w", f.Kind, err)
	}
	var rows []struct {
		Owner     string
		Balance   int64
		UpdatedAt time.Time
	}
	if err := tx.Raw(`SELECT owner, balance, updated_at FROM ledger_accounts WHERE kind = ? AND (? = '' OR owner = ?)
		ORDER BY balance DESC, id LIMIT ? OFFSET ?`, string(f.Kind), f.Owner, f.Owner, f.Limit, f.Offset).Scan(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("list %s accounts: %w", f.Kind, err)
	}
	out := make([]AccountView, len(rows))
	for i, r := range rows {
		out[i] = AccountView{Kind: f.Kind, Owner: r.Owner, Balance: Money(r.Balance), UpdatedAt: r.UpdatedAt}
	}
	return out, total, nil
}
