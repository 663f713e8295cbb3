// Package evidence checks the evidence partners hand kycd for externally
// performed checks (a zip of the verification's documents) before it is
// kept: nothing that could harm whoever opens it later is accepted.
package evidence

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Limits bound what a zip may hold.
type Limits struct {
	// MaxEntries is the most files (and folders) it may list.
	MaxEntries int
	// MaxUncompressed is the most bytes its entries may hold in all.
	MaxUncompressed int64
	// MaxRatio is the most an entry may expand (uncompressed over
	// compressed), past the first MiB: more is taken for a zip bomb.
	MaxRatio int64
}

// DefaultLimits are kycd's: 10,000 entries, 1 GiB uncompressed, 100:1.
var DefaultLimits = Limits{MaxEntries: 10_000, MaxUncompressed: 1 << 30, MaxRatio: 100}

// Reasons a zip is refused.
var (
	ErrNotZip      = errors.New("evidence: not a valid zip")
	ErrUnsafePath  = errors.New("evidence: an entry's name leaves its folder")
	ErrSpecialFile = errors.New("evidence: an entry is a link or a device")
	ErrOverlap     = errors.New("evidence: entries overlap")
	ErrBomb        = errors.New("evidence: the contents expand beyond the limits")
	ErrTooMany     = errors.New("evidence: too many entries")
	ErrEmpty       = errors.New("evidence: the zip holds no file")
)

// Problem returns a stable code for why CheckZip refused a zip, for
// clients: not_a_zip, unsafe_path, special_file, overlapping_entries,
// decompression_limit, too_many_entries, empty.
func Problem(err error) string {
	for _, p := range []struct {
		err  error
		code string
	}{{ErrUnsafePath, "unsafe_path"}, {ErrSpecialFile, "special_file"}, {ErrOverlap, "overlapping_entries"},
		{ErrBomb, "decompression_limit"}, {ErrTooMany, "too_many_entries"}, {ErrEmpty, "empty"}} {
		if errors.Is(err, p.err) {
			return p.code
		}
	}
	return "not_a_zip"
}

// CheckZip reads a whole zip and returns nil only if it is valid (every
// entry decompresses with its CRC), has no entry whose name is absolute,
// climbs out (..), uses backslashes or a drive letter, no symbolic link
// or device, no duplicate names or overlapping entries, and stays within
// the limits, counting the bytes actually inflated (declared sizes can lie).
func CheckZip(r io.ReaderAt, size int64, lim Limits) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotZip, err)
	}
	if len(zr.File) > lim.MaxEntries {
		return ErrTooMany
	}
	names := map[string]bool{}
	type span struct{ start, end int64 }
	spans := make([]span, 0, len(zr.File))
	for _, f := range zr.File {
		if !safeName(f.Name) {
			return fmt.Errorf("%w: %q", ErrUnsafePath, f.Name)
		}
		clean := strings.TrimSuffix(path.Clean(f.Name), "/")
		if names[clean] {
			return fmt.Errorf("%w: %q twice", ErrOverlap, f.Name)
		}
		names[clean] = true
		if f.Mode()&(fs.ModeSymlink|fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe|fs.ModeSocket|fs.ModeIrregular) != 0 {
			return fmt.Errorf("%w: %q", ErrSpecialFile, f.Name)
		}
		off, err := f.DataOffset()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNotZip, err)
		}
		spans = append(spans, span{off, off + int64(f.CompressedSize64)})
	}
	slices.SortFunc(spans, func(a, b span) int { return int(a.start - b.start) })
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			return ErrOverlap
		}
	}
	var total int64
	files := 0
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		files++
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNotZip, err)
		}
		// Allowed: the ratio past the first MiB, and what is left of the total.
		allowed := min(lim.MaxUncompressed-total, (1<<20)+int64(f.CompressedSize64)*lim.MaxRatio)
		n, err := io.Copy(io.Discard, io.LimitReader(rc, allowed+1))
		rc.Close()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNotZip, err)
		}
		if n > allowed {
			return ErrBomb
		}
		total += n
	}
	if files == 0 {
		return ErrEmpty
	}
	return nil
}

// safeName reports whether a zip entry name stays inside its folder.
func safeName(name string) bool {
	if name == "" || strings.ContainsAny(name, "\\\x00") || strings.HasPrefix(name, "/") {
		return false
	}
	if len(name) >= 2 && name[1] == ':' { // C:...
		return false
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return false
		}
	}
	return true
}
