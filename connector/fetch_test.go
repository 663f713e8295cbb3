package connector

import (
	"context"
	"errors"
	"net"
	"net/http"
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
