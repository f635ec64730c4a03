package ledger

import (
	"context"
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/httpx"
)

// Problems is the HTTP meaning of the finance reads' errors.
var Problems = httpx.ProblemTable{
	httpx.Rule(ErrDateRange, http.StatusUnprocessableEntity, "finance_range_invalid", ""),
	httpx.Rule(ErrFilter, http.StatusUnprocessableEntity, "validation_failed", ""),
}

type financeSummaryOutput struct{ Body *FinanceSummary }

type financeJournalsInput struct {
	Kind   string `query:"kind" enum:"payment,topup,settlement,refund,withdrawal,adjustment,promotion" doc:"Only journals of this kind."`
	Ref    string `query:"ref" maxLength:"120" doc:"Only journals for this ref, e.g. order:<id>; a bare order or payment id also matches order:<id> and payment:<id>."`
	From   string `query:"from" format:"date" doc:"Posted on or after this day (YYYY-MM-DD, the team's time zone)."`
	To     string `query:"to" format:"date" doc:"Posted on or before this day (YYYY-MM-DD, the team's time zone)."`
	Before int64  `query:"before" minimum:"0" doc:"nextBefore of the previous page; omit for the newest."`
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"50"`
}

type financeJournalsOutput struct {
	Body struct {
		Items      []JournalView `json:"items"`
		NextBefore int64         `json:"nextBefore,omitempty" doc:"Pass as before to get the next, older page; absent on the last page."`
	}
}

type financeAccountsInput struct {
	Kind   string `query:"kind" required:"true" enum:"wallet,escrow,earnings,revenue,clearing,refunds,subsidy" doc:"Which accounts: earnings is what each courier is owed, wallet what each student holds."`
	Owner  string `query:"owner" maxLength:"100" doc:"Only this owner's account (a user id for wallet and earnings, an order id for escrow): one student's wallet, one courier's earnings."`
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"50"`
	Offset int    `query:"offset" minimum:"0" maximum:"1000000" default:"0"`
}

type financeAccountsOutput struct {
	Body struct {
		Items []AccountView `json:"items"`
		Total int64         `json:"total" doc:"Accounts of this kind, all pages."`
	}
}

// RegisterHTTP adds the finance reads on the tenant host: get-finance-summary,
// list-ledger-journals and list-ledger-accounts, all needing finance:read.
func RegisterHTTP(api huma.API, r *Reports) {
	access := httpx.Perm(httpx.ScopeTenant, "finance:read")
	httpx.Register(api, huma.Operation{
		OperationID: "get-finance-summary", Method: http.MethodGet, Path: "/api/v1/admin/finance/summary", Tags: []string{"finance"},
		Summary: "What the books hold by account kind, and this month's journals by kind in the team's time zone",
	}, access, func(ctx context.Context, _ *struct{}) (*financeSummaryOutput, error) {
		s, err := r.Summary(ctx, httpx.HostFrom(ctx).Tenant)
		if err != nil {
			return nil, Problems.Map(err)
		}
		return &financeSummaryOutput{Body: s}, nil
	})
	httpx.Register(api, huma.Operation{
		OperationID: "list-ledger-journals", Method: http.MethodGet, Path: "/api/v1/admin/finance/journals", Tags: []string{"finance"},
		Summary:     "Ledger journals with their entries, newest first",
		Description: "Pass nextBefore as before for the next page.",
	}, access, func(ctx context.Context, in *financeJournalsInput) (*financeJournalsOutput, error) {
		items, next, err := r.Journals(ctx, httpx.HostFrom(ctx).Tenant, JournalFilter{
			Kind: JournalKind(in.Kind), Ref: in.Ref, From: in.From, To: in.To, Before: in.Before, Limit: in.Limit,
		})
		if err != nil {
			return nil, located(err, in)
		}
		out := &financeJournalsOutput{}
		out.Body.Items, out.Body.NextBefore = items, next
		return out, nil
	})
	httpx.Register(api, huma.Operation{
		OperationID: "list-ledger-accounts", Method: http.MethodGet, Path: "/api/v1/admin/finance/accounts", Tags: []string{"finance"},
		Summary: "Accounts of one kind with their balances, largest first",
	}, access, func(ctx context.Context, in *financeAccountsInput) (*financeAccountsOutput, error) {
		items, total, err := r.Accounts(ctx, httpx.HostFrom(ctx).Tenant, AccountFilter{Kind: AccountKind(in.Kind), Owner: in.Owner, Limit: in.Limit, Offset: in.Offset})
		if err != nil {
			return nil, Problems.Map(err)
		}
		out := &financeAccountsOutput{}
		out.Body.Items, out.Body.Total = items, total
		return out, nil
	})
}

// located maps a journal filter's error and points it at its field, so the screen shows it
// beside the date picker.
func located(err error, in *financeJournalsInput) error {
	var at *huma.ErrorDetail
	switch {
	case errors.Is(err, ErrDateRange):
		at = &huma.ErrorDetail{Location: "query.to", Message: ErrDateRange.Error(), Value: in.To}
	}
	mapped := Problems.Map(err)
	var p *httpx.Problem
	if at != nil && errors.As(mapped, &p) {
		p.Errors = append(p.Errors, at)
	}
	return mapped
}
