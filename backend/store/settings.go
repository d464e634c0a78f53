package store

import (
	"context"

	"github.com/patchbay/patchbay/backend"
	bolt "go.etcd.io/bbolt"
)

func (db *DB) loadSettings() error {
	s := backend.DefaultSettings()
	err := db.bolt.View(func(tx *bolt.Tx) error {
		_, err := getJSON(tx.Bucket(bucketSettings), "settings", &s)
		return err
	})
	if err != nil {
		return err
	}
	db.settingsMu.Lock()
	db.settings = s
	db.settingsMu.Unlock()
	return nil
}

// Settings returns the current settings (cached; no I/O).
func (db *DB) Settings() backend.Settings {
	db.settingsMu.RLock()
	defer db.settingsMu.RUnlock()
	return db.settings
}

// PutSettings validates and saves settings.
func (db *DB) PutSettings(ctx context.Context, s *backend.Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	err := db.update(ctx, func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketSettings), "settings", s)
	})
	if err != nil {
		return err
	}
	db.settingsMu.Lock()
	db.settings = *s
	db.settingsMu.Unlock()
	return nil
}
