package console

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kycd/kycd"
)

// safeTypes are every type a document may be served with.
var safeTypes = []string{"image/jpeg", "image/png", "application/pdf", "application/zip", "video/mp4", "video/mpeg", "application/octet-stream"}

// checkServed checks the one rule of servedType: inline only a PNG or JPEG
// that is one, every type an allow-listed one.
func checkServed(t *testing.T, f *kycd.File, head []byte) (string, string) {
	t.Helper()
	ctype, disposition := servedType(f, head)
	if !slices.Contains(safeTypes, ctype) {
		t.Fatalf("%s %q served as %s", f.ContentType, head, ctype)
	}
	if disposition == "inline" && (!slices.Contains(inlineTypes, ctype) || !strings.HasPrefix(http.DetectContentType(head), ctype)) {
		t.Fatalf("%s %q served inline as %s", f.ContentType, head, ctype)
	}
	if disposition != "inline" && disposition != "attachment" {
		t.Fatalf("disposition %q", disposition)
	}
	return ctype, disposition
}

// TestServedType: a document's content decides whether it is shown: HTML
// or SVG recorded as an image is a download, as is a type no category
// allows; a real PNG is shown.
func TestServedType(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	for _, c := range []struct {
		category, ctype string
		head            []byte
		want, disp      string
	}{
		{"image", "image/png", png, "image/png", "inline"},
		{"image", "image/png", []byte("<html><script>alert(1)</script>"), "image/png", "attachment"},
		{"image", "image/png", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), "image/png", "attachment"},
		{"document", "application/pdf", []byte("%PDF-1.7"), "application/pdf", "attachment"},
		{"evidence", "application/zip", []byte("PK\x03\x04"), "application/zip", "attachment"},
		{"image", "text/html", []byte("<html>"), "application/octet-stream", "attachment"},
		{"image", "image/svg+xml", []byte("<svg/>"), "application/octet-stream", "attachment"},
	} {
		f := &kycd.File{Category: c.category, ContentType: c.ctype}
		if ctype, disp := checkServed(t, f, c.head); ctype != c.want || disp != c.disp {
			t.Errorf("%s %q: %s %s, want %s %s", c.ctype, c.head, ctype, disp, c.want, c.disp)
		}
	}
}

// FuzzServedType: whatever a file's record and content, it is served with
// an allow-listed type, inline only as an image it is.
func FuzzServedType(f *testing.F) {
	f.Add("image", "image/png", []byte("\x89PNG\r\n\x1a\n"))
	f.Add("image", "image/png", []byte("<svg/>"))
	f.Add("document", "text/html", []byte("<html>"))
	f.Fuzz(func(t *testing.T, category, ctype string, head []byte) {
		checkServed(t, &kycd.File{Category: category, ContentType: ctype}, head)
	})
}

// FuzzFilterTime: a filter's time parses or is refused as invalid, never
// anything else.
func FuzzFilterTime(f *testing.F) {
	f.Add("2026-12-07T03:10")
	f.Add("2026-12-07")
	f.Add("yesterday")
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := parseFilterTime(s, "from")
		if err != nil && kycd.ErrorCode(err) != kycd.ERequestInvalid {
			t.Fatalf("%q: %v", s, err)
		}
		if err == nil && s != "" && tm.IsZero() {
			t.Fatalf("%q parsed to the zero time", s)
		}
	})
}
