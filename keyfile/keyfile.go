// Package keyfile creates the files that hold kycd's secrets (the master
// key, the token signing key): once, readable by their owner only, whole or
// not at all.
package keyfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Create writes raw to a new file at path, mode 0600 (its folder created
// 0700 when missing). It never replaces a file: when path exists it
// returns an error satisfying errors.Is(err, fs.ErrExist), so that two
// processes starting at once cannot each write their own key. The content
// is synced before Create returns; on failure the partial file is removed.
func Create(path string, raw []byte) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", filepath.Base(path), err)
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			err = errors.Join(err, os.Remove(path))
		}
	}()
	if _, err := f.Write(raw); err != nil {
		return err
	}
	return f.Sync()
}
