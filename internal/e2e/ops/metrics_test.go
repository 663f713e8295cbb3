package ops

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

var metricsAt = regexp.MustCompile(`metrics at (http://\S+)`)

// metricsGet sends GET to a URL of the metrics listener, with a bearer
// token unless it is "".
func metricsGet(t *testing.T, u, token string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(body)
}

// TestMetricsExposure: /metrics is never served on the API listener
// without authentication. With --metrics-addr it is served on a listener
// of its own (and the API listener answers 404); with --metrics-token it
// is served on the API listener to requests bearing that token only; with
// neither it is not served, and the operator is warned.
func TestMetricsExposure(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		// A listener of its own: open there, absent from the API listener.
		k := e2e.Start(t, db, "--metrics-addr", "127.0.0.1:0")
		m := metricsAt.FindStringSubmatch(k.Stdout.String())
		if m == nil {
			t.Fatalf("no metrics listener printed:\n%s", k.Stdout.String())
		}
		base := strings.TrimSuffix(m[1], "/metrics")
		if strings.TrimPrefix(base, "http://") == strings.TrimPrefix(k.Base, "http://") {
			t.Fatalf("metrics listen on the API's address %s", base)
		}
		k.Do(t, k.Req("GET", "/healthz", nil))
		if status, _, body := metricsGet(t, base+"/metrics", ""); status != 200 || !strings.Contains(body, `kycd_http_requests_total{code="200",method="GET",route="GET /healthz"}`) ||
			!strings.Contains(body, "\nkycd_outbox_pending ") {
			t.Errorf("metrics listener: %d %s", status, grepLines(body, "kycd_"))
		}
		if status, _, _ := metricsGet(t, base+"/core/countries", ""); status != 404 {
			t.Errorf("the metrics listener serves the API: %d", status)
		}
		if res := k.Do(t, k.Req("GET", "/metrics", nil)); res.Status != 404 || strings.Contains(string(res.Body), "kycd_") {
			t.Errorf("API listener with --metrics-addr: %d %s", res.Status, res.Body)
		}

		// On the API listener, behind a token.
		k.Stop(t)
		k = e2e.Start(t, db, "--metrics-token", "s3cret-metrics")
		for _, auth := range []string{"", "Bearer wrong", "Bearer s3cret-metricsX", "Basic s3cret-metrics", "s3cret-metrics"} {
			req := k.Req("GET", "/metrics", nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			res := k.Do(t, req)
			if res.Status != 401 || res.Code() != "token_invalid" || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") ||
				!strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") || strings.Contains(string(res.Body), "kycd_") {
				t.Errorf("metrics with %q: %d %s", auth, res.Status, res.Body)
			}
		}
		if res := k.Call(t, "GET", "/metrics", "s3cret-metrics", "", nil); res.Status != 200 || !strings.Contains(string(res.Body), "kycd_http_requests_total") {
			t.Errorf("metrics with the token: %d", res.Status)
		}

		// Both: the token guards the listener of its own too.
		k.Stop(t)
		k = e2e.Start(t, db, "--metrics-addr", "127.0.0.1:0", "--metrics-token", "both")
		base = strings.TrimSuffix(metricsAt.FindStringSubmatch(k.Stdout.String())[1], "/metrics")
		if status, h, _ := metricsGet(t, base+"/metrics", ""); status != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("metrics listener without the token: %d", status)
		}
		if status, _, body := metricsGet(t, base+"/metrics", "both"); status != 200 || !strings.Contains(body, "kycd_") {
			t.Errorf("metrics listener with the token: %d", status)
		}
		if res := k.Call(t, "GET", "/metrics", "both", "", nil); res.Status != 404 {
			t.Errorf("API listener with --metrics-addr and a token: %d", res.Status)
		}

		// Neither: not served, and said so at start.
		k.Stop(t)
		k = e2e.Start(t, db)
		if res := k.Do(t, k.Req("GET", "/metrics", nil)); res.Status != 404 {
			t.Errorf("metrics without an option: %d %s", res.Status, res.Body)
		}
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(k.Stderr.String(), "GET /metrics is not served") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if !strings.Contains(k.Stderr.String(), "GET /metrics is not served") {
			t.Error("no warning that metrics are not served")
		}
	})
}
