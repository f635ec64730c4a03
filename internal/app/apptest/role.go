package apptest

import "github.com/paotui/paotui/internal/identity"

func identityRole(r string) identity.AdminRole { return identity.AdminRole(r) }
