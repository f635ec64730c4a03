package plans

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func ptr(n int64) *int64 { return &n }

func validPlan() Plan {
	return Plan{ID: "pro", Name: Text{ZH: "专业版", EN: "Pro"}, Currency: "cny", MonthlyAmount: 29900, YearlyAmount: 299000,
		TrialDays: 14, Prices: StripePrices{Monthly: "price_M1", Yearly: "price_Y1"},
		Limits: Limits{MaxActiveCouriers: ptr(100), MaxOrdersPerMonth: ptr(5000), CustomDomain: true}, Sort: 20}
}

func TestValidateNamesTheField(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		edit  func(p *Plan)
		field string // "" = valid
	}{
		{"valid", func(*Plan) {}, ""},
		{"spaces and upper-case currency are tidied", func(p *Plan) { p.ID, p.Currency, p.Name.EN = " pro ", " CNY", " Pro " }, ""},
		{"no Stripe prices yet", func(p *Plan) { p.Prices = StripePrices{} }, ""},
		{"unlimited everything", func(p *Plan) { p.Limits = Limits{} }, ""},
		{"id with capitals", func(p *Plan) { p.ID = "Pro" }, "id"},
		{"id too short", func(p *Plan) { p.ID = "p" }, "id"},
		{"id starting with a digit", func(p *Plan) { p.ID = "1pro" }, "id"},
		{"id too long", func(p *Plan) { p.ID = "p" + strings.Repeat("x", 40) }, "id"},
		{"no Chinese name", func(p *Plan) { p.Name.ZH = "  " }, "name.zh"},
		{"English name too long", func(p *Plan) { p.Name.EN = strings.Repeat("a", 61) }, "name.en"},
		{"60 Chinese characters fit", func(p *Plan) { p.Name.ZH = strings.Repeat("版", 60) }, ""},
		{"currency of two letters", func(p *Plan) { p.Currency = "cn" }, "currency"},
		{"currency with a digit", func(p *Plan) { p.Currency = "cn1" }, "currency"},
		{"negative monthly amount", func(p *Plan) { p.MonthlyAmount = -1 }, "monthlyAmount"},
		{"yearly amount beyond Stripe's", func(p *Plan) { p.YearlyAmount = maxAmount + 1 }, "yearlyAmount"},
		{"negative trial", func(p *Plan) { p.TrialDays = -1 }, "trialDays"},
		{"trial over a year", func(p *Plan) { p.TrialDays = 366 }, "trialDays"},
		{"product id instead of a price id", func(p *Plan) { p.Prices.Monthly = "prod_123" }, "stripePrices.monthly"},
		{"metered price with a space", func(p *Plan) { p.Prices.Metered = "price_ab cd" }, "stripePrices.metered"},
		{"same price monthly and yearly", func(p *Plan) { p.Prices.Yearly = p.Prices.Monthly }, "stripePrices.yearly"},
		{"zero couriers", func(p *Plan) { p.Limits.MaxActiveCouriers = ptr(0) }, "limits.maxActiveCouriers"},
		{"negative orders", func(p *Plan) { p.Limits.MaxOrdersPerMonth = ptr(-5) }, "limits.maxOrdersPerMonth"},
		{"absurd seats", func(p *Plan) { p.Limits.MaxStaffSeats = ptr(maxLimit + 1) }, "limits.maxStaffSeats"},
		{"sort out of range", func(p *Plan) { p.Sort = maxSort + 1 }, "sort"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := validPlan()
			tc.edit(&p)
			p.normalize()
			err := p.validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var ie *InvalidError
			if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidPlan) {
				t.Fatalf("want *InvalidError, got %v", err)
			}
			if ie.Field != tc.field {
				t.Errorf("field %q (%s); want %q", ie.Field, ie.Reason, tc.field)
			}
		})
	}
}

func TestLimitsMaxAndFits(t *testing.T) {
	t.Parallel()
	l := Limits{MaxActiveCouriers: ptr(10), MaxStaffSeats: ptr(1)}
	cases := []struct {
		kind    Kind
		current int64
		max     int64
		limited bool
		fits    bool
	}{
		{KindActiveCouriers, 9, 10, true, true},
		{KindActiveCouriers, 10, 10, true, false},
		{KindActiveCouriers, 12, 10, true, false}, // over after a downgrade: still refused
		{KindStaffSeats, 0, 1, true, true},
		{KindStaffSeats, 1, 1, true, false},
		{KindOrdersPerMonth, 1 << 40, 0, false, true},
		{KindCustomDomains, 0, 0, true, false},
		{Kind("bogus"), 5, 0, false, true},
	}
	for _, tc := range cases {
		max, limited := l.Max(tc.kind)
		if max != tc.max || limited != tc.limited {
			t.Errorf("%s: Max = %d, %v; want %d, %v", tc.kind, max, limited, tc.max, tc.limited)
		}
		if got := l.fits(tc.kind, tc.current); got != tc.fits {
			t.Errorf("%s at %d: fits = %v; want %v", tc.kind, tc.current, got, tc.fits)
		}
	}
	if _, limited := (Limits{CustomDomain: true}).Max(KindCustomDomains); limited {
		t.Error("a plan with custom domains limits them")
	}
}

// The problem body of a limit refusal carries the standard members and the hint, and other
// errors pass through untouched.
func TestProblemCarriesTheHint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	plain := errors.New("boom")
	if got := Problem(ctx, plain); got != plain {
		t.Fatalf("non-limit error changed: %v", got)
	}
	up := validPlan()
	le := &LimitError{Kind: KindActiveCouriers, Max: 10, Current: 10, PlanID: "campus", Upgrade: &up}
	got := Problem(ctx, errors.Join(errors.New("approve courier"), le))
	lp, ok := got.(*LimitProblem)
	if !ok {
		t.Fatalf("want *LimitProblem, got %T", got)
	}
	if lp.GetStatus() != http.StatusForbidden || lp.ContentType("application/json") != "application/problem+json" {
		t.Errorf("status %d, content type %s", lp.GetStatus(), lp.ContentType("application/json"))
	}
	raw, err := json.Marshal(lp)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Status  int
		Code    string
		Detail  string
		Limit   string
		Max     int64
		Current int64
		Upgrade struct {
			PlanID        string
			Name          Text
			MonthlyAmount int64
			Max           *int64
		}
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	if body.Status != 403 || body.Code != "plan_limit_reached" || body.Limit != "active_couriers" || body.Max != 10 || body.Current != 10 {
		t.Errorf("body %s", raw)
	}
	if body.Upgrade.PlanID != "pro" || body.Upgrade.Name.ZH != "专业版" || body.Upgrade.MonthlyAmount != 29900 ||
		body.Upgrade.Max == nil || *body.Upgrade.Max != 100 {
		t.Errorf("upgrade %s", raw)
	}
	if !strings.Contains(body.Detail, "10 active couriers") || !strings.Contains(body.Detail, "Pro plan") {
		t.Errorf("detail %q", body.Detail)
	}

	// Nothing to upgrade to: no hint, and the detail says so.
	raw, _ = json.Marshal(Problem(ctx, &LimitError{Kind: KindOrdersPerMonth, Max: 5, Current: 5}))
	if strings.Contains(string(raw), `"upgrade"`) || !strings.Contains(string(raw), "contact us") {
		t.Errorf("without upgrade: %s", raw)
	}
}
