package evidence

import (
	"bytes"
	"crypto/rand"
	"io"
	"os"
	"testing"
)

// The scratch file reads back what was written, at any offset, while the
// disk holds none of it in the clear, and Close removes it.
func TestScratch(t *testing.T) {
	dir := t.TempDir()
	s, err := NewScratch(dir)
	if err != nil {
		t.Fatal(err)
	}
	plain := make([]byte, 100_003)
	rand.Read(plain)
	copy(plain[5000:], "PLAINTEXT-MARKER")
	// Written in uneven pieces, as a download arrives.
	for rest := plain; len(rest) > 0; {
		n := min(len(rest), 777)
		if _, err := s.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if s.Size() != int64(len(plain)) {
		t.Fatalf("size %d", s.Size())
	}
	onDisk, err := os.ReadFile(s.f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(onDisk, []byte("PLAINTEXT-MARKER")) || bytes.Equal(onDisk, plain) {
		t.Fatal("the scratch file holds plaintext")
	}
	for _, off := range []int64{0, 1, 15, 16, 17, 4999, 65535, 99_990} {
		got := make([]byte, 20)
		n, err := s.ReadAt(got, off)
		want := plain[off:min(off+20, int64(len(plain)))]
		if n != len(want) || !bytes.Equal(got[:n], want) {
			t.Fatalf("ReadAt(%d): %d %v", off, n, err)
		}
		if int(off)+20 > len(plain) && err != io.EOF {
			t.Fatalf("ReadAt(%d) past the end: %v", off, err)
		}
	}
	all, err := io.ReadAll(s.Reader())
	if err != nil || !bytes.Equal(all, plain) {
		t.Fatalf("read back: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}

// A space is removed on Close; opening one removes the spaces of dead
// processes (their lock is free) but not those of live ones.
func TestSpace(t *testing.T) {
	root := t.TempDir()
	live, err := OpenSpace(root)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	// A dead process's space: its lock file exists, nobody holds it.
	deadDir := root + "/1-1"
	if err := os.MkdirAll(deadDir, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(deadDir+"/.lock", nil, 0o600)
	os.WriteFile(deadDir+"/kycd-evidence-1", []byte("ciphertext"), 0o600)
	second, err := OpenSpace(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(deadDir); !os.IsNotExist(err) {
		t.Errorf("the dead space is still there: %v", err)
	}
	if _, err := os.Stat(live.Dir); err != nil {
		t.Errorf("the live space was removed: %v", err)
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(second.Dir); !os.IsNotExist(err) {
		t.Errorf("a closed space remains")
	}
}
