package evidence

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"testing"
)

type entry struct {
	name string
	body []byte
	mode fs.FileMode
}

func makeZip(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// overlapping turns a one-entry zip into one whose central directory lists
// the entry twice, under two names, at the same data.
func overlapping(t *testing.T) []byte {
	z := makeZip(t, entry{name: "a", body: []byte("hello")})
	eocd := len(z) - 22
	if binary.LittleEndian.Uint32(z[eocd:]) != 0x06054b50 {
		t.Fatal("no end of central directory where expected")
	}
	cdSize := binary.LittleEndian.Uint32(z[eocd+12:])
	cdOff := binary.LittleEndian.Uint32(z[eocd+16:])
	cd := append([]byte(nil), z[cdOff:cdOff+cdSize]...)
	twin := append([]byte(nil), cd...)
	twin[46] = 'b' // the name follows the 46-byte record
	out := append(append(append([]byte(nil), z[:cdOff]...), cd...), twin...)
	end := append([]byte(nil), z[eocd:]...)
	binary.LittleEndian.PutUint16(end[8:], 2)
	binary.LittleEndian.PutUint16(end[10:], 2)
	binary.LittleEndian.PutUint32(end[12:], 2*cdSize)
	return append(out, end...)
}

// TestCheckZip: a normal zip passes; traversal, links, bombs, truncation,
// duplicates, overlapping entries and too many entries are refused.
func TestCheckZip(t *testing.T) {
	good := makeZip(t, entry{name: "id/front.png", body: bytes.Repeat([]byte("x"), 4096)}, entry{name: "id/", mode: fs.ModeDir | 0o755},
		entry{name: "report.pdf", body: []byte("%PDF-1.7 ...")})
	check := func(z []byte, lim Limits) error { return CheckZip(bytes.NewReader(z), int64(len(z)), lim) }
	if err := check(good, DefaultLimits); err != nil {
		t.Fatalf("good zip: %v", err)
	}
	for _, c := range []struct {
		name string
		zip  []byte
		lim  Limits
		want error
	}{
		{"parent", makeZip(t, entry{name: "../../etc/passwd", body: []byte("x")}), DefaultLimits, ErrUnsafePath},
		{"inner parent", makeZip(t, entry{name: "a/../../b", body: []byte("x")}), DefaultLimits, ErrUnsafePath},
		{"absolute", makeZip(t, entry{name: "/etc/passwd", body: []byte("x")}), DefaultLimits, ErrUnsafePath},
		{"backslash", makeZip(t, entry{name: "..\\evil", body: []byte("x")}), DefaultLimits, ErrUnsafePath},
		{"drive", makeZip(t, entry{name: "C:evil", body: []byte("x")}), DefaultLimits, ErrUnsafePath},
		{"symlink", makeZip(t, entry{name: "link", body: []byte("/etc/passwd"), mode: fs.ModeSymlink | 0o777}), DefaultLimits, ErrSpecialFile},
		{"bomb", makeZip(t, entry{name: "zeros", body: make([]byte, 50<<20)}), DefaultLimits, ErrBomb},
		{"total", makeZip(t, entry{name: "a", body: bytes.Repeat([]byte("ab"), 1<<19)}), Limits{MaxEntries: 10, MaxUncompressed: 1 << 19, MaxRatio: 1000}, ErrBomb},
		{"truncated", good[:len(good)/2], DefaultLimits, ErrNotZip},
		{"not a zip", []byte("%PDF-1.7"), DefaultLimits, ErrNotZip},
		{"duplicate", makeZip(t, entry{name: "a", body: []byte("1")}, entry{name: "a", body: []byte("2")}), DefaultLimits, ErrOverlap},
		{"overlap", overlapping(t), DefaultLimits, ErrOverlap},
		{"too many", good, Limits{MaxEntries: 2, MaxUncompressed: 1 << 30, MaxRatio: 100}, ErrTooMany},
	} {
		if err := check(c.zip, c.lim); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// A corrupted byte in the data fails its CRC.
	bad := append([]byte(nil), good...)
	bad[50] ^= 0xff // inside the first entry's compressed data
	if err := check(bad, DefaultLimits); !errors.Is(err, ErrNotZip) {
		t.Errorf("corrupted: %v", err)
	}
}

// FuzzCheckZip: no input makes CheckZip panic or accept an unsafe name.
func FuzzCheckZip(f *testing.F) {
	f.Add(makeZip(f, entry{name: "a.png", body: []byte("x")}))
	f.Add(makeZip(f, entry{name: "../a", body: []byte("x")}))
	f.Fuzz(func(t *testing.T, z []byte) {
		if CheckZip(bytes.NewReader(z), int64(len(z)), Limits{MaxEntries: 100, MaxUncompressed: 1 << 20, MaxRatio: 100}) != nil {
			return
		}
		zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
		if err != nil {
			t.Fatal("accepted what archive/zip cannot read")
		}
		for _, f := range zr.File {
			if !safeName(f.Name) {
				t.Fatalf("accepted %q", f.Name)
			}
		}
	})
}

func TestEmptyZipRefused(t *testing.T) {
	z := makeZip(t, entry{name: "docs/", mode: fs.ModeDir | 0o755})
	if err := CheckZip(bytes.NewReader(z), int64(len(z)), DefaultLimits); !errors.Is(err, ErrEmpty) || Problem(err) != "empty" {
		t.Fatalf("empty zip: %v", err)
	}
}
