package clients

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/patchbay/patchbay/backend"
)

// maxConfigSize bounds the configuration files Patchbay reads: the largest
// real one (~/.claude.json with a long project history) is a few MiB.
const maxConfigSize = 32 << 20

// readConfig returns the file's bytes and whether it exists.
func readConfig(path string) ([]byte, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fileError("read", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, false, fileError("read", path, err)
	}
	if len(b) > maxConfigSize {
		return nil, false, backend.Errorf(backend.EINVALID, "%s is larger than %d MiB; Patchbay does not edit it.", path, maxConfigSize>>20).
			WithSlug("config_too_large").WithFix("Add the entry by hand with the snippet below.")
	}
	return b, true, nil
}

// writeConfig replaces the file at path with b atomically (a temporary
// file in the same directory, renamed over it), keeping its permissions.
// A symbolic link (dotfile managers) is followed, so the link survives. New
// files are private (0600): they hold a token.
func writeConfig(path string, b []byte) error {
	target := path
	if real, err := filepath.EvalSymlinks(path); err == nil {
		target = real
	}
	mode := fs.FileMode(0o600)
	if st, err := os.Stat(target); err == nil {
		mode = st.Mode().Perm()
	}
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fileError("create the folder for", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".patchbay-*")
	if err != nil {
		return fileError("write", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fileError("write", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fileError("write", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fileError("write", path, err)
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return fileError("write", path, err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fileError("write", path, err)
	}
	return nil
}

// removeConfig deletes the file (following a symbolic link to its target
// would delete someone's dotfile; the link itself goes).
func removeConfig(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fileError("remove", path, err)
	}
	return nil
}

func fileError(verb, path string, err error) error {
	fix := "Check that the file and its folder belong to you and are writable, then try again."
	if errors.Is(err, fs.ErrPermission) {
		fix = "Patchbay may not change this file: check its permissions (and that the client is not holding it locked), then try again."
	}
	cause := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		cause = pe.Err // the path is in the message already
	}
	return &backend.Error{
		Code: backend.EUNAVAILABLE, Slug: "config_io", Err: err,
		Message:      fmt.Sprintf("Cannot %s %s: %v.", verb, path, cause),
		SuggestedFix: fix,
	}
}

func hashBytes(b []byte, exists bool) string {
	if !exists {
		return "missing"
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// backup copies the current bytes of a configuration file into dir, named
// after the client and the time, and returns the copy's path. Backups hold
// tokens, so they are private to the user.
func backup(dir, clientID, path string, b []byte, now time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fileError("create the backup folder", dir, err)
	}
	base := strings.TrimPrefix(filepath.Base(path), ".")
	name := fmt.Sprintf("%s-%s-%s", clientID, now.UTC().Format("20060102T150405.000000Z"), base)
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fileError("write the backup", p, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return "", fileError("write the backup", p, err)
	}
	if err := f.Close(); err != nil {
		return "", fileError("write the backup", p, err)
	}
	return p, nil
}
