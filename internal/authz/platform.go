package authz

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/paotui/paotui/configs"
)

// Platform admins have three fixed roles whose permissions ship in
// configs/rbac/platform_policy.csv; the enforcer is built once per process.
var (
	platformOnce sync.Once
	platformEnf  *casbin.SyncedEnforcer
	platformErr  error
)

func platformEnforcer() (*casbin.SyncedEnforcer, error) {
	platformOnce.Do(func() {
		modelText, err := configs.RBAC.ReadFile("rbac/platform_model.conf")
		if err != nil {
			platformErr = err
			return
		}
		policy, err := configs.RBAC.ReadFile("rbac/platform_policy.csv")
		if err != nil {
			platformErr = err
			return
		}
		m, err := model.NewModelFromString(string(modelText))
		if err != nil {
			platformErr = err
			return
		}
		enf, err := casbin.NewSyncedEnforcer(m)
		if err != nil {
			platformErr = err
			return
		}
		for n, line := range strings.Split(string(policy), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			f := strings.Split(line, ",")
			for i := range f {
				f[i] = strings.TrimSpace(f[i])
			}
			if len(f) != 4 || f[0] != "p" {
				platformErr = fmt.Errorf("platform_policy.csv line %d: want p, <role>, <resource>, <action>", n+1)
				return
			}
			if _, err := enf.AddPolicy(f[1], f[2], f[3]); err != nil {
				platformErr = err
				return
			}
		}
		platformEnf = enf
	})
	return platformEnf, platformErr
}

// CanPlatform reports whether a platform admin with role may do perm ("resource:action").
func (a *Authorizer) CanPlatform(_ context.Context, role, perm string) (bool, error) {
	enf, err := platformEnforcer()
	if err != nil {
		return false, err
	}
	obj, act, err := splitPermission(perm)
	if err != nil {
		return false, err
	}
	return enf.Enforce(role, obj, act)
}
