package lifecycle

import "strings"

// sealedFields names, for each column holding personal data sealed with the tenant's AEAD
// keyset, the pii field it was sealed for (the field is part of the associated data, so a
// value only opens under its own field). The field names are not derivable from the column:
// couriers and chat seal under "courier.*" and "orderchat.*". TestEverySealedColumnIsKnown
// fails when a migration adds a *_enc column this table does not name.
var sealedFields = map[string]string{
	"users.phone_enc":                 "users.phone",
	"users.name_enc":                  "users.name",
	"orders.form_enc":                 "orders.form",
	"orders.delivery_code_enc":        "orders.delivery_code",
	"courier_profiles.real_name_enc":  "courier.real_name",
	"courier_profiles.student_no_enc": "courier.student_no",
	"order_messages.body_enc":         "orderchat.body",
}

// sealedSuffix marks a column of sealed personal data; blindIndexSuffix a keyed HMAC of one,
// which is useless outside the platform (it only answers equality under the tenant's MAC key)
// and is left out of exports.
const (
	sealedSuffix     = "_enc"
	blindIndexSuffix = "_bidx"
)

// columnRole is what the export does with a column.
type columnRole int

const (
	plainColumn   columnRole = iota // exported as PostgreSQL renders it in JSON
	sealedColumn                    // opened with the tenant's keyset, exported under its name without _enc
	unknownSealed                   // looks sealed but no field is known: exported as stored
	omittedColumn                   // blind index: left out
)

// roleOf classifies column col of table.
func roleOf(table, col string) (columnRole, string) {
	switch {
	case strings.HasSuffix(col, blindIndexSuffix):
		return omittedColumn, ""
	case strings.HasSuffix(col, sealedSuffix):
		if f, ok := sealedFields[table+"."+col]; ok {
			return sealedColumn, f
		}
		return unknownSealed, ""
	}
	return plainColumn, ""
}
