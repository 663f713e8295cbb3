package console

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzSafeNext: wherever a sign-in's "next" says to go, the console sends
// the reviewer to one of its own paths, never to another site.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/console/cases", "/console/cases/x?done=taken", "//evil.example/console/", "/console/\\evil", "https://evil.example/console/",
		"/console/../admin", "/console//evil.example", "", "javascript:alert(1)", "/console/\r\nSet-Cookie: x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, "/console/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n") {
			t.Fatalf("safeNext(%q) = %q", next, got)
		}
		u, err := url.Parse(got)
		if err == nil && (u.Host != "" || u.Scheme != "") {
			t.Fatalf("safeNext(%q) = %q leaves the site", next, got)
		}
	})
}
