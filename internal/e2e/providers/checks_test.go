package providers

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycd/kycd/checks"
	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
	"github.com/kycd/kycd/webhook"
)

// bombZip is a zip of 20 MiB of zeros (about 1000:1), deflated once for
// every evidence server that serves it: under the race detector the
// deflating costs seconds, so newEvidenceServer deflates it before it
// serves (deflated at the first request, on a busy machine, it stalled the
// download past kycd's idle timeout).
var bombZip = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("zeros.bin")
	w.Write(make([]byte, 20<<20))
	zw.Close()
	return b.Bytes()
})

// evidenceServer serves evidence, good and hostile, as a partner's bucket
// (or an attacker) would.
type evidenceServer struct {
	*http.Server
	URL   string
	good  []byte
	mu    sync.Mutex
	hits  map[string]int
	other string // base URL a redirect leads to
}

func newEvidenceServer(t *testing.T, host string) *evidenceServer {
	t.Helper()
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	bomb := bombZip()
	es := &evidenceServer{URL: "http://" + ln.Addr().String(), hits: map[string]int{},
		good: e2e.EvidenceZip(t, [2]string{"ident/document-front.png", string(e2e.PNGBytes("front"))}, [2]string{"ident/protocol.txt", "video ident protocol"})}
	es.Server = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		es.mu.Lock()
		es.hits[r.URL.Path]++
		hits := es.hits[r.URL.Path]
		es.mu.Unlock()
		switch r.URL.Path {
		case "/ident.zip", "/por.zip":
			w.Write(es.good)
		case "/flaky.zip": // the bucket fails once, then serves
			if hits == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.Write(es.good)
		case "/bomb.zip":
			w.Write(bomb)
		case "/traversal.zip":
			w.Write(e2e.EvidenceZip(t, [2]string{"ident/ok.txt", "fine"}, [2]string{"../../etc/cron.d/evil", "* * * * * root sh"}))
		case "/truncated.zip":
			w.Write(es.good[:len(es.good)/2])
		case "/missing.zip":
			http.NotFound(w, r)
		case "/huge.zip": // one byte over the cap, streamed without a length
			w.Header().Set("Content-Type", "application/zip")
			io.CopyN(w, zeros{}, 250_000_001)
		case "/huge-declared.zip":
			w.Header().Set("Content-Length", "250000001")
			io.CopyN(w, zeros{}, 1<<20)
		case "/stall.zip": // starts, then sends nothing more
			w.Header().Set("Content-Length", "100000")
			w.Write(es.good[:100])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		case "/redirect.zip":
			http.Redirect(w, r, es.other+"/ident.zip", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	})}
	go es.Serve(ln)
	t.Cleanup(func() { es.Close() })
	return es
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestChecks: seed 001's checks through HTTP on both databases: recorded
// (202 with an id), decided PASSED with the evidence stored encrypted, fed
// into the Core KYC processes, announced in Upvest's envelope in order;
// POR, INSTRUMENT_FIT, COMPLIANCE (its own scope), the refresh rule and
// history, every validation rule, and tenant isolation.
func TestChecks(t *testing.T) {
	t.Parallel()
	ev := newEvidenceServer(t, "127.0.0.1")
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewChecksEnv(t, db, "--allow-private-network", "--evidence-allow-http", "--evidence-retries", "300ms", "--evidence-idle-timeout", "2s")
		e.Receiver = e2e.NewReceiver(t)
		if res := e.Call(t, "POST", "/core/webhooks/endpoints", e.Tok, "", map[string]any{"url": e.Receiver.URL, "eventTypes": []string{"USER_CHECK."}}); res.Status != 201 {
			t.Fatalf("endpoint: %d %s", res.Status, res.Body)
		}

		// The seed's KYC check: accepted, then PASSED with its evidence kept.
		res := e.Create(e.Tok, e.User, e2e.SeedKYC(ev.URL+"/ident.zip"))
		if res.Status != 202 || res.JSON["id"] == nil || len(res.JSON) != 1 || !strings.HasSuffix(res.Header.Get("Location"), "/users/"+e.User+"/checks/"+res.JSON["id"].(string)) {
			t.Fatalf("create: %d %v %s", res.Status, res.Header, res.Body)
		}
		kycID := res.JSON["id"].(string)
		got := e.Await(e.User, kycID)
		if got.JSON["status"] != "PASSED" {
			t.Fatalf("seed KYC check: %s", got.Body)
		}
		want := e2e.SeedKYC(ev.URL + "/ident.zip")
		for k, v := range want {
			if k == "check_confirmed_at" || k == "confirmed_address" {
				continue
			}
			if got.JSON[k] != v {
				t.Errorf("check %s = %v, want %v", k, got.JSON[k], v)
			}
		}
		if string(e2e.MustJSON(got.JSON["core_processes"])) != `{"identity":{"status":"applied"}}` {
			t.Errorf("the seed's check in the Core processes: %s", got.Body)
		}
		if string(e2e.MustJSON(got.JSON["confirmed_address"])) != string(e2e.MustJSON(e2e.SeedAddress())) || got.JSON["user_id"] != e.User ||
			got.JSON["type"] != "KYC" || got.JSON["id"] != kycID || got.JSON["evidence_file_id"] != checks.EvidenceFileID(kycID) {
			t.Errorf("check shape: %s", got.Body)
		}
		// The evidence: a file of the user, category evidence, the same bytes.
		f := e.Call(t, "GET", "/core/files/"+checks.EvidenceFileID(kycID), e.Tok, e.User, nil)
		if f.Status != 200 || f.Get("file.category") != "evidence" || f.Get("file.status") != "uploaded" || f.Get("file.contentType") != "application/zip" {
			t.Fatalf("evidence file: %d %s", f.Status, f.Body)
		}
		dl, err := http.Get(f.Get("file.download.url").(string))
		if err != nil {
			t.Fatal(err)
		}
		content, _ := io.ReadAll(dl.Body)
		dl.Body.Close()
		if !bytes.Equal(content, ev.good) {
			t.Errorf("evidence content differs (%d bytes)", len(content))
		}
		// Stored encrypted: the blob holds none of the zip's bytes.
		if blobs := e2e.BlobFiles(t, db, "evidence"); len(blobs) != 1 || bytes.Contains(blobs[0], []byte("video ident protocol")) || bytes.Contains(blobs[0], ev.good[:30]) {
			t.Errorf("evidence blobs: %d", len(blobs))
		}
		// The Core KYC overview: identity verified by the partner, address ok.
		ov := e.Call(t, "GET", "/core/kyc?detailed=identity", e.Tok, e.User, nil)
		if ov.Get("processes.identity.status") != "ok" || ov.Get("processes.identity.verification.model") != "partner-verified" ||
			ov.Get("processes.address.status") != "ok" || ov.Get("processes.identity.type") != "electronic-verification" ||
			ov.Get("processes.identity.output.provider") != "KYC provider" || ov.Get("processes.identity.input.data.citizenshipCountry") != "DE" ||
			ov.Get("processes.identity.input.data.familyName") != "Müller" {
			t.Errorf("overview after the KYC check: %s", ov.Body)
		}

		// Capabilities follow: the user no longer must submit an identity,
		// while one without a check still must.
		needsIdentity := func(user string) bool {
			res := e.Call(t, "GET", "/core/capabilities", e.Tok, user, nil)
			return strings.Contains(string(res.Body), "user-must-submit-identity")
		}
		if needsIdentity(e.User) || !needsIdentity(e.NewUser("nocheck@checks.example")) {
			t.Errorf("capabilities do not follow the KYC check")
		}

		// Proof of residence: PASSED, and the Core proof of address with it.
		por := e.Decided(e.User, map[string]any{"type": "POR", "check_confirmed_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
			"issuance_date": time.Now().AddDate(0, -1, 0).Format(time.DateOnly), "data_download_link": ev.URL + "/por.zip",
			"document_type": "UTILITY_BILL", "confirmed_address": e2e.SeedAddress()})
		if por.JSON["status"] != "PASSED" || por.JSON["issuance_date"] == nil || por.JSON["document_type"] != "UTILITY_BILL" {
			t.Errorf("POR check: %s", por.Body)
		}
		if ov := e.Call(t, "GET", "/core/kyc", e.Tok, e.User, nil); ov.Get("processes.proofOfAddress.status") != "ok" {
			t.Errorf("overview after the POR check: %s", ov.Body)
		}
		// A proof of another address is a good check: it passes, and its
		// conflict with the declared address is on the check.
		other := e2e.SeedAddress()
		other["address_line1"], other["postcode"] = "Hauptstraße 1", "80331"
		other["city"], other["state"] = "München", "BY"
		bad := e.Decided(e.User, map[string]any{"type": "POR", "check_confirmed_at": time.Now().UTC().Format(time.RFC3339),
			"issuance_date": time.Now().Format(time.DateOnly), "data_download_link": ev.URL + "/por.zip", "document_type": "BANK_STATEMENT",
			"confirmed_address": other})
		if bad.JSON["status"] != "PASSED" || bad.JSON["failure_reasons"] != nil || bad.Get("core_processes.proof-of-address.status") != "conflict" ||
			fmt.Sprint(bad.Get("core_processes.proof-of-address.reasons")) != "[address-mismatch]" {
			t.Errorf("POR of another address: %s", bad.Body)
		}

		// Instrument fit: suitable passes, unsuitable fails.
		fit := e.Decided(e.User, map[string]any{"type": "INSTRUMENT_FIT", "check_confirmed_at": time.Now().UTC().Format(time.RFC3339),
			"instrument_suitability": map[string]any{"suitability": true}})
		if fit.JSON["status"] != "PASSED" || fit.Get("instrument_suitability.suitability") != true {
			t.Errorf("instrument fit: %s", fit.Body)
		}
		unfit := e.Decided(e.User, map[string]any{"type": "INSTRUMENT_FIT", "check_confirmed_at": time.Now().UTC().Format(time.RFC3339),
			"instrument_suitability": map[string]any{"suitability": false}})
		if code, _ := e2e.ReasonOf(unfit); unfit.JSON["status"] != "FAILED" || code != "instrument_not_suitable" {
			t.Errorf("unsuitable: %s", unfit.Body)
		}

		// Compliance: the partner's client lacks the compliance role.
		compliance := map[string]any{"type": "COMPLIANCE", "check_confirmed_at": time.Now().UTC().Format(time.RFC3339)}
		if res := e.Create(e.Tok, e.User, compliance); res.Status != 403 || res.Code() != "token_insufficient_scopes" ||
			!strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("compliance without the role: %d %s", res.Status, res.Body)
		}
		tenantID := e.Tenant.ID
		offTok := e.ClientToken(t, tenantID, "compliance", "checks:compliance,checks:read")
		res = e.Create(offTok, e.User, compliance)
		if res.Status != 202 {
			t.Fatalf("compliance check: %d %s", res.Status, res.Body)
		}
		if c := e.Await(e.User, res.JSON["id"].(string)); c.JSON["status"] != "PASSED" {
			t.Errorf("compliance: %s", c.Body)
		}
		if res := e.Create(offTok, e.User, e2e.SeedKYC(ev.URL+"/ident.zip")); res.Status != 403 {
			t.Errorf("KYC check with the compliance role only: %d %s", res.Status, res.Body)
		}

		// Every rule's failure: 400 with the property and rule named.
		now := time.Now().UTC()
		for _, c := range []struct {
			name       string
			set        map[string]any
			drop       string
			prop, rule string
			schema     bool // the OpenAPI document refuses it too
		}{
			{"confirmed in the future", map[string]any{"check_confirmed_at": now.Add(time.Hour).Format(time.RFC3339)}, "", "check_confirmed_at", "date_not_in_future", false},
			{"confirmed 25 months ago", map[string]any{"check_confirmed_at": now.AddDate(0, -25, 0).Format(time.RFC3339)}, "", "check_confirmed_at", "date_max_age", false},
			{"confirmation not a date-time", map[string]any{"check_confirmed_at": "yesterday"}, "", "check_confirmed_at", "format", true},
			{"expiration not YYYY-MM-DD", map[string]any{"document_expiration_date": "01.01.2030"}, "", "document_expiration_date", "format", true},
			{"expired document", map[string]any{"document_expiration_date": "2020-01-01"}, "", "document_expiration_date", "date_not_past", false},
			{"unknown nationality", map[string]any{"nationality": "XX"}, "", "nationality", "country_code", false},
			{"nationality not alpha-2", map[string]any{"nationality": "DEU"}, "", "nationality", "pattern", true},
			{"Postfach", map[string]any{"confirmed_address": withAddress("address_line1", "Postfach 10 11 12")}, "", "confirmed_address.address_line1", "po_box", false},
			{"P.O. Box", map[string]any{"confirmed_address": withAddress("address_line1", "P.O. Box 77")}, "", "confirmed_address.address_line1", "po_box", false},
			{"PO Box", map[string]any{"confirmed_address": withAddress("address_line2", "PO Box 9")}, "", "confirmed_address.address_line2", "po_box", false},
			{"Packstation", map[string]any{"confirmed_address": withAddress("address_line1", "Packstation 105")}, "", "confirmed_address.address_line1", "po_box", false},
			{"c/o", map[string]any{"confirmed_address": withAddress("address_line2", "c/o Müller")}, "", "confirmed_address.address_line2", "care_of", false},
			{"care of", map[string]any{"confirmed_address": withAddress("address_line2", "care of Mary Smith")}, "", "confirmed_address.address_line2", "care_of", false},
			{"z. Hd.", map[string]any{"confirmed_address": withAddress("address_line2", "z. Hd. Frau Meier")}, "", "confirmed_address.address_line2", "care_of", false},
			{"incomplete address", map[string]any{"confirmed_address": withAddress("postcode", "")}, "", "confirmed_address.postcode", "required", false},
			{"postcode of another format", map[string]any{"confirmed_address": withAddress("postcode", "SW1A 1AA")}, "", "confirmed_address.postcode", "postcode_format", false},
			{"unknown state", map[string]any{"confirmed_address": withAddress("state", "XX")}, "", "confirmed_address.state", "subdivision_code", false},
			{"unknown address country", map[string]any{"confirmed_address": withAddress("country", "QQ")}, "", "confirmed_address.country", "country_code", false},
			{"unknown method", map[string]any{"method": "SELFIE"}, "", "method", "enum", true},
			{"photo ident for a DE resident", map[string]any{"method": "PHOTO_ID_WITH_LIVENESS"}, "", "method", "method_not_allowed_for_residence", false},
			{"file link", map[string]any{"data_download_link": "file:///etc/passwd"}, "", "data_download_link", "scheme", false},
			{"gopher link", map[string]any{"data_download_link": "gopher://127.0.0.1:70/_evidence"}, "", "data_download_link", "scheme", false},
			{"link with credentials", map[string]any{"data_download_link": ev.URL + "/ident.zip"}, "", "", "", false},
			{"missing provider", nil, "provider", "provider", "required", true},
			{"unknown property", map[string]any{"selfie": true}, "", "selfie", "additionalProperties", true},
			{"unknown type", map[string]any{"type": "SELFIE"}, "", "type", "enum", true},
		} {
			if c.name == "link with credentials" {
				c.set["data_download_link"] = strings.Replace(ev.URL, "http://", "http://user:pw@", 1) + "/ident.zip"
				c.prop, c.rule = "data_download_link", "credentials"
			}
			body := e2e.SeedKYC(ev.URL + "/ident.zip")
			for k, v := range c.set {
				body[k] = v
			}
			delete(body, c.drop)
			raw, _ := json.Marshal(body)
			req := e.Req("POST", "/users/"+fresh0(e)+"/checks", bytes.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+e.Tok)
			res := e.Do(t, req, e2e.DoOpts{InvalidRequest: c.schema})
			if res.Status != 400 || res.Code() != "request_invalid" || !e2e.HasViolation(res, c.prop, c.rule) {
				t.Errorf("%s: %d %s", c.name, res.Status, res.Body)
			}
		}
		// Photo ident is fine for a resident of Austria (the confirmed
		// address decides): the rules pass, and the refresh rule answers.
		at := e2e.SeedKYC(ev.URL + "/ident.zip")
		at["method"] = "PHOTO_ID_WITH_LIVENESS"
		at["confirmed_address"] = map[string]any{"address_line1": "Ringstraße 1", "postcode": "1010", "city": "Wien", "country": "AT"}
		if res := e.Create(e.Tok, e.User, at); res.Status != 409 || res.Code() != "kyc_check_exists" {
			t.Errorf("photo ident for an AT resident: %d %s", res.Status, res.Body)
		}

		// Refresh: a second KYC check must say kyc_update; then it
		// supersedes the first, which stays in the list.
		if res := e.Create(e.Tok, e.User, e2e.SeedKYC(ev.URL+"/ident.zip")); res.Status != 409 || res.Code() != "kyc_check_exists" || res.JSON["check_id"] != kycID {
			t.Errorf("second initial KYC check: %d %s", res.Status, res.Body)
		}
		fresh := e.NewUser("fresh@checks.example")
		upd := e2e.SeedKYC(ev.URL + "/ident.zip")
		upd["kyc_update"] = true
		if res := e.Create(e.Tok, fresh, upd); res.Status != 409 || res.Code() != "no_kyc_check_to_update" {
			t.Errorf("refresh without a check: %d %s", res.Status, res.Body)
		}
		upd["document_type"], upd["document_expiration_date"], upd["method"] = "PASSPORT", "2034-06-30", "EID"
		refresh := e.Decided(e.User, upd)
		if refresh.JSON["status"] != "PASSED" || refresh.JSON["kyc_update"] != true {
			t.Fatalf("refresh: %s", refresh.Body)
		}
		list := e.Call(t, "GET", "/users/"+e.User+"/checks", e.Tok, "", nil)
		data, _ := list.JSON["data"].([]any)
		if list.Status != 200 || len(data) != 7 || len(list.JSON) != 1 {
			t.Fatalf("list: %d %s", list.Status, list.Body)
		}
		first := data[0].(map[string]any)
		if first["id"] != kycID || first["superseded_by"] != refresh.JSON["id"] || first["status"] != "PASSED" || data[6].(map[string]any)["id"] != refresh.JSON["id"] {
			t.Errorf("history: %s", list.Body)
		}
		upd["provider"] = "Another provider"
		if ov := e.Call(t, "GET", "/core/kyc?detailed=identity", e.Tok, e.User, nil); ov.Get("processes.identity.output.provider") != "KYC provider" ||
			ov.Get("processes.identity.output.verifiedAt") != refresh.JSON["check_confirmed_at"] {
			t.Errorf("identity after the refresh: %s", ov.Body)
		}

		// Events: each check's CREATED then its decision, in Upvest's
		// envelope, the object filled in, the CREATED one still PENDING.
		e2e.WaitUntil(t, "check events", func() bool { return len(e.Receiver.Events()) >= 14 })
		byCheck := map[string][]map[string]any{}
		for _, m := range e.Receiver.Events() {
			if len(m) != 5 || m["id"] == nil || m["created_at"] == nil || m["webhook_id"] == nil || m["object"] == nil {
				t.Fatalf("envelope: %v", m)
			}
			obj := m["object"].(map[string]any)
			byCheck[obj["id"].(string)] = append(byCheck[obj["id"].(string)], m)
		}
		seq := byCheck[kycID]
		if len(seq) != 2 || seq[0]["type"] != "USER_CHECK.CREATED" || seq[1]["type"] != "USER_CHECK.PASSED" {
			t.Fatalf("events of the KYC check: %v", seq)
		}
		created, passed := seq[0]["object"].(map[string]any), seq[1]["object"].(map[string]any)
		if created["status"] != "PENDING" || passed["status"] != "PASSED" || passed["nationality"] != "DE" || passed["method"] != "VIDEO_ID" ||
			passed["confirmed_address"] == nil || created["data_download_link"] != ev.URL+"/ident.zip" || seq[0]["created_at"].(string) > seq[1]["created_at"].(string) {
			t.Errorf("event objects: %v / %v", created, passed)
		}
		if seq := byCheck[unfit.JSON["id"].(string)]; len(seq) != 2 || seq[1]["type"] != "USER_CHECK.FAILED" {
			t.Errorf("events of the unsuitable check: %v", seq)
		}
		// The outbox keeps none of what the partner sent about the person.
		var leaked int
		if err := db.Open(t).QueryRow(`SELECT count(*) FROM outbox_events WHERE payload LIKE '%Rosenweg%' OR payload LIKE '%VIDEO_ID%' OR payload LIKE '%ident.zip%'`).Scan(&leaked); err != nil || leaked != 0 {
			t.Errorf("outbox rows with personal data: %d %v", leaked, err)
		}

		// Another tenant sees nothing; unknown users and ids are 404; a
		// malformed id is 400; no token is 401; all problem documents.
		otherTok := e.Token(t, e.NewTenant(t, "other"), "")
		for _, c := range []struct {
			path, tok string
			status    int
		}{
			{"/users/" + e.User + "/checks", otherTok, 404},
			{"/users/" + e.User + "/checks/" + kycID, otherTok, 404},
			{"/users/" + e.User + "/checks/" + fresh, e.Tok, 404},
			{"/users/not-a-uuid/checks", e.Tok, 400},
			{"/users/" + e.User + "/checks/x", e.Tok, 400},
			{"/users/" + e.User + "/checks", "", 401},
		} {
			res := e.Call(t, "GET", c.path, c.tok, "", nil)
			if res.Status != c.status || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") || res.JSON["requestId"] == nil {
				t.Errorf("GET %s: %d %s", c.path, res.Status, res.Body)
			}
		}
		if res := e.Create(otherTok, e.User, e2e.SeedKYC(ev.URL+"/ident.zip")); res.Status != 404 || res.Get("entity") != "user" {
			t.Errorf("another tenant's user: %d %s", res.Status, res.Body)
		}
	})
}

func withAddress(field, value string) map[string]any {
	a := e2e.SeedAddress()
	a[field] = value
	return a
}

// fresh0 is a user without checks, created once per env.
func fresh0(e *e2e.ChecksEnv) string {
	if e.Spare == "" {
		e.Spare = e.NewUser("spare@checks.example")
	}
	return e.Spare
}

// TestCheckEvidenceHostile: evidence that could harm kycd or whoever opens
// it later is refused, the check fails with a machine-readable reason, and
// nothing of it is kept (no blob, no file, no scratch file), with memory
// bounded while 250 MB stream through. Destinations kycd must not reach are
// refused at connection time: a redirect to 127.0.0.1 or to file://; a
// loopback address or a hostname that resolves to one, file:// and
// gopher:// links and (without --evidence-allow-http) http links are
// refused when the check is recorded.
func TestCheckEvidenceHostile(t *testing.T) {
	// Not parallel with the other tests: it bounds the growth of the test
	// process's heap while evidence streams, which other tests' kycds
	// (building screening indexes, for one) would grow as well.
	inside := newEvidenceServer(t, "127.0.0.1")
	ev := newEvidenceServer(t, "127.0.0.2") // the one network kycd may reach
	ev.other = inside.URL
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewChecksEnv(t, db, "--allow-network", "127.0.0.2/32", "--evidence-allow-http", "--evidence-retries", "300ms", "--evidence-idle-timeout", "1s")
		for _, c := range []struct {
			link, reason, problem string
		}{
			{ev.URL + "/bomb.zip", "evidence_invalid", "decompression_limit"},
			{ev.URL + "/traversal.zip", "evidence_invalid", "unsafe_path"},
			{ev.URL + "/truncated.zip", "evidence_invalid", "not_a_zip"},
			{ev.URL + "/huge.zip", "evidence_too_large", ""},
			{ev.URL + "/huge-declared.zip", "evidence_too_large", ""},
			{ev.URL + "/stall.zip", "evidence_download_failed", ""},
			{ev.URL + "/missing.zip", "evidence_download_failed", ""},
			{ev.URL + "/redirect.zip", "evidence_download_refused", ""},
		} {
			var peak uint64
			stop := make(chan struct{})
			done := make(chan struct{})
			if strings.HasSuffix(c.link, "/huge.zip") {
				var base runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&base)
				go func() {
					defer close(done)
					for {
						var m runtime.MemStats
						runtime.ReadMemStats(&m)
						if m.HeapInuse > base.HeapInuse && m.HeapInuse-base.HeapInuse > peak {
							peak = m.HeapInuse - base.HeapInuse
						}
						select {
						case <-stop:
							return
						case <-time.After(20 * time.Millisecond):
						}
					}
				}()
			} else {
				close(done)
			}
			res := e.Decided(e.User, e2e.SeedKYC(c.link))
			close(stop)
			<-done
			code, d := e2e.ReasonOf(res)
			if res.JSON["status"] != "FAILED" || code != c.reason || (c.problem != "" && d["problem"] != c.problem) {
				t.Errorf("%s: %s", c.link, res.Body)
			}
			if peak > 64<<20 {
				t.Errorf("%s: the heap grew by %d MiB while it streamed", c.link, peak>>20)
			}
			id := res.JSON["id"].(string)
			if res.JSON["evidence_file_id"] != nil {
				t.Errorf("%s: an evidence file is named: %s", c.link, res.Body)
			}
			if f := e.Call(t, "GET", "/core/files/"+checks.EvidenceFileID(id), e.Tok, e.User, nil); f.Status != 404 {
				t.Errorf("%s: the evidence file exists: %d", c.link, f.Status)
			}
			if blobs := e2e.BlobFiles(t, db, "evidence"); len(blobs) != 0 {
				t.Errorf("%s: %d evidence blobs kept", c.link, len(blobs))
			}
			if left := e2e.ScratchFiles(db); len(left) != 0 {
				t.Errorf("%s: scratch files left: %v", c.link, left)
			}
		}
		// The stalled transfer was tried again before the check failed.
		ev.mu.Lock()
		stalls := ev.hits["/stall.zip"]
		ev.mu.Unlock()
		if stalls < 2 {
			t.Errorf("stalled download tried %d times", stalls)
		}
		// A bucket that fails once is retried, and the check passes.
		if res := e.Decided(e.User, e2e.SeedKYC(ev.URL+"/flaky.zip")); res.JSON["status"] != "PASSED" {
			t.Errorf("flaky bucket: %s", res.Body)
		}
		if blobs := e2e.BlobFiles(t, db, "evidence"); len(blobs) != 1 {
			t.Errorf("evidence blobs after the flaky bucket: %d", len(blobs))
		}
	})
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		// https only: without --evidence-allow-http an http link is refused
		// when the check is recorded.
		e := e2e.NewChecksEnv(t, db)
		res := e.Create(e.Tok, e.User, e2e.SeedKYC(ev.URL+"/ident.zip"))
		if res.Status != 400 || !e2e.HasViolation(res, "data_download_link", "scheme") {
			t.Errorf("http link: %d %s", res.Status, res.Body)
		}
		for _, link := range []string{"https://localhost/ident.zip", "https://169.254.169.254/latest/meta-data", "https://[::1]/ident.zip"} {
			res := e.Create(e.Tok, e.User, e2e.SeedKYC(link)) // refused when recorded (security/ssrf_test.go)
			if res.Status != 400 || !e2e.HasViolation(res, "data_download_link", "host") {
				t.Errorf("%s: %s", link, res.Body)
			}
		}
	})
}

// TestCheckEventBundles: an endpoint that bundles gets the check events
// several per request, {"payload": [...]}, each request ordered by
// created_at and signed, every event exactly once and each check's
// CREATED before its decision; an endpoint that does not gets them one by one.
func TestCheckEventBundles(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewChecksEnv(t, db, "--allow-private-network")
		bundled, single := e2e.NewReceiver(t), e2e.NewReceiver(t)
		res := e.Call(t, "POST", "/core/webhooks/endpoints", e.Tok, "", map[string]any{"url": bundled.URL, "eventTypes": []string{"USER_CHECK."}, "bundle": true})
		if res.Status != 201 || res.Get("endpoint.bundle") != true {
			t.Fatalf("endpoint: %d %s", res.Status, res.Body)
		}
		secret := res.Get("endpoint.secret").(string)
		if res := e.Call(t, "POST", "/core/webhooks/endpoints", e.Tok, "", map[string]any{"url": single.URL, "eventTypes": []string{"USER_CHECK."}}); res.Status != 201 || res.Get("endpoint.bundle") != false {
			t.Fatalf("endpoint: %d %s", res.Status, res.Body)
		}
		var ids []string
		for i := range 4 {
			res := e.Create(e.Tok, e.User, map[string]any{"type": "INSTRUMENT_FIT", "check_confirmed_at": time.Now().UTC().Format(time.RFC3339),
				"instrument_suitability": map[string]any{"suitability": i%2 == 0}})
			if res.Status != 202 {
				t.Fatalf("create: %d %s", res.Status, res.Body)
			}
			ids = append(ids, res.JSON["id"].(string))
		}
		count := func(rc *e2e.Receiver) (requests int, events []map[string]any, biggest int) {
			for _, g := range rc.Deliveries() {
				var b struct {
					Payload []map[string]any `json:"payload"`
				}
				if err := json.Unmarshal(g.Body, &b); err != nil || len(b.Payload) == 0 {
					t.Fatalf("bundle body: %s", g.Body)
				}
				if err := webhook.Verify(secret, g.Body, g.Header); err != nil {
					t.Errorf("bundle signature: %v", err)
				}
				for i := 1; i < len(b.Payload); i++ {
					if b.Payload[i]["created_at"].(string) < b.Payload[i-1]["created_at"].(string) {
						t.Errorf("bundle out of order: %s", g.Body)
					}
				}
				requests++
				events = append(events, b.Payload...)
				biggest = max(biggest, len(b.Payload))
			}
			return
		}
		e2e.WaitUntil(t, "bundled events", func() bool { _, evs, _ := count(bundled); return len(evs) >= 8 })
		e2e.WaitUntil(t, "single events", func() bool { return len(single.Events()) >= 8 })
		time.Sleep(1500 * time.Millisecond) // nothing more arrives
		requests, events, biggest := count(bundled)
		if len(events) != 8 || biggest < 2 || requests >= 8 {
			t.Errorf("bundles: %d events in %d requests (largest %d)", len(events), requests, biggest)
		}
		seen := map[string]bool{}
		order := map[string][]string{}
		for _, ev := range events {
			if seen[ev["id"].(string)] {
				t.Errorf("event %s delivered twice", ev["id"])
			}
			seen[ev["id"].(string)] = true
			obj := ev["object"].(map[string]any)
			order[obj["id"].(string)] = append(order[obj["id"].(string)], ev["type"].(string))
			if ev["webhook_id"] == nil || obj["instrument_suitability"] == nil {
				t.Errorf("bundled event: %v", ev)
			}
			// Each member is completed as its event saw the check.
			want := map[string]string{"USER_CHECK.CREATED": "PENDING", "USER_CHECK.PASSED": "PASSED", "USER_CHECK.FAILED": "FAILED"}[ev["type"].(string)]
			if obj["status"] != want {
				t.Errorf("bundled %s event shows the check %v", ev["type"], obj["status"])
			}
		}
		for i, id := range ids {
			want := "USER_CHECK.PASSED"
			if i%2 == 1 {
				want = "USER_CHECK.FAILED"
			}
			if got := order[id]; len(got) != 2 || got[0] != "USER_CHECK.CREATED" || got[1] != want {
				t.Errorf("check %d: %v", i, got)
			}
		}
		if evs := single.Events(); len(evs) != 8 || evs[0]["type"] == nil || evs[0]["payload"] != nil {
			t.Errorf("single endpoint: %d %v", len(evs), evs)
		}
	})
}

// TestSandboxEvidence: in sandbox mode kycd serves an evidence bucket, so a
// check can be tried offline: its good zip passes, its hostile ones fail.
func TestSandboxEvidence(t *testing.T) {
	t.Parallel()
	db := e2e.Databases(t)[0]
	e := e2e.NewChecksEnv(t, db, "--sandbox")
	if res := e.Decided(e.User, e2e.SeedKYC(e.Base+"/sandbox/evidence/ident.zip")); res.JSON["status"] != "PASSED" {
		t.Fatalf("sandbox ident.zip: %s", res.Body)
	}
	other := e.NewUser("other@sandbox.example")
	for name, problem := range map[string]string{"traversal.zip": "unsafe_path", "bomb.zip": "decompression_limit", "truncated.zip": "not_a_zip"} {
		res := e.Decided(other, e2e.SeedKYC(e.Base+"/sandbox/evidence/"+name))
		if code, d := e2e.ReasonOf(res); code != "evidence_invalid" || d["problem"] != problem {
			t.Errorf("%s: %s", name, res.Body)
		}
	}
}

// TestCheckDeferredEffects: seed 001's KYC check of users created with the
// seed's data and nothing else (no name, birthdate or birthplace yet; or a
// declared address the check's may not replace) passes: a check fails only
// for reasons about itself. What the Core processes do not accept yet is
// deferred and applied once they do (here, when the profile is complete);
// a conflict is on the check and on the audit trail.
func TestCheckDeferredEffects(t *testing.T) {
	t.Parallel()
	ev := newEvidenceServer(t, "127.0.0.1")
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db, "--allow-private-network", "--evidence-allow-http")
		tn := k.NewTenant(t, "deferred")
		e := &e2e.ChecksEnv{Proc: k, T: t, Tenant: tn, Tok: k.Token(t, tn, "")}
		newUser := func(email string, extra map[string]any) string {
			body := map[string]any{"email": email, "termsOfService": "general-pt-bop", "primaryCitizenship": "DE", "address": map[string]any{"country": "DE"}}
			for k, v := range extra {
				body[k] = v
			}
			res := k.Call(t, "POST", "/core/users", e.Tok, "", body)
			if res.Status != 201 {
				t.Fatalf("create user: %d %s", res.Status, res.Body)
			}
			return res.Get("user.id").(string)
		}
		effect := func(res *e2e.Response, process string) string {
			return fmt.Sprintf("%v %v", res.Get("core_processes."+process+".status"), res.Get("core_processes."+process+".reasons"))
		}
		completeProfile := func(user string) {
			res := k.Call(t, "PATCH", "/core/kyc/processes/profile", e.Tok, user, map[string]any{"input": map[string]any{
				"fullName": "Hans Peter Müller", "birthdate": "1980-05-17", "birthplace": map[string]any{"country": "DE", "town": "Köln"}}})
			if res.Status != 200 || res.Get("profile.status") != "ok" {
				t.Fatalf("profile: %d %s", res.Status, res.Body)
			}
		}

		// The seed's data only: the check passes; the confirmed address is
		// the user's now; the identity waits for the profile.
		bare := newUser("bare@deferred.example", nil)
		got := e.Decided(bare, e2e.SeedKYC(ev.URL+"/ident.zip"))
		if got.JSON["status"] != "PASSED" || got.JSON["failure_reasons"] != nil || effect(got, "address") != "applied <nil>" ||
			effect(got, "identity") != "deferred [missing-name missing-birthdate]" {
			t.Fatalf("the seed's check of a bare user: %s", got.Body)
		}
		ov := k.Call(t, "GET", "/core/kyc", e.Tok, bare, nil)
		if ov.Get("processes.identity.status") != "pending" || ov.Get("processes.address.status") != "ok" {
			t.Errorf("overview before the profile: %s", ov.Body)
		}
		// The profile completes: the identity follows, by itself.
		completeProfile(bare)
		e2e.WaitUntil(t, "the deferred identity", func() bool {
			return effect(e.Call(t, "GET", "/users/"+bare+"/checks/"+got.JSON["id"].(string), e.Tok, "", nil), "identity") == "applied <nil>"
		})
		ov = k.Call(t, "GET", "/core/kyc?detailed=identity", e.Tok, bare, nil)
		if ov.Get("processes.identity.status") != "ok" || ov.Get("processes.identity.verification.model") != "partner-verified" ||
			ov.Get("processes.identity.output.provider") != "KYC provider" || ov.Get("processes.identity.input.data.familyName") != "Müller" {
			t.Errorf("identity after the profile: %s", ov.Body)
		}

		// A declared address in another state, which the check may not
		// change (only a partner-verified proof of address may): a
		// conflict, on the check and the audit trail; the check passes and
		// its identity is still applied when the profile completes.
		munich := newUser("munich@deferred.example", map[string]any{"fullName": "Hans Peter Müller", "birthdate": "1980-05-17",
			"address": map[string]any{"country": "DE", "subdivision": "DE-BY", "city": "München", "line1": "Hauptstraße 1", "postalCode": "80331"}})
		got = e.Decided(munich, e2e.SeedKYC(ev.URL+"/ident.zip"))
		if got.JSON["status"] != "PASSED" || effect(got, "address") != "conflict [subdivision-update-non-authoritative-proof-of-address]" ||
			effect(got, "identity") != "deferred [kyc-process-update-not-allowed]" {
			t.Fatalf("the seed's check of a user declared elsewhere: %s", got.Body)
		}
		auditor := k.ClientToken(t, tn.ID, "auditor", "admin.audit:read")
		audit := k.Call(t, "GET", "/admin/audit?limit=1000", auditor, "", nil)
		if !strings.Contains(string(audit.Body), "subdivision-update-non-authoritative-proof-of-address") || !strings.Contains(string(audit.Body), `"action":"check.decided"`) {
			t.Errorf("the conflict is not on the audit trail: %s", audit.Body)
		}
		completeProfile(munich)
		e2e.WaitUntil(t, "the deferred identity", func() bool {
			return effect(e.Call(t, "GET", "/users/"+munich+"/checks/"+got.JSON["id"].(string), e.Tok, "", nil), "identity") == "applied <nil>"
		})
		if res := e.Call(t, "GET", "/users/"+munich+"/checks/"+got.JSON["id"].(string), e.Tok, "", nil); effect(res, "address") != "conflict [subdivision-update-non-authoritative-proof-of-address]" {
			t.Errorf("the conflict after the profile: %s", res.Body)
		}
		if me := k.Call(t, "GET", "/core/users/me", e.Tok, munich, nil); me.Get("user.address.city") != "München" {
			t.Errorf("the declared address was replaced: %s", me.Body)
		}
		audit = k.Call(t, "GET", "/admin/audit?limit=1000", auditor, "", nil)
		if !strings.Contains(string(audit.Body), `"action":"check.core-processes-updated"`) {
			t.Errorf("the deferred identity's application is not on the audit trail")
		}
	})
}
