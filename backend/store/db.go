// Package store keeps Patchbay's non-secret state in a bbolt database:
// connectors, tools and their policies, conversations, client tokens (hashed),
// settings and the activity log.
//
// Secrets never reach this package: connectors carry only keychain or
// environment references, and PutConnector refuses a connector that still
// holds a secret value, so a bug elsewhere cannot write one to disk.
//
// bbolt allows one process per database file. Open waits briefly for the
// file lock and then reports which process holds it, so a second Patchbay
// fails fast with "already running (pid …)" instead of hanging.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/patchbay/patchbay/backend"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// File names inside the data directory.
const (
	DBFile  = "patchbay.db"
	PIDFile = "patchbay.pid"
)

// Bucket names.
var (
	bucketMeta          = []byte("meta")
	bucketConnectors    = []byte("connectors")
	bucketTools         = []byte("tools") // one nested bucket per connector ID
	bucketConversations = []byte("conversations")
	bucketTokens        = []byte("tokens")
	bucketSettings      = []byte("settings")
	bucketActivity      = []byte("activity")
	bucketKV            = []byte("kv") // small namespaced state of other packages
)

var keySchema = []byte("schema_version")

// Options configure Open.
type Options struct {
	// LockTimeout bounds the wait for another process's lock. Default 500ms.
	LockTimeout time.Duration
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// ActivityFlushInterval is how long an activity entry may wait before it
	// is written in a batch. Default 50ms.
	ActivityFlushInterval time.Duration
	// OnActivity is called after entries are committed (with their Seq set).
	// It must not block.
	OnActivity func([]*backend.ActivityEntry)
}

// DB is the open database.
type DB struct {
	// closeMu guards bolt: transactions hold it shared, Close exclusively,
	// so closing never races a transaction started by another goroutine.
	closeMu sync.RWMutex
	bolt    *bolt.DB
	dir     string
	now     func() time.Time
	pidPath string

	activity *activityLog

	settingsMu sync.RWMutex
	settings   backend.Settings
}

// DefaultDir returns the data directory: $PATCHBAY_HOME when set, else
// OSDefaultDir.
func DefaultDir() (string, error) {
	if d := os.Getenv("PATCHBAY_HOME"); d != "" {
		return filepath.Abs(d)
	}
	return OSDefaultDir()
}

// OSDefaultDir returns "Patchbay" in the OS configuration directory: the
// data directory when PATCHBAY_HOME is not set.
func OSDefaultDir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", backend.Errorf(backend.EINTERNAL, "Cannot find the configuration directory: %v.", err).
			WithFix("Set PATCHBAY_HOME to a directory Patchbay may use for its data.")
	}
	return filepath.Join(base, "Patchbay"), nil
}

// Open opens (creating if needed) the database in dir, migrates it to the
// current schema and starts the activity writer.
func Open(dir string, opts *Options) (*DB, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = 500 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, backend.Errorf(backend.EINTERNAL, "Cannot create the data directory %s: %v.", dir, err).
			WithFix("Check the permissions of the directory, or set PATCHBAY_HOME to another one.")
	}
	path := filepath.Join(dir, DBFile)
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.LockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, alreadyRunning(dir)
	}
	if err != nil {
		return nil, backend.Errorf(backend.EINTERNAL, "Cannot open the database %s: %v.", path, err).
			WithFix("If the file is damaged, move it aside (Patchbay starts fresh) and re-add your connectors; secrets stay in the keychain.")
	}
	db := &DB{bolt: bdb, dir: dir, now: o.Now, pidPath: filepath.Join(dir, PIDFile)}
	if err := db.migrate(); err != nil {
		bdb.Close()
		return nil, err
	}
	if err := db.loadSettings(); err != nil {
		bdb.Close()
		return nil, err
	}
	// The lock is ours: record who holds it for the next process to report.
	_ = os.WriteFile(db.pidPath, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
	db.activity = newActivityLog(db, o.ActivityFlushInterval, o.OnActivity)
	return db, nil
}

// alreadyRunning builds the error for a database locked by another process.
func alreadyRunning(dir string) error {
	pid := "unknown pid"
	if b, err := os.ReadFile(filepath.Join(dir, PIDFile)); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			pid = "pid " + strconv.Itoa(n)
		}
	}
	return backend.Errorf(backend.ECONFLICT, "Patchbay is already running (%s) with the data directory %s.", pid, dir).
		WithSlug("already_running").
		WithFix("Use the running instance (the CLI talks to it automatically), or quit it first. To run a second, separate instance, set PATCHBAY_HOME to another directory.")
}

// Dir returns the data directory.
func (db *DB) Dir() string { return db.dir }

// Close flushes the activity log and closes the database. It is safe to
// call more than once.
func (db *DB) Close() error {
	if db.activity != nil {
		db.activity.close()
	}
	db.closeMu.Lock()
	defer db.closeMu.Unlock()
	if db.bolt == nil {
		return nil
	}
	err := db.bolt.Close()
	if err == nil {
		_ = os.Remove(db.pidPath)
	}
	db.bolt = nil
	return err
}

// Now returns the store's clock reading.
func (db *DB) Now() time.Time { return db.now() }

// SchemaVersion is the version of the layout this code writes.
const SchemaVersion = 1

// migrations[i] upgrades a database from schema i to i+1. Append, never edit:
// a migration that has shipped has run on someone's data.
var migrations = []func(tx *bolt.Tx, now time.Time) error{
	// 0 → 1: the initial layout, a default conversation and default settings.
	func(tx *bolt.Tx, now time.Time) error {
		for _, b := range [][]byte{bucketConnectors, bucketTools, bucketConversations, bucketTokens, bucketSettings, bucketActivity, bucketKV} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		conv := &backend.Conversation{
			ID: backend.NewID("v"), Name: "Default", Slug: backend.DefaultConversationSlug,
			Connectors: []string{}, CreatedAt: now, UpdatedAt: now,
		}
		if err := putJSON(tx.Bucket(bucketConversations), conv.ID, conv); err != nil {
			return err
		}
		s := backend.DefaultSettings()
		return putJSON(tx.Bucket(bucketSettings), "settings", &s)
	},
}

func (db *DB) migrate() error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		v := 0
		if b := meta.Get(keySchema); b != nil {
			v, _ = strconv.Atoi(string(b))
		}
		if v > len(migrations) {
			return backend.Errorf(backend.ECONFLICT, "The data in %s was written by a newer Patchbay (schema %d; this one knows up to %d).", db.dir, v, len(migrations)).
				WithSlug("schema_too_new").
				WithFix("Upgrade Patchbay, or point PATCHBAY_HOME at another directory.")
		}
		for ; v < len(migrations); v++ {
			if err := migrations[v](tx, db.now()); err != nil {
				return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
			}
		}
		return meta.Put(keySchema, []byte(strconv.Itoa(v)))
	})
}

// withBolt runs fn with the open database: closeMu held shared, so Close waits
// for it, and a cancelled request never starts a transaction.
func (db *DB) withBolt(ctx context.Context, fn func(b *bolt.DB) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	db.closeMu.RLock()
	defer db.closeMu.RUnlock()
	if db.bolt == nil {
		return errClosed
	}
	return fn(db.bolt)
}

func (db *DB) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	return db.withBolt(ctx, func(b *bolt.DB) error { return b.View(fn) })
}

func (db *DB) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	return db.withBolt(ctx, func(b *bolt.DB) error { return b.Update(fn) })
}

// batch is update through bbolt's Batch: concurrent callers are coalesced
// into one transaction. fn may be called more than once.
func (db *DB) batch(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	return db.withBolt(ctx, func(b *bolt.DB) error { return b.Batch(fn) })
}

var errClosed = backend.Errorf(backend.EUNAVAILABLE, "The database is closed (Patchbay is shutting down).")

func putJSON(b *bolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return b.Put([]byte(key), data)
}

// decodeAll decodes every value of bucket b; a nil bucket has none.
func decodeAll[T any](b *bolt.Bucket) ([]*T, error) {
	if b == nil {
		return nil, nil
	}
	var out []*T
	err := b.ForEach(func(k, v []byte) error {
		x := new(T)
		if err := json.Unmarshal(v, x); err != nil {
			return fmt.Errorf("decode %s: %w", k, err)
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

func getJSON(b *bolt.Bucket, key string, v any) (bool, error) {
	data := b.Get([]byte(key))
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("decode %s: %w", key, err)
	}
	return true, nil
}

// GetKV reads a value another package keeps in the namespaced KV bucket
// (non-secret state such as discovered OAuth metadata). ok is false when the
// key is absent.
func (db *DB) GetKV(ctx context.Context, namespace, key string, v any) (ok bool, err error) {
	err = db.view(ctx, func(tx *bolt.Tx) error {
		ok, err = getJSON(tx.Bucket(bucketKV), namespace+"/"+key, v)
		return err
	})
	return ok, err
}

// PutKV stores v (JSON) under namespace/key. It must never hold a secret.
func (db *DB) PutKV(ctx context.Context, namespace, key string, v any) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketKV), namespace+"/"+key, v)
	})
}

// DeleteKV deletes every key of namespace starting with prefix.
func (db *DB) DeleteKV(ctx context.Context, namespace, prefix string) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketKV).Cursor()
		p := []byte(namespace + "/" + prefix)
		for k, _ := c.Seek(p); k != nil && strings.HasPrefix(string(k), string(p)); k, _ = c.Seek(p) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}

// notFound builds an ENOTFOUND error for a kind of thing and a reference.
func notFound(kind, ref, fix string) error {
	return backend.Errorf(backend.ENOTFOUND, "No %s %q.", kind, ref).
		WithSlug(strings.ReplaceAll(kind, " ", "_") + "_not_found").
		WithFix(fix)
}

const (
	fixConnector    = "See the connectors with `patchbay connector list`."
	fixTool         = "See the connector's tools with `patchbay tools list CONNECTOR`."
	fixConversation = "See the conversations with `patchbay conversation list`."
	fixToken        = "See the tokens with `patchbay token list`."
)
