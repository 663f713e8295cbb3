// Package veriffsbx is a faithful simulator of the parts of Veriff's API the
// KYC Connector uses (what connector/veriff calls), for tests and `kycd serve --sandbox`.
package veriffsbx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd/connector/veriff"
	"github.com/kycd/kycd/sandbox"
)

// Sandbox is a faithful fake of the parts of Veriff's API the connector
// uses, for tests and for `kycd serve --sandbox` (mounted under a prefix):
// it checks X-AUTH-CLIENT and X-HMAC-SIGNATURE like Veriff, answers with
// Veriff's documented shapes and errors, and serves generated images.
//
// It starts with documented sessions (SandboxSessions) and creates more with
// POST /v1/sessions, whose vendorData picks the outcome: "approved",
// "declined", "resubmission" (a vendorData ending "+poa" adds a
// proof-of-address image), or anything else (a kycd user id, say): no
// decision yet, until one is forced. Two
// endpoints of its own stand in for Veriff's Customer Portal:
// POST /v1/_sandbox/decision {"sessionId", "status": approved|declined|
// resubmission_requested} decides a session, and POST /v1/_sandbox/faults
// {"ref": session id, "faults": sandbox.Faults} scripts failures.
type Sandbox struct {
	mu           sync.Mutex
	integrations map[string]string // API key -> shared secret
	sessions     map[string]*sandboxSession
	media        map[string][]byte
	mediaSession map[string]string // media id -> session id
	faults       *sandbox.FaultScript
	webhookURL   string
	emit         sandbox.Emitter
}

// SetHTTP sets the client the sandbox sends its webhooks with (kycd's
// netguard client, as every outbound call); call it before the sandbox
// serves.
func (s *Sandbox) SetHTTP(hc *http.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emit.HTTP = hc
}

// SetWebhook makes the sandbox send decision webhooks to url (signed with
// the deciding integration's shared secret) when a session is decided.
func (s *Sandbox) SetWebhook(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookURL = url
}

type sandboxSession struct {
	decision map[string]any // the verification object
	decided  bool           // false: no decision yet (verification null)
	images   []map[string]any
}

// Sandbox session ids, fixed so that tests and documentation can name them.
const (
	Approved     = "8d3a0c3e-1b7e-4a4e-9a3c-000000000001"
	Declined     = "8d3a0c3e-1b7e-4a4e-9a3c-000000000002"
	Undecided    = "8d3a0c3e-1b7e-4a4e-9a3c-000000000003"
	Resubmission = "8d3a0c3e-1b7e-4a4e-9a3c-000000000004"
	// Address is an approved proof-of-address session of the person
	// of Approved.
	Address = "8d3a0c3e-1b7e-4a4e-9a3c-000000000005"
)

// New returns a sandbox that accepts the given integrations (API key
// to shared secret).
func New(integrations map[string]string) *Sandbox {
	s := &Sandbox{integrations: integrations, sessions: map[string]*sandboxSession{}, media: map[string][]byte{},
		mediaSession: map[string]string{}, faults: sandbox.NewFaultScript(time.Second, nil)}
	s.add(Approved, "approved", "SARAH", "MORGAN", "1967-03-30")
	s.add(Declined, "declined", "JOHN", "SMITH", "1980-01-01")
	s.add(Undecided, "pending", "ANNA", "SILVA", "1990-05-05")
	s.add(Resubmission, "resubmission", "LEE", "WONG", "1985-07-07")
	s.add(Address, "approved+poa", "SARAH", "MORGAN", "1967-03-30")
	return s
}

// add creates a session with an outcome.
func (s *Sandbox) add(id, outcome, first, last, birth string) {
	s.addSession(id, outcome, outcome, first, last, birth)
}

// addSession creates a session: outcome is approved, declined,
// resubmission (each optionally +poa) or anything else (no decision yet);
// vendorData is the partner's reference.
func (s *Sandbox) addSession(id, outcome, vendorData, first, last, birth string) {
	sess := &sandboxSession{}
	contexts := []string{"document-front", "document-back", "face"}
	if strings.Contains(outcome, "poa") {
		contexts = append(contexts, "address-front")
	}
	for _, ctx := range contexts {
		mid := uuid.NewString()
		s.media[mid] = sandboxImage(ctx)
		s.mediaSession[mid] = id
		sess.images = append(sess.images, map[string]any{"id": mid, "sessionId": id, "context": ctx, "mimetype": "image/png",
			"name": ctx, "size": len(s.media[mid]), "url": "/v1/media/" + mid})
	}
	{
		status, code := "approved", 9001
		var reason, reasonCode any
		switch base := strings.TrimSuffix(outcome, "+poa"); base {
		case "approved":
			sess.decided = true
		case "declined":
			status, code, reason, reasonCode, sess.decided = "declined", 9102, "Suspected document tampering", 102, true
		case "resubmission":
			status, code, reason, reasonCode, sess.decided = "resubmission_requested", 9103, "Poor image quality", 204, true
		}
		sess.decision = map[string]any{
			"id": id, "attemptId": uuid.NewString(), "code": code, "status": status, "reason": reason, "reasonCode": reasonCode,
			"person": map[string]any{"firstName": first, "lastName": last, "dateOfBirth": birth, "gender": nil, "idNumber": nil,
				"nationality": "GB", "addresses": []any{map[string]any{"fullAddress": "1 High Street, Manchester, M4 1AA, GBR",
					"parsedAddress": map[string]any{"city": "Manchester", "unit": nil, "state": nil, "street": "1 High Street",
						"country": "GBR", "postcode": "M4 1AA", "houseNumber": "1"}}}},
			"document": map[string]any{"type": "PASSPORT", "number": "P" + strings.ToUpper(id[len(id)-8:]), "country": "GB",
				"validFrom": nil, "validUntil": time.Now().AddDate(5, 0, 0).Format("2006-01-02")},
			"comments": []any{}, "vendorData": vendorData, "decisionTime": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		}
	}
	s.sessions[id] = sess
}

// sandboxImage is a small PNG that names its context in its colour.
func sandboxImage(context string) []byte {
	return sandbox.PNG(color.RGBA{uint8(len(context) * 20), 80, 160, 255})
}

func (s *Sandbox) fail(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "fail", "code": code, "message": message})
}

// ServeHTTP implements http.Handler, with paths as Veriff's (/v1/...).
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 || parts[0] != "v1" {
		s.fail(w, http.StatusNotFound, "404", "Not found")
		return
	}
	secret, ok := s.integrations[r.Header.Get(veriff.HeaderAuthClient)]
	if !ok {
		s.fail(w, http.StatusUnauthorized, "1812", "Integration not found")
		return
	}
	var body []byte
	if r.Method == http.MethodPost {
		var err error
		if body, err = readAll(r, 1<<20); err != nil {
			s.fail(w, http.StatusBadRequest, "1104", "Request body is invalid")
			return
		}
	}
	// GETs sign the id in their path: the session id or the media id.
	if r.Method == http.MethodGet && len(parts) >= 3 && !s.signed(r, secret, parts[2]) {
		s.fail(w, http.StatusUnauthorized, "1102", "Signature does not match")
		return
	}
	ref := ""
	if len(parts) >= 3 {
		ref = parts[2]
		s.mu.Lock()
		if sid, ok := s.mediaSession[ref]; ok && parts[1] == "media" {
			ref = sid
		}
		s.mu.Unlock()
	}
	if parts[1] != "_sandbox" && s.faults.Intercept(w, r, ref, func(w http.ResponseWriter, status int) {
		s.fail(w, status, strconv.Itoa(status), http.StatusText(status))
	}) {
		return
	}
	malformed, oversized := s.faults.Flags(ref)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && len(parts) == 3 && parts[1] == "_sandbox" && parts[2] == "faults":
		var req struct {
			Ref    string         `json:"ref"`
			Faults sandbox.Faults `json:"faults"`
		}
		if json.Unmarshal(body, &req) != nil || req.Ref == "" {
			s.fail(w, http.StatusBadRequest, "1104", "Expected {ref, faults}")
			return
		}
		s.faults.Set(req.Ref, req.Faults)
		writeJSON(w, map[string]any{"status": "success"})
	case r.Method == http.MethodPost && len(parts) == 3 && parts[1] == "_sandbox" && parts[2] == "decision":
		s.decide(w, body, r.Header.Get(veriff.HeaderAuthClient), secret)
	case r.Method == http.MethodPost && len(parts) == 2 && parts[1] == "sessions":
		s.createSession(w, body, secret, r.Header.Get(veriff.HeaderSignature))
	case r.Method == http.MethodGet && len(parts) == 4 && parts[1] == "sessions":
		sess, ok := s.sessions[parts[2]]
		if !ok {
			s.fail(w, http.StatusNotFound, "1818", "Session not found")
			return
		}
		switch parts[3] {
		case "decision":
			if malformed {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"status": "success", "verification": {"id": `))
				return
			}
			var verification any
			if sess.decided {
				verification = sess.decision
			}
			writeJSON(w, map[string]any{"status": "success", "verification": verification, "technicalData": map[string]any{"ip": "198.51.100.10"}})
		case "media":
			writeJSON(w, map[string]any{"status": "success", "images": sess.images, "videos": []any{}})
		case "person":
			p, _ := sess.decision["person"].(map[string]any)
			writeJSON(w, map[string]any{"status": "success", "person": map[string]any{"id": uuid.NewSHA1(uuid.NameSpaceOID, []byte(parts[2])).String(),
				"firstName": p["firstName"], "lastName": p["lastName"], "idCode": nil, "dateOfBirth": p["dateOfBirth"], "gender": nil,
				"nationality": p["nationality"], "placeOfBirth": "MANCHESTER", "citizenships": []any{}, "pepSanctionMatches": []any{}}})
		default:
			s.fail(w, http.StatusNotFound, "404", "Not found")
		}
	case r.Method == http.MethodGet && len(parts) == 3 && parts[1] == "media":
		content, ok := s.media[parts[2]]
		if !ok {
			s.fail(w, http.StatusNotFound, "1400", "Image data not found")
			return
		}
		if oversized {
			content = sandbox.Oversized()
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(content)
	default:
		s.fail(w, http.StatusNotFound, "404", "Not found")
	}
}

// decide sets a session's decision, as a test integration's Customer
// Portal does.
func (s *Sandbox) decide(w http.ResponseWriter, body []byte, apiKey, secret string) {
	var req struct {
		SessionID string `json:"sessionId"`
		Status    string `json:"status"`
	}
	if json.Unmarshal(body, &req) != nil {
		s.fail(w, http.StatusBadRequest, "1104", "Request body is invalid")
		return
	}
	sess, ok := s.sessions[req.SessionID]
	if !ok {
		s.fail(w, http.StatusNotFound, "1818", "Session not found")
		return
	}
	codes := map[string]int{"approved": 9001, "declined": 9102, "resubmission_requested": 9103}
	code, ok := codes[req.Status]
	if !ok {
		s.fail(w, http.StatusBadRequest, "1303", "Invalid status")
		return
	}
	sess.decision["status"], sess.decision["code"], sess.decided = req.Status, code, true
	sess.decision["decisionTime"] = time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	if s.webhookURL != "" {
		payload, _ := json.Marshal(map[string]any{"status": "success", "verification": sess.decision,
			"technicalData": map[string]any{"ip": "198.51.100.10"}})
		s.emit.Send(s.webhookURL, map[string]string{veriff.HeaderAuthClient: apiKey,
			veriff.HeaderSignature: veriff.Sign(secret, payload)}, payload)
	}
	writeJSON(w, map[string]any{"status": "success"})
}

func (s *Sandbox) signed(r *http.Request, secret, payload string) bool {
	return checkSignature(r.Header.Get(veriff.HeaderSignature), []byte(payload), secret)
}

// checkSignature checks an X-HMAC-SIGNATURE value over a payload.
func checkSignature(sig string, payload []byte, secret string) bool {
	h := http.Header{}
	h.Set(veriff.HeaderSignature, sig)
	return veriff.VerifyWebhook(h, payload, secret) == nil
}

// createSession creates a session whose vendorData picks its outcome. The
// signature is optional here, as at Veriff, but checked when sent.
func (s *Sandbox) createSession(w http.ResponseWriter, body []byte, secret, sig string) {
	if sig != "" && !checkSignature(sig, body, secret) {
		s.fail(w, http.StatusUnauthorized, "1102", "Signature does not match")
		return
	}
	var req struct {
		Verification struct {
			Person struct {
				FirstName string `json:"firstName"`
				LastName  string `json:"lastName"`
			} `json:"person"`
			VendorData string `json:"vendorData"`
		} `json:"verification"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		s.fail(w, http.StatusBadRequest, "1104", "Request body is invalid")
		return
	}
	id := uuid.NewString()
	first, last := strings.ToUpper(req.Verification.Person.FirstName), strings.ToUpper(req.Verification.Person.LastName)
	if first == "" {
		first, last = "JOHN", "DOE"
	}
	s.addSession(id, req.Verification.VendorData, req.Verification.VendorData, first, last, "1987-01-01")
	writeJSON(w, map[string]any{"status": "success", "verification": map[string]any{
		"id": id, "url": "https://alchemy.veriff.com/v/" + id, "vendorData": req.Verification.VendorData, "host": "https://alchemy.veriff.com",
		"status": "created", "sessionToken": fmt.Sprintf("sandbox.%s", id)}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func readAll(r *http.Request, limit int64) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(http.MaxBytesReader(nil, r.Body, limit))
	return b.Bytes(), err
}

// SetLatency delays every answer (benchmarks and crash tests measure
// against a provider that takes its time).
func (s *Sandbox) SetLatency(d time.Duration) { s.faults.SetLatency(d) }
