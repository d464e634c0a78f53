package store

import (
	"context"
	"slices"
	"time"

	"github.com/patchbay/patchbay/backend"
	bolt "go.etcd.io/bbolt"
)

// storedToken is the on-disk form of a client token: the domain type hides
// the hash from JSON so that it never reaches an API response.
type storedToken struct {
	backend.ClientToken
	Hash string `json:"hash"`
}

// PutToken creates or replaces a client token (with its hash).
func (db *DB) PutToken(ctx context.Context, t *backend.ClientToken) error {
	if t.Hash == "" {
		return backend.Errorf(backend.EINTERNAL, "A client token without a hash cannot be saved.")
	}
	return db.update(ctx, func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketTokens), t.ID, &storedToken{ClientToken: *t, Hash: t.Hash})
	})
}

// ListTokens returns every client token, oldest first, with hashes.
func (db *DB) ListTokens(ctx context.Context) ([]*backend.ClientToken, error) {
	var stored []*storedToken
	err := db.view(ctx, func(tx *bolt.Tx) (err error) {
		stored, err = decodeAll[storedToken](tx.Bucket(bucketTokens))
		return err
	})
	out := make([]*backend.ClientToken, 0, len(stored))
	for _, s := range stored {
		t := s.ClientToken
		t.Hash = s.Hash
		out = append(out, &t)
	}
	slices.SortFunc(out, func(a, b *backend.ClientToken) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, err
}

// DeleteToken removes a client token.
func (db *DB) DeleteToken(ctx context.Context, id string) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		if b.Get([]byte(id)) == nil {
			return notFound("client token", id, fixToken)
		}
		return b.Delete([]byte(id))
	})
}

// TouchTokens records when tokens were last used, in one transaction.
func (db *DB) TouchTokens(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	return db.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		for id, at := range used {
			var s storedToken
			ok, err := getJSON(b, id, &s)
			if err != nil {
				return err
			}
			if !ok || !at.After(s.LastUsedAt) {
				continue // revoked meanwhile, or an older reading
			}
			s.LastUsedAt = at
			if err := putJSON(b, id, &s); err != nil {
				return err
			}
		}
		return nil
	})
}
