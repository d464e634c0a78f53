package stdio

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"path/filepath"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/api"
)

// TokenLabel is the label of the bridge's client token in Patchbay's token
// list and activity log.
const TokenLabel = "stdio bridge (patchbay stdio)"

// TokenKey returns the keychain account that holds the bridge's client
// token for the data directory dir: "stdio-token" for the default one, a
// name derived from the path for any other, so that two Patchbays never
// take each other's token.
func TokenKey(dir, defaultDir string) string {
	if filepath.Clean(dir) == filepath.Clean(defaultDir) {
		return "stdio-token"
	}
	sum := sha256.Sum256([]byte(filepath.Clean(dir)))
	return "stdio-token-" + hex.EncodeToString(sum[:])[:12]
}

// KeychainToken returns a token source for Options.Token: the token kept
// in the keychain under key, issued through the admin API (admin) when
// there is none yet or when Patchbay refused the one kept.
func KeychainToken(sec backend.SecretStore, key string, admin *api.Client) func(ctx context.Context, fresh bool) (string, error) {
	return func(ctx context.Context, fresh bool) (string, error) {
		if !fresh {
			tok, err := sec.Get(ctx, key)
			if err == nil && tok != "" {
				return tok, nil
			}
			if err != nil && backend.ErrorCode(err) != backend.ENOTFOUND {
				return "", err
			}
		}
		var issued api.IssuedToken
		if err := admin.Do(ctx, http.MethodPost, "/api/v1/tokens", map[string]string{"label": TokenLabel, "client": "stdio"}, &issued); err != nil {
			return "", err
		}
		if err := sec.Set(ctx, key, issued.Token); err != nil {
			return "", err
		}
		return issued.Token, nil
	}
}
