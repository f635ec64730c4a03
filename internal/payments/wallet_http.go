package payments

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// WalletEntry is one movement of a wallet, newest first.
type WalletEntry struct {
	ID     int64        `json:"id" doc:"Cursor: pass as before for older entries."`
	Kind   string       `json:"kind" doc:"payment, topup, refund, adjustment..."`
	Ref    string       `json:"ref,omitempty"`
	Memo   string       `json:"memo,omitempty"`
	Amount ledger.Money `json:"amount" doc:"分; positive came in, negative went out."`
	At     time.Time    `json:"at"`
}

// WalletView is a wallet's balance and a page of its history.
type WalletView struct {
	Balance    ledger.Money  `json:"balance"`
	Items      []WalletEntry `json:"items"`
	NextBefore int64         `json:"nextBefore,omitempty"`
}

// WalletOf reads userID's wallet in tenant t.
func (s *Service) WalletOf(ctx context.Context, t *tenancy.Tenant, userID string, before int64, limit int) (*WalletView, error) {
	v := &WalletView{Items: []WalletEntry{}}
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		bal, postings, err := s.Wallet(tx, userID, before, limit)
		if err != nil {
			return err
		}
		v.Balance = bal
		for _, p := range postings {
			v.Items = append(v.Items, WalletEntry{ID: p.EntryID, Kind: string(p.Kind), Ref: p.Ref, Memo: p.Memo, Amount: p.Amount, At: p.CreatedAt})
		}
		if len(postings) == limit {
			v.NextBefore = postings[len(postings)-1].EntryID
		}
		return nil
	})
	return v, err
}

// TopupSelf starts a student's Stripe top-up of their own wallet; the webhook credits it.
func (s *Service) TopupSelf(ctx context.Context, t *tenancy.Tenant, userID string, amount ledger.Money, method, idemKey string) (*Payment, string, error) {
	var (
		p      *Payment
		secret string
	)
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var err error
		p, secret, err = s.StartStripe(ctx, tx, t.ID, PurposeTopup, "", userID, amount, method, idemKey)
		return err
	})
	return p, secret, err
}

// TopupStaff credits a wallet on staff's word, with the reason kept in the journal.
func (s *Service) TopupStaff(ctx context.Context, t *tenancy.Tenant, userID string, amount ledger.Money, actor, reason string) (*Payment, error) {
	var p *Payment
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var err error
		p, err = s.TopupByStaff(tx, userID, amount, actor, reason)
		return err
	})
	return p, err
}

// RegisterWalletHTTP adds the wallet operations.
func RegisterWalletHTTP(api huma.API, s *Service) {
	tenant := httpx.ScopeTenant
	httpx.Register(api, huma.Operation{OperationID: "get-wallet", Method: http.MethodGet, Path: "/api/v1/me/wallet", Tags: []string{"wallet"},
		Summary: "My wallet balance and its history"},
		httpx.SignedIn(tenant), func(ctx context.Context, in *walletInput) (*walletOutput, error) {
			p, _ := httpx.PrincipalFrom(ctx)
			v, err := s.WalletOf(ctx, httpx.HostFrom(ctx).Tenant, p.UserID, in.Before, in.Limit)
			if err != nil {
				return nil, Problems.Map(err)
			}
			return &walletOutput{Body: v}, nil
		})
	httpx.Register(api, huma.Operation{OperationID: "topup-wallet", Method: http.MethodPost, Path: "/api/v1/me/wallet/topups", Tags: []string{"wallet"},
		Summary:     "Top up my wallet by card, Alipay or WeChat Pay",
		Description: "Starts a Stripe payment; the wallet is credited when Stripe confirms it. Send an Idempotency-Key.",
		Errors:      []int{http.StatusConflict}},
		httpx.SignedIn(tenant).WithIdempotency(), func(ctx context.Context, in *topupInput) (*topupOutput, error) {
			p, _ := httpx.PrincipalFrom(ctx)
			key := httpx.IdempotencyKey(ctx)
			if key == "" {
				key = uuid.NewString() // no retry protection asked for: this request is its own key
			}
			pay, secret, err := s.TopupSelf(ctx, httpx.HostFrom(ctx).Tenant, p.UserID, ledger.Money(in.Body.Amount), in.Body.Method, key)
			if err != nil {
				return nil, Problems.Map(err)
			}
			out := &topupOutput{}
			out.Body.Payment, out.Body.ClientSecret, out.Body.PublishableKey = pay, secret, s.PublishableKey()
			return out, nil
		})
	httpx.Register(api, huma.Operation{OperationID: "staff-topup-wallet", Method: http.MethodPost, Path: "/api/v1/users/{userId}/wallet/topups", Tags: []string{"wallet"},
		Summary: "Credit a user's wallet (staff), with a reason kept in the ledger", Errors: []int{http.StatusNotFound}},
		httpx.Perm(tenant, "finance:topup").WithIdempotency(), func(ctx context.Context, in *staffTopupInput) (*staffTopupOutput, error) {
			p, _ := httpx.PrincipalFrom(ctx)
			pay, err := s.TopupStaff(ctx, httpx.HostFrom(ctx).Tenant, in.UserID, ledger.Money(in.Body.Amount), p.Actor(), in.Body.Reason)
			if err != nil {
				return nil, Problems.Map(err)
			}
			return &staffTopupOutput{Body: pay}, nil
		})
}

type walletInput struct {
	Before int64 `query:"before" minimum:"0"`
	Limit  int   `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

type walletOutput struct{ Body *WalletView }

type topupInput struct {
	Body struct {
		Amount int64  `json:"amount" minimum:"100" maximum:"500000" doc:"分, ¥1 to ¥5,000."`
		Method string `json:"method" enum:"card,alipay,wechat_pay"`
	}
}

type topupOutput struct {
	Body struct {
		Payment        *Payment `json:"payment"`
		ClientSecret   string   `json:"clientSecret" doc:"Stripe PaymentIntent client secret for the app to confirm."`
		PublishableKey string   `json:"publishableKey,omitempty" doc:"Stripe publishable key to confirm the payment with (Stripe.js); absent when the server has none configured, and the app cannot confirm it."`
	}
}

type staffTopupInput struct {
	UserID string `path:"userId" format:"uuid"`
	Body   struct {
		Amount int64  `json:"amount" minimum:"1" maximum:"500000" doc:"分."`
		Reason string `json:"reason" minLength:"1" maxLength:"200"`
	}
}

type staffTopupOutput struct{ Body *Payment }
