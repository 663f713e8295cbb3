package snapshot

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"

	"github.com/kycd/kycd"
)

// TestDigests: the bundled files are those README.md names.
func TestDigests(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"data/ofac-sdn/sdn.csv.gz":          "2a08fac873a3be0b92208f8874b2e7c138b7938190eeeb7ef991c15ba60e855b",
		"data/ofac-sdn/alt.csv.gz":          "82403d348e2209bf9533fbecdd3c0e1ae4e30fd75af8a8da99ea749a7f914949",
		"data/ofac-sdn/add.csv.gz":          "c98720815c4589ccd17f6f535b8f9facc6993a93b460e227d83a8bd804f93890",
		"data/ofac-sdn/sdn_comments.csv.gz": "ca007d3fbb52990034c52318f9d108ae357fa18295d8743f7f2a3bb407191836",
		"data/un/consolidated.xml.gz":       "66b392a4090868d2d39161e8d748efd39138377b0e6e60b7921aa67a4f99c8bf",
		"data/eu-fsf/fsf-sample.xml.gz":     "9d44c93902074bb4c8f9a8a9cd64a3c89f49acee8a13783d3ab8cae7cda08fbd",
	}
	for path, digest := range want {
		f, err := files.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.Copy(h, zr); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if got := hex.EncodeToString(h.Sum(nil)); got != digest {
			t.Errorf("%s: sha256 %s, README says %s", path, got, digest)
		}
	}
}

func TestEntries(t *testing.T) {
	t.Parallel()
	all, err := Entries()
	if err != nil {
		t.Fatal(err)
	}
	for source, n := range map[string]int{kycd.SourceOFACSDN: 8976, kycd.SourceUN: 1003, kycd.SourceEUFSF: 5} {
		if len(all[source]) != n {
			t.Errorf("%s: %d entries, want %d", source, len(all[source]), n)
		}
	}
	if len(all) != len(Sources) {
		t.Errorf("%d sources", len(all))
	}
	if _, err := Load("csl"); err == nil {
		t.Error("Load of an unknown source: no error")
	}
	if _, err := FS("csl"); err == nil {
		t.Error("FS of an unknown source: no error")
	}
}
