package keyfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestCreate: a new file in a new folder, owner-only, with the content;
// an existing file is never replaced.
func TestCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "master-key.json")
	if err := Create(path, []byte("first")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if di, err := os.Stat(filepath.Dir(path)); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("folder: %v %v, want 0700", di.Mode().Perm(), err)
	}
	if err := Create(path, []byte("second")); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("creating over an existing key: %v, want fs.ErrExist", err)
	}
	if raw, _ := os.ReadFile(path); string(raw) != "first" {
		t.Fatalf("the existing key was replaced: %q", raw)
	}
}
