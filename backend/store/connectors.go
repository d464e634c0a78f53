package store

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/patchbay/patchbay/backend"
	bolt "go.etcd.io/bbolt"
)

// ListConnectors returns every connector, ordered by name.
func (db *DB) ListConnectors(ctx context.Context) ([]*backend.Connector, error) {
	var out []*backend.Connector
	err := db.view(ctx, func(tx *bolt.Tx) (err error) {
		out, err = decodeAll[backend.Connector](tx.Bucket(bucketConnectors))
		return err
	})
	slices.SortFunc(out, func(a, b *backend.Connector) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out, err
}

// GetConnector returns the connector with the given ID.
func (db *DB) GetConnector(ctx context.Context, id string) (*backend.Connector, error) {
	c := new(backend.Connector)
	var ok bool
	err := db.view(ctx, func(tx *bolt.Tx) (err error) {
		ok, err = getJSON(tx.Bucket(bucketConnectors), id, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("connector", id, fixConnector)
	}
	return c, nil
}

// FindConnector returns the connector whose ID, slug or name (ignoring case)
// is ref.
func (db *DB) FindConnector(ctx context.Context, ref string) (*backend.Connector, error) {
	if c, err := db.GetConnector(ctx, ref); err == nil {
		return c, nil
	}
	all, err := db.ListConnectors(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range all {
		if c.Slug == ref || strings.EqualFold(c.Name, strings.TrimSpace(ref)) {
			return c, nil
		}
	}
	return nil, notFound("connector", ref, fixConnector)
}

// PutConnector creates or replaces a connector. It refuses a connector that
// still carries a secret value: only references may be persisted.
func (db *DB) PutConnector(ctx context.Context, c *backend.Connector) error {
	if c.ID == "" {
		return backend.Errorf(backend.EINTERNAL, "A connector without an ID cannot be saved.")
	}
	if c.HasSecretValues() {
		return backend.Errorf(backend.EINTERNAL, "Refusing to save connector %q: a secret value would reach the database.", c.Name).
			WithSlug("secret_on_disk_refused")
	}
	return db.update(ctx, func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketConnectors), c.ID, c)
	})
}

// SetDetectedTransport remembers which transport worked for a connector.
func (db *DB) SetDetectedTransport(ctx context.Context, id, transport string) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketConnectors)
		c := new(backend.Connector)
		ok, err := getJSON(b, id, c)
		if err != nil || !ok {
			return err // a connector deleted meanwhile needs nothing remembered
		}
		if c.DetectedTransport == transport {
			return nil
		}
		c.DetectedTransport = transport
		return putJSON(b, id, c)
	})
}

// DeleteConnector removes a connector, its tools and its place in every
// conversation, in one transaction.
func (db *DB) DeleteConnector(ctx context.Context, id string) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketConnectors)
		if b.Get([]byte(id)) == nil {
			return notFound("connector", id, fixConnector)
		}
		if err := b.Delete([]byte(id)); err != nil {
			return err
		}
		tools := tx.Bucket(bucketTools)
		if tools.Bucket([]byte(id)) != nil {
			if err := tools.DeleteBucket([]byte(id)); err != nil {
				return err
			}
		}
		convs := tx.Bucket(bucketConversations)
		return convs.ForEach(func(k, v []byte) error {
			var conv backend.Conversation
			if err := json.Unmarshal(v, &conv); err != nil {
				return err
			}
			if !conv.Enabled(id) {
				return nil
			}
			conv.Connectors = slices.DeleteFunc(conv.Connectors, func(s string) bool { return s == id })
			conv.UpdatedAt = db.now()
			return putJSON(convs, conv.ID, &conv)
		})
	})
}

// ListTools returns the stored tools of a connector ordered by name.
func (db *DB) ListTools(ctx context.Context, connectorID string) ([]*backend.Tool, error) {
	var out []*backend.Tool
	err := db.view(ctx, func(tx *bolt.Tx) (err error) {
		out, err = decodeAll[backend.Tool](tx.Bucket(bucketTools).Bucket([]byte(connectorID)))
		return err
	})
	return out, err
}

// ReplaceTools replaces the stored tools of a connector with tools.
func (db *DB) ReplaceTools(ctx context.Context, connectorID string, tools []*backend.Tool) error {
	return db.UpdateTools(ctx, connectorID, func([]*backend.Tool) ([]*backend.Tool, error) { return tools, nil })
}

// UpdateTools replaces a connector's tools with what fn makes of the stored
// ones, in one transaction, so a concurrent policy change cannot be lost
// between reading and writing.
//
// Concurrent calls share one transaction (bbolt's Batch): when many
// connectors connect at once, as on the first tools/list after start-up,
// they pay for one disk sync instead of one each. fn may therefore run more
// than once and must only compute.
func (db *DB) UpdateTools(ctx context.Context, connectorID string, fn func(stored []*backend.Tool) ([]*backend.Tool, error)) error {
	return db.batch(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketConnectors).Get([]byte(connectorID)) == nil {
			return notFound("connector", connectorID, fixConnector)
		}
		parent := tx.Bucket(bucketTools)
		stored, err := decodeAll[backend.Tool](parent.Bucket([]byte(connectorID)))
		if err != nil {
			return err
		}
		if parent.Bucket([]byte(connectorID)) != nil {
			if err := parent.DeleteBucket([]byte(connectorID)); err != nil {
				return err
			}
		}
		tools, err := fn(stored)
		if err != nil {
			return err
		}
		b, err := parent.CreateBucket([]byte(connectorID))
		if err != nil {
			return err
		}
		for _, t := range tools {
			if err := putJSON(b, t.Name, t); err != nil {
				return err
			}
		}
		return nil
	})
}

// UpdateTool applies fn to one stored tool and saves the result, in one
// transaction.
func (db *DB) UpdateTool(ctx context.Context, connectorID, name string, fn func(*backend.Tool) error) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTools).Bucket([]byte(connectorID))
		t := new(backend.Tool)
		if b == nil {
			return notFound("tool", name, fixTool)
		}
		ok, err := getJSON(b, name, t)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("tool", name, fixTool)
		}
		if err := fn(t); err != nil {
			return err
		}
		return putJSON(b, name, t)
	})
}
