package identity

import (
	"fmt"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
)

// MinPasswordLength is the shortest password accepted, in characters.
const MinPasswordLength = 8

// passwordParams follow OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): a login costs a
// few tens of milliseconds and one lane per login keeps many concurrent logins from starving
// the CPU. Parameters travel inside each hash, so raising them later only affects new hashes.
var passwordParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

func hashPassword(password string) (string, error) {
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return "", ErrPasswordTooShort
	}
	h, err := argon2id.CreateHash(password, passwordParams)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// checkPassword reports whether password matches hash. An empty hash (no password set) is
// compared against dummy instead, so that an account without a password, or no account at all,
// takes as long to refuse as a wrong password and timing does not tell them apart.
func checkPassword(password, hash, dummy string) (bool, error) {
	if hash == "" {
		_, err := argon2id.ComparePasswordAndHash(password, dummy)
		return false, err
	}
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	if err != nil {
		return false, fmt.Errorf("compare password: %w", err)
	}
	return ok, nil
}
