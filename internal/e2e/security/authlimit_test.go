package security

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestInvalidTokensLimited: requests with an invalid bearer token draw on
// their source address's bucket, the one token requests draw on: past the
// burst they are answered 429 with Retry-After in each surface's error
// format (Uphold's envelope on /core and /kyc-connector, problem+json on
// the others), and so is a token request from that address; a client on
// another address gets its token and is served, and a valid token from the
// flooding address still works.
func TestInvalidTokensLimited(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db, "--rate-limit", "1", "--rate-burst", "10", "--metrics-token", "m")
		tn := k.NewTenant(t, "flood")
		valid := k.Token(t, tn, "") // from 127.0.0.1, before the flood
		forged := strings.Join(strings.Split(valid, ".")[:2], ".") + ".c2lnbmF0dXJl"
		user := "0f8fad5b-d9cb-469f-a165-70867728950e"
		surfaces := []struct {
			path, token string
			problem     bool
		}{
			{"/core/countries/PT", "not-a-jwt", false},
			{"/kyc-connector/veriff/config", forged, false},
			{"/users/" + user + "/checks", "", true},
			{"/v1/legal_documents/?legal_entity_uuid=" + user, forged, true},
			{"/admin/audit", "not-a-jwt", true},
			{"/metrics", "wrong", true},
		}
		limited := map[string]bool{}
		unauthorized := 0
		for i := 0; i < 60 && len(limited) < len(surfaces); i++ {
			s := surfaces[i%len(surfaces)]
			res := k.Call(t, "GET", s.path, s.token, "", nil)
			switch res.Status {
			case 401:
				unauthorized++
			case 429:
				limited[s.path] = true
				ct := res.Header.Get("Content-Type")
				if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 {
					t.Errorf("%s: Retry-After %q", s.path, res.Header.Get("Retry-After"))
				}
				if s.problem && (!strings.HasPrefix(ct, "application/problem+json") || res.JSON["code"] != "too_many_requests" || res.JSON["status"] != float64(429)) {
					t.Errorf("%s: %s %s", s.path, ct, res.Body)
				}
				if !s.problem && (strings.HasPrefix(ct, "application/problem+json") || res.Code() != "too_many_requests" || res.JSON["message"] == nil) {
					t.Errorf("%s: %s %s", s.path, ct, res.Body)
				}
			default:
				t.Fatalf("%s with an invalid token: %d %s", s.path, res.Status, res.Body)
			}
		}
		if len(limited) != len(surfaces) || unauthorized > 15 {
			t.Fatalf("after %d refusals, limited on %v", unauthorized, limited)
		}
		// The flooding address's token requests share the bucket.
		form := url.Values{"grant_type": {"client_credentials"}}
		req := k.Req("POST", "/core/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(tn.ClientID, tn.Secret)
		if res := k.Do(t, req); res.Status != 429 {
			t.Errorf("token request from the flooding address: %d %s", res.Status, res.Body)
		}
		// A valid token is served from the flooding address.
		if res := k.Call(t, "GET", "/core/countries/PT", valid, "", nil); res.Status != 200 {
			t.Errorf("valid token from the flooding address: %d %s", res.Status, res.Body)
		}
		// A client on another address is not affected.
		other := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: (&net.Dialer{
			LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
		req, _ = http.NewRequest("POST", k.Base+"/core/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(tn.ClientID, tn.Secret)
		res, err := other.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		err = json.NewDecoder(res.Body).Decode(&tok)
		res.Body.Close()
		if res.StatusCode != 200 || err != nil {
			t.Fatalf("token from another address: %d %v", res.StatusCode, err)
		}
		for _, token := range []string{tok.AccessToken, "not-a-jwt"} {
			req, _ = http.NewRequest("GET", k.Base+"/core/countries/PT", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err = other.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if want := map[bool]int{true: 200, false: 401}[token == tok.AccessToken]; res.StatusCode != want {
				t.Errorf("from another address, token %.10s: %d, want %d", token, res.StatusCode, want)
			}
		}
	})
}
