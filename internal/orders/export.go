package orders

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/platform/tenancy"
)

// MaxExport caps one CSV export; more orders than this need a narrower filter.
const MaxExport = 50_000

// exportPage is how many orders one read takes. Each page is read in its own short
// transaction, so no transaction stays open while a slow client downloads the file.
const exportPage = 1000

// ExportFile describes an export before its first byte is written.
type ExportFile struct {
	// Name is orders-YYYYMMDD.csv, dated today in the tenant's zone.
	Name string
	// Truncated says more than MaxExport orders matched: the file holds the newest MaxExport.
	Truncated bool
}

// exportHeader is bilingual: the staff read Chinese, the finance tools English.
var exportHeader = []string{
	"订单号/Number", "下单时间/Created at", "状态/Status", "类型/Task type", "学生/Student ID", "跑腿员/Courier ID",
	"取件地点/Pickup", "送达地点/Drop-off", "金额(元)/Total (¥)", "小费(元)/Tip (¥)", "实付(元)/Paid (¥)",
	"已退(元)/Refunded (¥)", "支付方式/Provider",
}

// exportRow is the part of an order an export shows. The form values a student typed (pickup
// codes, room numbers, phones) are personal data and never leave through an export.
type exportRow struct {
	ID              string
	Number          int64
	CreatedAt       time.Time
	Status          string
	TaskType        string
	StudentID       string
	CourierID       *string
	PickupName      string
	DropoffName     string
	Total           int64
	Tip             int64
	PaidAmount      int64
	RefundedAmount  int64
	PaymentProvider *string
}

const exportColumns = `id, number, created_at, status, task_type, student_id, courier_id, pickup_name, dropoff_name,
	total, tip, paid_amount, refunded_amount, payment_provider`

// Export writes the orders f selects as CSV, newest first and at most MaxExport of them (f's
// Limit and Offset are ignored): UTF-8 with a byte-order mark so that Excel reads the Chinese
// right, a bilingual header row, times in the tenant's zone, money in yuan with two decimals.
//
// open is called once, before the first byte, with the file's name, and returns where to
// write. An error returned before open was called is the caller's to report (nothing was
// written); after it, the file is cut short and the error says why. It returns the number of
// orders written.
func (s *Service) Export(ctx context.Context, t *tenancy.Tenant, f ListFilter, open func(ExportFile) io.Writer) (int, error) {
	var (
		loc   *time.Location
		total int64
		page  []exportRow
		limit = s.exportCap
	)
	read := func(tx *gorm.DB, after *exportRow, n int) error {
		q := f.apply(tx.Model(&row{})).Select(exportColumns)
		if after != nil {
			q = q.Where("(created_at, id) < (?, ?)", after.CreatedAt, after.ID)
		}
		page = page[:0]
		return q.Order("created_at DESC, id DESC").Limit(n).Scan(&page).Error
	}
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		rules, err := loadRules(tx)
		if err != nil {
			return err
		}
		loc = rules.Loc
		if err := f.apply(tx.Model(&row{})).Count(&total).Error; err != nil {
			return err
		}
		return read(tx, nil, min(exportPage, limit))
	})
	if err != nil {
		return 0, err
	}
	w := open(ExportFile{Name: "orders-" + s.now().In(loc).Format("20060102") + ".csv", Truncated: total > int64(limit)})
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(exportHeader); err != nil {
		return 0, err
	}
	written := 0
	for {
		for i := range page {
			if err := cw.Write(page[i].record(loc)); err != nil {
				return written, err
			}
		}
		written += len(page)
		cw.Flush()
		if err := cw.Error(); err != nil {
			return written, fmt.Errorf("write export: %w", err)
		}
		if len(page) < exportPage || written >= limit {
			return written, nil
		}
		last := page[len(page)-1]
		if err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
			return read(tx, &last, min(exportPage, limit-written))
		}); err != nil {
			return written, err
		}
	}
}

func (r *exportRow) record(loc *time.Location) []string {
	return []string{
		fmt.Sprintf("P%06d", r.Number), r.CreatedAt.In(loc).Format("2006-01-02 15:04:05"), r.Status, r.TaskType,
		r.StudentID, deref(r.CourierID), cell(r.PickupName), cell(r.DropoffName),
		yuan(r.Total), yuan(r.Tip), yuan(r.PaidAmount), yuan(r.RefundedAmount), deref(r.PaymentProvider),
	}
}

// yuan formats 分 as yuan with two decimals, without a currency sign so that spreadsheets
// read it as a number (the header names the unit).
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// cell defuses text a spreadsheet would run as a formula: a pin's label is typed by a student,
// and "=HYPERLINK(...)" in a staff member's Excel is an attack, not a place name.
func cell(s string) string {
	if s != "" && strings.ContainsAny(s[:1], "=+-@\t\r") {
		return "'" + s
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
