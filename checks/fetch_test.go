package checks

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/netguard"
)

// zipOfSize returns a valid zip of exactly n bytes (n large enough), its
// one entry stored uncompressed.
func zipOfSize(t *testing.T, n int) []byte {
	t.Helper()
	build := func(body int) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "a.txt", Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(bytes.Repeat([]byte("x"), body))
		zw.Close()
		return b.Bytes()
	}
	overhead := len(build(0))
	z := build(n - overhead)
	if len(z) != n {
		t.Fatalf("zip of %d bytes, want %d", len(z), n)
	}
	return z
}

// The cap is exact: a valid zip of MaxSize bytes is taken, one byte more
// is refused; a redirect to another scheme is refused; scratch files go.
func TestFetchLimits(t *testing.T) {
	atCap := zipOfSize(t, 4096)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/at-cap":
			w.Write(atCap)
		case "/over-cap":
			w.(http.Flusher).Flush() // no length: streamed
			w.Write(append(atCap, 0))
		case "/to-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		case "/teapot":
			w.WriteHeader(http.StatusTeapot)
		case "/busy":
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	s := New(Config{HTTP: netguard.Policy{AllowPrivate: true}.Client(0, netguard.FollowRedirects), MaxSize: 4096, ScratchDir: dir,
		IdleTimeout: 2 * time.Second})
	ctx := context.Background()
	sc, err := s.fetch(ctx, srv.URL+"/at-cap")
	if err != nil || sc.Size() != 4096 {
		t.Fatalf("at the cap: %v", err)
	}
	sc.Close()
	for path, want := range map[string]string{
		"/over-cap": kycd.ReasonEvidenceTooLarge, "/to-file": kycd.ReasonEvidenceDownloadRefused, "/teapot": kycd.ReasonEvidenceDownloadFailed,
	} {
		_, err := s.fetch(ctx, srv.URL+path)
		var r *refusal
		if !errors.As(err, &r) || r.reason.Code != want {
			t.Errorf("%s: %v, want %s", path, err, want)
		}
	}
	var tr *transient
	if _, err := s.fetch(ctx, srv.URL+"/busy"); !errors.As(err, &tr) {
		t.Errorf("503: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("scratch files left: %v", left)
	}
}
