package identity

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/httpx"
)

func registerPlatformHTTP(api huma.API, h *httpHandlers) {
	public := httpx.Public(httpx.ScopePlatform)
	httpx.Register(api, huma.Operation{
		OperationID: "platform-login", Method: http.MethodPost, Path: "/api/v1/platform/auth/login", Tags: []string{"platform"},
		Summary: "Platform admin sign-in (admin host only)",
		Errors:  []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests},
	}, public, h.platformLogin)
	httpx.Register(api, huma.Operation{
		OperationID: "platform-refresh-token", Method: http.MethodPost, Path: "/api/v1/platform/auth/refresh", Tags: []string{"platform"},
		Summary: "Swap a platform refresh token for a new session", Errors: []int{http.StatusUnauthorized},
	}, public, h.platformRefresh)
	httpx.Register(api, huma.Operation{
		OperationID: "platform-logout", Method: http.MethodPost, Path: "/api/v1/platform/auth/logout", Tags: []string{"platform"},
		Summary: "End a platform session", DefaultStatus: http.StatusNoContent,
	}, public, h.platformLogout)
	httpx.Register(api, huma.Operation{
		OperationID: "get-platform-me", Method: http.MethodGet, Path: "/api/v1/platform/me", Tags: []string{"platform"},
		Summary: "The signed-in platform admin",
	}, httpx.SignedIn(httpx.ScopePlatform), h.platformMe)
}

type platformLoginInput struct {
	Body struct {
		Email    string `json:"email" minLength:"3" maxLength:"254" format:"email"`
		Password string `json:"password" minLength:"1" maxLength:"128"`
	}
}

type platformSessionOutput struct {
	Body struct {
		Session
		Admin Admin `json:"admin"`
	}
}

func (h *httpHandlers) platformLogin(ctx context.Context, in *platformLoginInput) (*platformSessionOutput, error) {
	sess, a, err := h.svc.LoginAdmin(ctx, in.Body.Email, in.Body.Password, httpx.ClientIP(ctx))
	if err != nil {
		return nil, mapErr(err)
	}
	out := &platformSessionOutput{}
	out.Body.Session, out.Body.Admin = *sess, *a
	return out, nil
}

func (h *httpHandlers) platformRefresh(ctx context.Context, in *refreshInput) (*tokenOutput, error) {
	sess, err := h.svc.RefreshAdmin(ctx, in.Body.RefreshToken, httpx.ClientIP(ctx))
	if err != nil {
		return nil, mapErr(err)
	}
	return &tokenOutput{Body: *sess}, nil
}

func (h *httpHandlers) platformLogout(ctx context.Context, in *refreshInput) (*struct{}, error) {
	if err := h.svc.LogoutAdmin(ctx, in.Body.RefreshToken); err != nil && mapErr(err) == err {
		return nil, err
	}
	return &struct{}{}, nil
}

type platformMeOutput struct{ Body Admin }

func (h *httpHandlers) platformMe(ctx context.Context, _ *struct{}) (*platformMeOutput, error) {
	p, _ := httpx.PrincipalFrom(ctx)
	a, err := h.svc.Admin(ctx, p.UserID)
	if err != nil {
		return nil, mapErr(err)
	}
	return &platformMeOutput{Body: *a}, nil
}
