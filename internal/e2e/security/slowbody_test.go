package security

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestSlowBodies: real connections on loopback that send their body at
// 4 bytes a second (the token endpoint, a provider's webhook, a file
// upload) are cut within a bounded time (--body-timeout 1s here: each is
// answered 408 within a few seconds), while an upload that takes longer
// than that at a fair rate (64 KiB/s for about 3s) goes through: the rule
// is a rate, not a short total.
func TestSlowBodies(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db, "--body-timeout", "1s", "--body-min-rate", "1024")
		tn := k.NewTenant(t, "slow")
		tok := k.Token(t, tn, "")
		uid := e2e.CreateUser(t, k, tok, "slow@bodies.example")
		_, slowUpload := e2e.CreateFile(t, k, tok, uid, "document", "application/pdf")
		_, fairUpload := e2e.CreateFile(t, k, tok, uid, "document", "application/pdf")
		addr := strings.TrimPrefix(k.Base, "http://")

		// send writes a request's head, then its body in chunks, one per
		// tick; it returns kycd's status line and how long until it came
		// (or the connection closed).
		send := func(method, target, contentType string, body []byte, chunk int, tick time.Duration) (string, time.Duration) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				return err.Error(), 0
			}
			defer conn.Close()
			begin := time.Now()
			fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", method, target, addr, contentType, len(body))
			answered := make(chan string, 1)
			go func() {
				line, _ := bufio.NewReader(conn).ReadString('\n')
				answered <- strings.TrimSpace(line)
			}()
			ticker := time.NewTicker(tick)
			defer ticker.Stop()
			for off := 0; off < len(body); off += chunk {
				select {
				case line := <-answered:
					return line, time.Since(begin)
				case <-ticker.C:
				}
				if _, err := conn.Write(body[off:min(off+chunk, len(body))]); err != nil {
					break
				}
			}
			select {
			case line := <-answered:
				return line, time.Since(begin)
			case <-time.After(30 * time.Second):
				return "no answer", time.Since(begin)
			}
		}
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {tn.ClientID}, "client_secret": {tn.Secret}}.Encode()
		u, _ := url.Parse(slowUpload)
		cases := []struct {
			name, method, target, contentType string
			body                              []byte
		}{
			{"token endpoint", "POST", "/core/oauth2/token", "application/x-www-form-urlencoded", []byte(form)},
			{"provider webhook", "POST", "/kyc-connector/veriff/webhooks/" + tn.ID, "application/json", []byte(`{"status":"success","verification":{"id":"` + strings.Repeat("0", 200) + `"}}`)},
			{"upload", "PUT", u.RequestURI(), "application/pdf", pdfBytes(4 << 10)},
		}
		results := make(chan string, len(cases))
		for _, c := range cases {
			go func() {
				line, took := send(c.method, c.target, c.contentType, c.body, 1, time.Second/4)
				if !strings.Contains(line, " 408 ") || took > 6*time.Second {
					results <- fmt.Sprintf("%s at 4 bytes/s: %q after %v, want 408 within 6s", c.name, line, took.Round(time.Millisecond))
					return
				}
				results <- fmt.Sprintf("ok: %s at 4 bytes/s: %q after %v", c.name, line, took.Round(time.Millisecond))
			}()
		}
		u, _ = url.Parse(fairUpload)
		if line, took := send("PUT", u.RequestURI(), "application/pdf", pdfBytes(192<<10), 16<<10, time.Second/4); !strings.Contains(line, " 204 ") {
			t.Errorf("an upload at 64 KiB/s: %q after %v", line, took)
		} else {
			t.Logf("slow bodies: an upload at 64 KiB/s: %q after %v", line, took.Round(time.Millisecond))
		}
		for range cases {
			if r := <-results; strings.HasPrefix(r, "ok: ") {
				t.Logf("slow bodies: %s", strings.TrimPrefix(r, "ok: "))
			} else {
				t.Error(r)
			}
		}
		// kycd still serves.
		if res := k.Call(t, "GET", "/core/countries/PT", tok, "", nil); res.Status != 200 {
			t.Errorf("after the slow bodies: %d", res.Status)
		}
	})
}

// pdfBytes is a PDF of about n bytes (an upload's content is sniffed).
func pdfBytes(n int) []byte {
	head := "%PDF-1.4\n1 0 obj<<>>endobj\n"
	return []byte(head + strings.Repeat("%", max(0, n-len(head)-6)) + "\n%%EOF")
}
