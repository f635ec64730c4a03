package identity

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/pii"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Roles is what the identity operations need of authorization; authz implements it.
type Roles interface {
	RolesOf(ctx context.Context, t *tenancy.Tenant, userID string) ([]string, error)
	PermissionsOf(ctx context.Context, t *tenancy.Tenant, userID string) ([]string, error)
	Members(ctx context.Context, t *tenancy.Tenant, roles []string) (map[string][]string, error)
	GrantTx(tx *gorm.DB, t *tenancy.Tenant, userID, role string) error
	RevokeTx(tx *gorm.DB, t *tenancy.Tenant, userID, role string) error
	Invalidate(ctx context.Context, t *tenancy.Tenant) error
}

// problems is the HTTP meaning of identity's errors.
var problems = httpx.ProblemTable{
	httpx.Rule(ErrInvalidPhone, http.StatusUnprocessableEntity, "invalid_phone", "enter an 11-digit mainland mobile number"),
	httpx.Rule(ErrCodeInvalid, http.StatusUnauthorized, "sms_code_invalid", "the code is wrong; check the SMS and try again"),
	httpx.Rule(ErrCodeExpired, http.StatusUnauthorized, "sms_code_expired", "the code has expired or was never sent; request a new one"),
	httpx.Rule(ErrCodeBurnt, http.StatusUnauthorized, "sms_code_burnt", "too many wrong tries; request a new code"),
	httpx.Rule(ErrTooManyRequests, http.StatusTooManyRequests, "rate_limited", "too many attempts; wait a little and try again"),
	httpx.Rule(ErrBadCredentials, http.StatusUnauthorized, "bad_credentials", "phone (or e-mail) and password do not match"),
	httpx.Rule(ErrUserDisabled, http.StatusForbidden, "account_disabled", "this account is disabled; contact the service"),
	httpx.Rule(ErrUserNotFound, http.StatusNotFound, "user_not_found", "no such user"),
	httpx.Rule(ErrRefreshInvalid, http.StatusUnauthorized, "refresh_token_invalid", "the session has ended; sign in again"),
	httpx.Rule(ErrRefreshReused, http.StatusUnauthorized, "refresh_token_reused", "this session was revoked because its token was used twice; sign in again"),
	httpx.Rule(ErrPasswordTooShort, http.StatusUnprocessableEntity, "password_too_short", ""),
	httpx.Rule(ErrInvalidName, http.StatusUnprocessableEntity, "invalid_name", ""),
	httpx.Rule(ErrInvalidEmail, http.StatusUnprocessableEntity, "invalid_email", ""),
	httpx.Rule(errRoleNotGrantable, http.StatusUnprocessableEntity, "role_not_grantable", ""),
}

// RoleProblems maps the authorizer's errors; set by the wiring (authz must not be imported here).
var RoleProblems httpx.ProblemTable

func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if p := problems.Map(err); p != err {
		return p
	}
	return RoleProblems.Map(err)
}

type httpHandlers struct {
	svc   *Service
	roles Roles
}

// RegisterHTTP adds the identity operations: sign-in for tenant users and platform admins,
// the caller's profile, the user directory and staff roles.
func RegisterHTTP(api huma.API, svc *Service, roles Roles) {
	h := &httpHandlers{svc: svc, roles: roles}
	auth := httpx.Access{Scope: httpx.ScopeTenant, WhileSuspended: true}
	httpx.Register(api, huma.Operation{
		OperationID: "send-sms-code", Method: http.MethodPost, Path: "/api/v1/auth/sms-code", Tags: []string{"auth"},
		Summary: "Send a sign-in code by SMS", DefaultStatus: http.StatusAccepted,
		Errors: []int{http.StatusTooManyRequests},
	}, auth, h.sendCode)
	httpx.Register(api, huma.Operation{
		OperationID: "login", Method: http.MethodPost, Path: "/api/v1/auth/login", Tags: []string{"auth"},
		Summary:     "Sign in with phone and SMS code (anyone) or phone and password (staff)",
		Description: "A first sign-in with an SMS code creates the account as a student.",
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests},
	}, auth, h.login)
	httpx.Register(api, huma.Operation{
		OperationID: "refresh-token", Method: http.MethodPost, Path: "/api/v1/auth/refresh", Tags: []string{"auth"},
		Summary:     "Swap a refresh token for a new session",
		Description: "Refresh tokens rotate: the one sent stops working. Sending an already used one revokes the session everywhere.",
		Errors:      []int{http.StatusUnauthorized},
	}, auth, h.refresh)
	httpx.Register(api, huma.Operation{
		OperationID: "logout", Method: http.MethodPost, Path: "/api/v1/auth/logout", Tags: []string{"auth"},
		Summary: "End a session (revokes its refresh token family)", DefaultStatus: http.StatusNoContent,
	}, auth, h.logout)
	me := httpx.SignedIn(httpx.ScopeTenant)
	me.WhileSuspended = true
	httpx.Register(api, huma.Operation{
		OperationID: "get-me", Method: http.MethodGet, Path: "/api/v1/me", Tags: []string{"me"},
		Summary: "The signed-in user, their roles and permissions",
	}, me, h.me)
	httpx.Register(api, huma.Operation{
		OperationID: "update-me", Method: http.MethodPatch, Path: "/api/v1/me", Tags: []string{"me"},
		Summary: "Change my name or set my password",
	}, httpx.SignedIn(httpx.ScopeTenant), h.updateMe)
	httpx.Register(api, huma.Operation{
		OperationID: "list-users", Method: http.MethodGet, Path: "/api/v1/users", Tags: []string{"users"},
		Summary: "List users (phones and names masked)",
	}, httpx.Perm(httpx.ScopeTenant, "users:read"), h.listUsers)
	httpx.Register(api, huma.Operation{
		OperationID: "get-user-pii", Method: http.MethodGet, Path: "/api/v1/users/{userId}/pii", Tags: []string{"users"},
		Summary: "Reveal a user's phone and name (audited)", Errors: []int{http.StatusNotFound},
	}, httpx.Perm(httpx.ScopeTenant, "pii:read"), h.revealUser)
	httpx.Register(api, huma.Operation{
		OperationID: "list-staff", Method: http.MethodGet, Path: "/api/v1/staff", Tags: []string{"staff"},
		Summary: "List staff and their roles",
	}, httpx.Perm(httpx.ScopeTenant, "staff:read"), h.listStaff)
	httpx.Register(api, huma.Operation{
		OperationID: "grant-role", Method: http.MethodPost, Path: "/api/v1/staff/roles", Tags: []string{"staff"},
		Summary:     "Grant a staff role to a phone number",
		Description: "Creates the account if the phone has never signed in; they sign in with an SMS code.",
		Errors:      []int{http.StatusConflict},
	}, httpx.Perm(httpx.ScopeTenant, "roles:manage"), h.grant)
	httpx.Register(api, huma.Operation{
		OperationID: "revoke-role", Method: http.MethodDelete, Path: "/api/v1/staff/{userId}/roles/{role}", Tags: []string{"staff"},
		Summary: "Revoke a staff role", DefaultStatus: http.StatusNoContent,
		Errors: []int{http.StatusNotFound, http.StatusConflict},
	}, httpx.Perm(httpx.ScopeTenant, "roles:manage"), h.revoke)
	httpx.Register(api, huma.Operation{
		OperationID: "list-audit-log", Method: http.MethodGet, Path: "/api/v1/audit-log", Tags: []string{"audit"},
		Summary: "Audit trail: sign-ins, role changes, reads of personal data",
	}, httpx.Perm(httpx.ScopeTenant, "audit:read"), h.auditLog)
	registerPlatformHTTP(api, h)
}

func tenantOf(ctx context.Context) *tenancy.Tenant { return httpx.HostFrom(ctx).Tenant }

type phoneBody struct {
	Phone string `json:"phone" minLength:"1" maxLength:"20" example:"13800000000" doc:"Mainland mobile number; +86 and spaces are accepted."`
}

type sendCodeInput struct{ Body phoneBody }

type sendCodeOutput struct {
	Body struct {
		ResendAfterSeconds int `json:"resendAfterSeconds" doc:"Seconds before another code may be requested."`
	}
}

func (h *httpHandlers) sendCode(ctx context.Context, in *sendCodeInput) (*sendCodeOutput, error) {
	wait, err := h.svc.SendCode(ctx, tenantOf(ctx), in.Body.Phone, httpx.ClientIP(ctx))
	if err != nil {
		return nil, mapErr(err)
	}
	out := &sendCodeOutput{}
	out.Body.ResendAfterSeconds = int(wait.Round(time.Second) / time.Second)
	return out, nil
}

type loginInput struct {
	Body struct {
		Phone    string `json:"phone" minLength:"1" maxLength:"20" example:"13800000000"`
		Code     string `json:"code,omitempty" maxLength:"6" pattern:"^[0-9]{6}$" doc:"The SMS code; give this or password."`
		Password string `json:"password,omitempty" maxLength:"128" doc:"Staff password; give this or code."`
	}
}

// SessionView is a signed-in session and who it belongs to.
type SessionView struct {
	Session
	User    MeView `json:"user"`
	Created bool   `json:"created" doc:"True when this sign-in created the account."`
}

type sessionOutput struct{ Body SessionView }

func (h *httpHandlers) login(ctx context.Context, in *loginInput) (*sessionOutput, error) {
	t := tenantOf(ctx)
	ip := httpx.ClientIP(ctx)
	var (
		sess    *Session
		u       *User
		created bool
		err     error
	)
	switch {
	case in.Body.Code != "" && in.Body.Password == "":
		sess, u, created, err = h.svc.LoginWithCode(ctx, t, in.Body.Phone, in.Body.Code, ip)
		if err == nil && created {
			// Everyone who signs up by SMS can post errands.
			if gerr := h.svc.db.InTenant(ctx, t, func(tx *gorm.DB) error { return h.roles.GrantTx(tx, t, u.ID, "student") }); gerr != nil {
				return nil, gerr
			}
			_ = h.roles.Invalidate(ctx, t)
		}
	case in.Body.Password != "" && in.Body.Code == "":
		sess, u, err = h.svc.LoginWithPassword(ctx, t, in.Body.Phone, in.Body.Password, ip)
	default:
		return nil, httpx.NewProblem(http.StatusUnprocessableEntity, "credentials_required", "send either code or password")
	}
	if err != nil {
		return nil, mapErr(err)
	}
	view, err := h.meView(ctx, t, u)
	if err != nil {
		return nil, err
	}
	return &sessionOutput{Body: SessionView{Session: *sess, User: *view, Created: created}}, nil
}

type refreshInput struct {
	Body struct {
		RefreshToken string `json:"refreshToken" minLength:"1" maxLength:"200"`
	}
}

type tokenOutput struct{ Body Session }

func (h *httpHandlers) refresh(ctx context.Context, in *refreshInput) (*tokenOutput, error) {
	sess, err := h.svc.Refresh(ctx, tenantOf(ctx), in.Body.RefreshToken, httpx.ClientIP(ctx))
	if err != nil {
		return nil, mapErr(err)
	}
	return &tokenOutput{Body: *sess}, nil
}

func (h *httpHandlers) logout(ctx context.Context, in *refreshInput) (*struct{}, error) {
	if err := h.svc.Logout(ctx, tenantOf(ctx), in.Body.RefreshToken); err != nil && mapErr(err) == err {
		return nil, err
	}
	return &struct{}{}, nil
}

// MeView is the signed-in user as they see themself.
type MeView struct {
	ID           string      `json:"id"`
	Phone        string      `json:"phone" doc:"The user's own phone, in full."`
	Name         string      `json:"name"`
	HasPassword  bool        `json:"hasPassword"`
	Roles        []string    `json:"roles"`
	Permissions  []string    `json:"permissions" doc:"resource:action strings; * is a wildcard. Show buttons by these."`
	Tenant       TenantBadge `json:"tenant"`
	Impersonator string      `json:"impersonator,omitempty" doc:"Set when a platform admin acts as this user."`
	// ImpersonationExpiresAt lets the admin UI show a banner with a countdown.
	ImpersonationExpiresAt *time.Time `json:"impersonationExpiresAt,omitempty" doc:"When the platform admin's support session ends; set with impersonator."`
}

// TenantBadge names the tenant a session belongs to.
type TenantBadge struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

type meOutput struct{ Body MeView }

func (h *httpHandlers) me(ctx context.Context, _ *struct{}) (*meOutput, error) {
	t := tenantOf(ctx)
	p, _ := httpx.PrincipalFrom(ctx)
	u, err := h.svc.User(ctx, t, p.UserID)
	if err != nil {
		return nil, mapErr(err)
	}
	v, err := h.meView(ctx, t, u)
	if err != nil {
		return nil, err
	}
	v.Impersonator = p.ImpersonatorID
	if p.ImpersonatorID != "" {
		exp := p.ImpersonationExpiresAt
		v.ImpersonationExpiresAt = &exp
	}
	return &meOutput{Body: *v}, nil
}

func (h *httpHandlers) meView(ctx context.Context, t *tenancy.Tenant, u *User) (*MeView, error) {
	roles, err := h.roles.RolesOf(ctx, t, u.ID)
	if err != nil {
		return nil, err
	}
	perms, err := h.roles.PermissionsOf(ctx, t, u.ID)
	if err != nil {
		return nil, err
	}
	if roles == nil {
		roles = []string{}
	}
	if perms == nil {
		perms = []string{}
	}
	return &MeView{ID: u.ID, Phone: u.Phone, Name: u.Name, HasPassword: u.HasPassword, Roles: roles, Permissions: perms,
		Tenant: TenantBadge{Slug: t.Slug, Name: t.Name}}, nil
}

type updateMeInput struct {
	Body struct {
		Name     *string `json:"name,omitempty" maxLength:"64"`
		Password *string `json:"password,omitempty" minLength:"8" maxLength:"128" doc:"Set or change the password used for staff sign-in."`
	}
}

func (h *httpHandlers) updateMe(ctx context.Context, in *updateMeInput) (*meOutput, error) {
	t := tenantOf(ctx)
	p, _ := httpx.PrincipalFrom(ctx)
	if in.Body.Name != nil {
		if err := h.svc.SetName(ctx, t, p.UserID, *in.Body.Name); err != nil {
			return nil, mapErr(err)
		}
	}
	if in.Body.Password != nil {
		if err := h.svc.SetPassword(ctx, t, p.UserID, *in.Body.Password); err != nil {
			return nil, mapErr(err)
		}
	}
	return h.me(ctx, nil)
}

// UserRow is a user in the directory, personal data masked.
type UserRow struct {
	ID          string     `json:"id"`
	Phone       string     `json:"phone" doc:"Masked, e.g. 138****1234."`
	Name        string     `json:"name" doc:"Masked, e.g. 张*."`
	Status      Status     `json:"status"`
	Roles       []string   `json:"roles"`
	CreatedAt   time.Time  `json:"createdAt"`
	LastLoginAt *time.Time `json:"lastLoginAt,omitempty"`
}

type listUsersInput struct {
	Phone  string `query:"phone" maxLength:"20" doc:"Exact phone number to find (matched by blind index)."`
	Status string `query:"status" enum:"active,disabled," doc:"Only users in this status."`
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"20"`
	Offset int    `query:"offset" minimum:"0" maximum:"100000" default:"0"`
}

type listUsersOutput struct {
	Body struct {
		Items []UserRow `json:"items"`
		Total int64     `json:"total"`
	}
}

func (h *httpHandlers) listUsers(ctx context.Context, in *listUsersInput) (*listUsersOutput, error) {
	t := tenantOf(ctx)
	users, total, err := h.svc.ListUsers(ctx, t, UserFilter{Phone: in.Phone, Status: Status(in.Status), Limit: in.Limit, Offset: in.Offset})
	if err != nil {
		return nil, mapErr(err)
	}
	members, err := h.roles.Members(ctx, t, nil)
	if err != nil {
		return nil, err
	}
	out := &listUsersOutput{}
	out.Body.Total = total
	out.Body.Items = make([]UserRow, 0, len(users))
	for _, u := range users {
		out.Body.Items = append(out.Body.Items, maskedRow(u, members[u.ID]))
	}
	return out, nil
}

func maskedRow(u User, roles []string) UserRow {
	if roles == nil {
		roles = []string{}
	}
	return UserRow{ID: u.ID, Phone: pii.MaskPhone(u.Phone), Name: pii.MaskName(u.Name), Status: u.Status, Roles: roles,
		CreatedAt: u.CreatedAt, LastLoginAt: u.LastLoginAt}
}

type userIDInput struct {
	UserID string `path:"userId" format:"uuid"`
}

type revealOutput struct {
	Body struct {
		ID    string `json:"id"`
		Phone string `json:"phone"`
		Name  string `json:"name"`
	}
}

// revealUser shows personal data in clear; the read is audited in the same transaction as
// the decryption's source row is read, so no reveal goes unrecorded.
func (h *httpHandlers) revealUser(ctx context.Context, in *userIDInput) (*revealOutput, error) {
	t := tenantOf(ctx)
	p, _ := httpx.PrincipalFrom(ctx)
	u, err := h.svc.RevealUser(ctx, t, in.UserID, audit.Entry{Actor: p.Actor(), Action: "pii.read", IP: httpx.ClientIP(ctx)})
	if err != nil {
		return nil, mapErr(err)
	}
	out := &revealOutput{}
	out.Body.ID, out.Body.Phone, out.Body.Name = u.ID, u.Phone, u.Name
	return out, nil
}

type listStaffOutput struct {
	Body struct {
		Items []UserRow `json:"items"`
	}
}

// StaffRoles are the roles list-staff shows and grant-role hands out (plus custom roles).
var StaffRoles = []string{"owner", "admin", "dispatcher", "finance", "support"}

func (h *httpHandlers) listStaff(ctx context.Context, _ *struct{}) (*listStaffOutput, error) {
	t := tenantOf(ctx)
	members, err := h.roles.Members(ctx, t, nil)
	if err != nil {
		return nil, err
	}
	out := &listStaffOutput{}
	out.Body.Items = []UserRow{}
	for id, roles := range members {
		staff := roles[:0:0]
		for _, r := range roles {
			if r != "student" && r != "courier" {
				staff = append(staff, r)
			}
		}
		if len(staff) == 0 {
			continue
		}
		u, err := h.svc.User(ctx, t, id)
		if err != nil {
			continue // a rule for a user that no longer exists
		}
		out.Body.Items = append(out.Body.Items, maskedRow(*u, staff))
	}
	sortRows(out.Body.Items)
	return out, nil
}

type grantInput struct {
	Body struct {
		Phone string `json:"phone" minLength:"1" maxLength:"20" example:"13800000001"`
		Name  string `json:"name,omitempty" maxLength:"64"`
		Role  string `json:"role" minLength:"2" maxLength:"40" example:"dispatcher" doc:"owner, admin, dispatcher, finance, support or a custom role."`
	}
}

type grantOutput struct {
	Body struct {
		User    UserRow `json:"user"`
		Created bool    `json:"created" doc:"True when the phone had no account yet."`
	}
}

func (h *httpHandlers) grant(ctx context.Context, in *grantInput) (*grantOutput, error) {
	t := tenantOf(ctx)
	p, _ := httpx.PrincipalFrom(ctx)
	role := strings.TrimSpace(in.Body.Role)
	if role == "student" || role == "courier" {
		return nil, mapErr(errRoleNotGrantable)
	}
	var (
		u       *User
		created bool
	)
	err := h.svc.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var err error
		if u, created, err = h.svc.FindOrCreateUser(ctx, tx, t, in.Body.Phone, in.Body.Name); err != nil {
			return err
		}
		if h.svc.seatCheck != nil {
			if err := h.svc.seatCheck(ctx, t, u.ID, role); err != nil {
				return err
			}
		}
		if err := h.roles.GrantTx(tx, t, u.ID, role); err != nil {
			return err
		}
		return audit.Record(tx, audit.Entry{Actor: p.Actor(), Action: "roles.grant", Target: "user:" + u.ID, IP: httpx.ClientIP(ctx),
			Meta: map[string]any{"role": role, "created": created}})
	})
	if err != nil {
		return nil, mapErr(err)
	}
	_ = h.roles.Invalidate(ctx, t)
	roles, err := h.roles.RolesOf(ctx, t, u.ID)
	if err != nil {
		return nil, err
	}
	out := &grantOutput{}
	out.Body.User, out.Body.Created = maskedRow(*u, roles), created
	return out, nil
}

type revokeInput struct {
	UserID string `path:"userId" format:"uuid"`
	Role   string `path:"role" minLength:"2" maxLength:"40"`
}

func (h *httpHandlers) revoke(ctx context.Context, in *revokeInput) (*struct{}, error) {
	t := tenantOf(ctx)
	p, _ := httpx.PrincipalFrom(ctx)
	if _, err := h.svc.User(ctx, t, in.UserID); err != nil {
		return nil, mapErr(err)
	}
	err := h.svc.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		if err := h.roles.RevokeTx(tx, t, in.UserID, in.Role); err != nil {
			return err
		}
		return audit.Record(tx, audit.Entry{Actor: p.Actor(), Action: "roles.revoke", Target: "user:" + in.UserID, IP: httpx.ClientIP(ctx),
			Meta: map[string]any{"role": in.Role}})
	})
	if err != nil {
		return nil, mapErr(err)
	}
	_ = h.roles.Invalidate(ctx, t)
	return &struct{}{}, nil
}

type auditInput struct {
	Target string `query:"target" maxLength:"80" doc:"Only entries about this target, e.g. user:<id>."`
	Before int64  `query:"before" minimum:"0" doc:"Cursor: entries with an id below this (the last id of the previous page)."`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

type auditOutput struct {
	Body struct {
		Items      []audit.Row `json:"items"`
		NextBefore int64       `json:"nextBefore,omitempty" doc:"Pass as before to get the next page; absent on the last page."`
	}
}

func (h *httpHandlers) auditLog(ctx context.Context, in *auditInput) (*auditOutput, error) {
	var rows []audit.Row
	err := h.svc.db.InTenant(ctx, tenantOf(ctx), func(tx *gorm.DB) error {
		var err error
		rows, err = audit.List(tx, in.Target, in.Before, in.Limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &auditOutput{}
	out.Body.Items = rows
	if out.Body.Items == nil {
		out.Body.Items = []audit.Row{}
	}
	if len(rows) == in.Limit {
		out.Body.NextBefore = rows[len(rows)-1].ID
	}
	return out, nil
}
