package connector

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestFetchErrorsHoldNoURL: a request that cannot connect fails with an
// error that does not repeat its URL (a share token is in the query), and
// still says it was a network failure.
func TestFetchErrorsHoldNoURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	f := &Fetcher{Name: "sumsub", HTTP: &http.Client{Timeout: time.Second}, Retries: 1, Backoff: time.Millisecond}
	_, err = f.Do(context.Background(), func() (*http.Request, error) {
		return http.NewRequest(http.MethodPost, "http://"+addr+"/resources/applicants/-/import?shareToken=_act-secret-token", nil)
	})
	var op *net.OpError
	if err == nil || strings.Contains(err.Error(), "_act-secret-token") || strings.Contains(err.Error(), addr+"/") || !errors.As(err, &op) {
		t.Fatalf("error: %v", err)
	}
}

// TestStream: a body up to the cap streams whole with its type read from
// its first bytes; one byte more fails while reading (past the sniffed
// head) or at once (within it); a large body streams in bounded memory.
func TestStream(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 9000)...)
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/large" {
			chunk := bytes.Repeat([]byte{1}, 1<<20)
			for range 128 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	f := &Fetcher{Name: "test", HTTP: srv.Client()}
	get := func(path string) func() (*http.Request, error) {
		return func() (*http.Request, error) { return http.NewRequest(http.MethodGet, srv.URL+path, nil) }
	}
	read := func(max int64) ([]byte, string, error) {
		rc, ct, err := f.Stream(context.Background(), get("/"), max)
		if err != nil {
			return nil, "", err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		return b, ct, err
	}
	body = png
	if b, ct, err := read(int64(len(png))); err != nil || ct != "image/png" || !bytes.Equal(b, png) {
		t.Fatalf("at the cap: %q %d %v", ct, len(b), err)
	}
	if _, _, err := read(int64(len(png)) - 1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("one byte over, past the head: %v", err)
	}
	body = []byte("%PDF-1.4 tiny")
	if b, ct, err := read(int64(len(body))); err != nil || ct != "application/pdf" || string(b) != string(body) {
		t.Errorf("a small body: %q %q %v", ct, b, err)
	}
	if _, _, err := f.Stream(context.Background(), get("/"), int64(len(body))-1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("one byte over, within the head: %v", err)
	}

	// 128 MiB through the stream: the heap does not hold it.
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rc, _, err := f.Stream(context.Background(), get("/large"), 200<<20)
	if err != nil {
		t.Fatal(err)
	}
	peak := uint64(0)
	buf := make([]byte, 32<<10)
	total := 0
	for {
		n, err := rc.Read(buf)
		total += n
		if total%(16<<20) < len(buf) {
			runtime.ReadMemStats(&after)
			peak = max(peak, after.HeapInuse)
		}
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	rc.Close()
	if total != 128<<20 {
		t.Fatalf("streamed %d bytes", total)
	}
	if grew := int64(peak) - int64(before.HeapInuse); grew > 16<<20 {
		t.Errorf("the heap grew by %d MiB while streaming 128 MiB", grew>>20)
	}
}
