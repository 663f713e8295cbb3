package e2e

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/kycd/kycd/screening/lists/snapshot"
)

// WriteSnapshotFile writes the bundled copy of a single-file list (UN, EU)
// to a file, as an operator's download would be.
func WriteSnapshotFile(t *testing.T, source, name string) string {
	t.Helper()
	fsys, err := snapshot.FS(source)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fsys.Open(name + ".gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	return path
}

// ImportTestList imports the bundled EU sample (five listings) through the
// CLI: for tests whose users must be screened (a user is approved only once
// screened) without the cost of the whole snapshot.
func (k *Proc) ImportTestList(t *testing.T) {
	t.Helper()
	path := WriteSnapshotFile(t, "eu-fsf", "fsf-sample.xml")
	if out, err := k.CLI(t, "screening", "import", "--source", "eu-fsf", "--path", path); err != nil {
		t.Fatalf("import: %q %v", out, err)
	}
}
