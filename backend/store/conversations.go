package store

import (
	"context"
	"slices"
	"strings"

	"github.com/patchbay/patchbay/backend"
	bolt "go.etcd.io/bbolt"
)

// ListConversations returns every conversation, the default one first and
// the rest by name.
func (db *DB) ListConversations(ctx context.Context) ([]*backend.Conversation, error) {
	var out []*backend.Conversation
	err := db.view(ctx, func(tx *bolt.Tx) (err error) {
		out, err = decodeAll[backend.Conversation](tx.Bucket(bucketConversations))
		return err
	})
	slices.SortFunc(out, func(a, b *backend.Conversation) int {
		switch {
		case a.IsDefault():
			return -1
		case b.IsDefault():
			return 1
		}
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out, err
}

// FindConversation returns the conversation whose ID, slug or name
// (ignoring case) is ref.
func (db *DB) FindConversation(ctx context.Context, ref string) (*backend.Conversation, error) {
	all, err := db.ListConversations(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range all {
		if c.ID == ref || c.Slug == ref {
			return c, nil
		}
	}
	for _, c := range all {
		if strings.EqualFold(c.Name, strings.TrimSpace(ref)) {
			return c, nil
		}
	}
	return nil, notFound("conversation", ref, fixConversation)
}

// PutConversation creates or replaces a conversation.
func (db *DB) PutConversation(ctx context.Context, c *backend.Conversation) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketConversations), c.ID, c)
	})
}

// DeleteConversation removes a conversation. The default conversation
// cannot be removed.
func (db *DB) DeleteConversation(ctx context.Context, id string) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketConversations)
		var c backend.Conversation
		ok, err := getJSON(b, id, &c)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("conversation", id, fixConversation)
		}
		if c.IsDefault() {
			return backend.Errorf(backend.EINVALID, "The default conversation cannot be deleted.").
				WithSlug("default_conversation").
				WithFix("Disable its connectors instead, or rename it.")
		}
		return b.Delete([]byte(id))
	})
}
