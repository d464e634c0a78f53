package store

import (
	"path/filepath"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// SetSchemaVersionForTest overwrites the recorded schema version of the
// (closed) database in dir.
func SetSchemaVersionForTest(dir string, v int) error {
	db, err := bolt.Open(filepath.Join(dir, DBFile), 0o600, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, []byte(strconv.Itoa(v)))
	})
}
