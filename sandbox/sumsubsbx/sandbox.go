// Package sumsubsbx is a faithful simulator of the parts of Sumsub's API the
// KYC Connector uses (what connector/sumsub calls), for tests and `kycd serve --sandbox`.
package sumsubsbx

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"image/color"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kycd/kycd/connector/sumsub"
	"github.com/kycd/kycd/sandbox"
)

// Sandbox is a faithful fake of the parts of Sumsub's API the connector
// uses, for tests and for `kycd serve --sandbox` (mounted under a prefix):
// it checks the app token, the signature over the exact request URI and
// body, and the timestamp's freshness (±60 s) like Sumsub; answers with
// Sumsub's documented shapes and error bodies; and serves generated images.
//
// Applicants Green, Red and Pending exist from the
// start; the share tokens ShareGreen and ShareRed import a
// copy of the green or red applicant (once each import, as real tokens are
// single-use per import; the sandbox's may be used again).
type Sandbox struct {
	mu         sync.Mutex
	apps       map[string]string // app token -> secret
	applicants map[string]map[string]any
	images     map[string][]map[string]any // applicant id -> image metadata
	content    map[string][]byte           // image id -> bytes
	shares     map[string]string           // share token -> applicant id
	tokens     map[string]AccessToken      // WebSDK access tokens and links issued
	faults     *sandbox.FaultScript
	now        func() time.Time
	// webhookURL and webhookSecret are where and how review webhooks go.
	webhookURL, webhookSecret string
	emit                      sandbox.Emitter
}

// SetHTTP sets the client the sandbox sends its webhooks with (kycd's
// netguard client, as every outbound call); call it before the sandbox
// serves.
func (s *Sandbox) SetHTTP(hc *http.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emit.HTTP = hc
}

// SetWebhook makes the sandbox send applicantReviewed webhooks (signed
// with secret, HMAC_SHA256_HEX) to url when testCompleted decides an
// applicant, as a Webhook manager entry would.
func (s *Sandbox) SetWebhook(url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookURL, s.webhookSecret = url, secret
}

// Sandbox fixtures.
const (
	Green      = "5cb56e8e0a975a35f333cb01"
	Red        = "5cb56e8e0a975a35f333cb02"
	Pending    = "5cb56e8e0a975a35f333cb03"
	ShareGreen = "_act-sbx-share-green"
	ShareRed   = "_act-sbx-share-red"
)

// New returns a sandbox accepting the given app tokens (token to secret).
func New(apps map[string]string) *Sandbox {
	s := &Sandbox{apps: apps, applicants: map[string]map[string]any{}, images: map[string][]map[string]any{},
		content: map[string][]byte{}, now: time.Now,
		shares: map[string]string{ShareGreen: Green, ShareRed: Red}, tokens: map[string]AccessToken{},
		// Sumsub's default limits: GET 300 and POST 50 per 5 s.
		faults: sandbox.NewFaultScript(5*time.Second, map[string]int{http.MethodGet: 300, http.MethodPost: 50})}
	s.add(Green, "completed", "GREEN")
	s.add(Red, "completed", "RED")
	s.add(Pending, "pending", "")
	return s
}

// AccessToken is a WebSDK access token (or link) the sandbox issued: the
// user it is bound to, its level and its end.
type AccessToken struct {
	UserID    string    `json:"userId"`
	LevelName string    `json:"levelName"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// issue records a token or link for a user and makes sure the user has
// an applicant waiting for review, as the WebSDK does on first use.
func (s *Sandbox) issue(w http.ResponseWriter, token, userID, level, ttlInSecs string) bool {
	if userID == "" || level == "" {
		fail(w, http.StatusBadRequest, 0, "", "userId and levelName are required")
		return false
	}
	ttl, err := strconv.Atoi(ttlInSecs)
	if ttlInSecs == "" {
		ttl, err = 600, nil
	}
	if err != nil || ttl <= 0 {
		fail(w, http.StatusBadRequest, 0, "", "ttlInSecs must be a positive number")
		return false
	}
	s.tokens[token] = AccessToken{UserID: userID, LevelName: level, ExpiresAt: s.now().Add(time.Duration(ttl) * time.Second)}
	if s.applicantOf(userID) == "" {
		id := randomHex(12)
		s.addPerson(id, "init", "", christian, userID)
		s.applicants[id]["review"].(map[string]any)["levelName"] = level
	}
	return true
}

// applicantOf returns the applicant of an externalUserId, or "".
func (s *Sandbox) applicantOf(externalUserID string) string {
	for id, a := range s.applicants {
		if a["externalUserId"] == externalUserID {
			return id
		}
	}
	return ""
}

// sandboxPerson is who a sandbox applicant is.
type sandboxPerson struct {
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Dob       string `json:"dob"`
	Country   string `json:"country"`
}

var christian = sandboxPerson{FirstName: "Christian", LastName: "Smith", Dob: "1989-07-16", Country: "GBR"}

func (s *Sandbox) add(id, status, answer string) { s.addPerson(id, status, answer, christian, "") }

// addPerson creates an applicant of a person, with a passport, a selfie
// and a utility bill.
func (s *Sandbox) addPerson(id, status, answer string, p sandboxPerson, externalUserID string) {
	insp := id[:20] + "ffff"
	review := map[string]any{"levelName": "basic-kyc-level", "reviewStatus": status, "attemptCnt": 1}
	if status == "completed" {
		review["reviewDate"] = s.now().UTC().Format("2006-01-02 15:04:05+0000")
	}
	if answer != "" {
		review["reviewResult"] = reviewResult(answer, "")
	}
	if externalUserID == "" {
		externalUserID = "sandbox-" + id[len(id)-2:]
	}
	upper := func(v string) string { return strings.ToUpper(v) }
	s.applicants[id] = map[string]any{
		"id": id, "createdAt": s.now().UTC().Format("2006-01-02 15:04:05"), "inspectionId": insp, "externalUserId": externalUserID,
		"type": "individual", "review": review,
		"info": map[string]any{"firstName": upper(p.FirstName), "lastName": upper(p.LastName), "dob": p.Dob, "country": p.Country,
			"addresses": []any{map[string]any{"street": "1 High Street", "town": "Manchester", "postCode": "M4 1AA", "country": "GBR"}},
			"idDocs": []any{map[string]any{"idDocType": "PASSPORT", "country": p.Country, "number": "S" + id[len(id)-6:],
				"firstName": upper(p.FirstName), "lastName": upper(p.LastName), "dob": p.Dob, "validUntil": s.now().AddDate(5, 0, 0).Format("2006-01-02")}}},
		"fixedInfo": map[string]any{"firstName": p.FirstName, "lastName": p.LastName, "gender": "M", "nationality": p.Country},
	}
	var items []map[string]any
	for i, part := range []struct{ typ, sub string }{{"PASSPORT", ""}, {"SELFIE", ""}, {"UTILITY_BILL", ""}} {
		imgID := strconv.Itoa(449741300 + len(s.content))
		s.content[imgID] = sandbox.PNG(color.RGBA{uint8(60 * i), 120, 200, 255})
		def := map[string]any{"country": p.Country, "idDocType": part.typ}
		items = append(items, map[string]any{"id": imgID, "addedDate": s.now().UTC().Format("2006-01-02 15:04:05"), "idDocDef": def,
			"fileMetadata": map[string]any{"fileName": strings.ToLower(part.typ) + ".png", "fileType": "png", "fileSize": len(s.content[imgID])},
			"reviewResult": map[string]any{"reviewAnswer": "GREEN"}, "deactivated": false})
	}
	s.images[id] = items
}

// reviewResult is a review's result: GREEN, or RED with a reject type
// (FINAL by default, RETRY for a resubmission).
func reviewResult(answer, rejectType string) map[string]any {
	rr := map[string]any{"reviewAnswer": answer}
	if answer == "RED" {
		if rejectType == "" {
			rejectType = "FINAL"
		}
		labels := []string{"FORGERY"}
		if rejectType == "RETRY" {
			labels = []string{"BAD_PROOF_OF_IDENTITY"}
		}
		rr["reviewRejectType"], rr["rejectLabels"] = rejectType, labels
	}
	return rr
}

// fail writes Sumsub's error body.
func fail(w http.ResponseWriter, status, errorCode int, name, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := map[string]any{"description": description, "code": status, "correlationId": "req-sandbox"}
	if errorCode != 0 {
		body["errorCode"], body["errorName"] = errorCode, name
	}
	_ = json.NewEncoder(w).Encode(body)
}

// ServeHTTP implements http.Handler, with paths as Sumsub's (/resources/...).
//
// Besides Sumsub's own endpoints for reading applicants, it serves those a
// sandbox integration uses to make test data: POST /resources/applicants
// (create), POST /resources/applicants/{id}/status/testCompleted (decide)
// and POST /resources/accessTokens/shareToken (share); and one of its own,
// POST /_sandbox/faults {"ref": applicant id or share token, "faults":
// sandbox.Faults}, which scripts failures.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		fail(w, http.StatusBadRequest, 0, "", "Request body is too large")
		return
	}
	secret, ok := s.apps[r.Header.Get(sumsub.HeaderAppToken)]
	if !ok {
		fail(w, http.StatusUnauthorized, 4001, "app-token-not-found", "App token not found")
		return
	}
	ts, err := strconv.ParseInt(r.Header.Get(sumsub.HeaderTS), 10, 64)
	if err != nil {
		fail(w, http.StatusUnauthorized, 4006, "missing-auth-headers", "Missing or invalid auth headers")
		return
	}
	// Sign over the request target as received (path and query, as sent).
	if !hmacEqual(r.Header.Get(sumsub.HeaderSig), sumsub.Sign(secret, ts, r.Method, r.RequestURI, body)) {
		fail(w, http.StatusUnauthorized, 4003, "app-token-signature-mismatch", "Invalid signature")
		return
	}
	if d := s.now().Sub(time.Unix(ts, 0)); d > time.Minute || d < -time.Minute {
		fail(w, http.StatusUnauthorized, 4004, "request-expired", "Request expired")
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method == http.MethodPost && r.URL.Path == "/_sandbox/faults" {
		var req struct {
			Ref    string         `json:"ref"`
			Faults sandbox.Faults `json:"faults"`
		}
		if json.Unmarshal(body, &req) != nil || req.Ref == "" {
			fail(w, http.StatusBadRequest, 0, "", "Expected {ref, faults}")
			return
		}
		s.faults.Set(req.Ref, req.Faults)
		writeJSON(w, map[string]any{"ok": true})
		return
	}
	ref := s.refOf(r, parts)
	if s.faults.Intercept(w, r, ref, func(w http.ResponseWriter, status int) {
		fail(w, status, 0, "", http.StatusText(status))
	}) {
		return
	}
	malformed, oversized := s.faults.Flags(ref)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/resources/applicants/-/import":
		s.importToken(w, r.URL.Query().Get("shareToken"))
	case r.Method == http.MethodPost && r.URL.Path == "/resources/applicants":
		s.createApplicant(w, body)
	case r.Method == http.MethodPost && r.URL.Path == "/resources/accessTokens/shareToken":
		var req struct {
			ApplicantID string `json:"applicantId"`
			ForClientID string `json:"forClientId"`
		}
		if json.Unmarshal(body, &req) != nil || s.applicants[req.ApplicantID] == nil {
			fail(w, http.StatusNotFound, 0, "", "Applicant not found")
			return
		}
		token := "_act-sbx-share-" + randomHex(12)
		s.shares[token] = req.ApplicantID
		writeJSON(w, map[string]any{"token": token, "forClientId": req.ForClientID})
	case r.Method == http.MethodPost && r.URL.Path == "/resources/accessTokens":
		q := r.URL.Query()
		token := "_act-sbx-" + randomHex(16)
		if s.issue(w, token, q.Get("userId"), q.Get("levelName"), q.Get("ttlInSecs")) {
			writeJSON(w, map[string]any{"token": token, "userId": q.Get("userId")})
		}
	case r.Method == http.MethodPost && len(parts) == 5 && parts[1] == "sdkIntegrations" && parts[2] == "levels" && parts[4] == "websdkLink":
		q := r.URL.Query()
		token := "sbx_" + randomHex(16)
		if s.issue(w, token, q.Get("externalUserId"), parts[3], q.Get("ttlInSecs")) {
			writeJSON(w, map[string]any{"url": "https://in.sumsub.com/websdk/p/" + token})
		}
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "_sandbox" && parts[1] == "accessTokens":
		t, ok := s.tokens[parts[2]]
		if !ok {
			fail(w, http.StatusNotFound, 0, "", "Token not found")
			return
		}
		writeJSON(w, t)
	case r.Method == http.MethodPost && len(parts) == 5 && parts[1] == "applicants" && parts[3] == "info" && parts[4] == "idDoc":
		s.addIDDoc(w, r.Header.Get("Content-Type"), parts[2], body)
	case r.Method == http.MethodPost && len(parts) == 5 && parts[1] == "applicants" && parts[3] == "status" && parts[4] == "testCompleted":
		s.testCompleted(w, parts[2], body)
	case r.Method == http.MethodGet && len(parts) == 4 && parts[1] == "applicants" && parts[3] == "one":
		if ext, ok := strings.CutPrefix(parts[2], "-;externalUserId="); ok {
			parts[2] = s.applicantOf(ext)
		}
		a, ok := s.applicants[parts[2]]
		if !ok {
			fail(w, http.StatusNotFound, 0, "", "Applicant not found")
			return
		}
		if malformed {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"id": "`+parts[2]+`", "info": {"firstName": `)
			return
		}
		writeJSON(w, a)
	case r.Method == http.MethodGet && len(parts) == 5 && parts[1] == "applicants" && parts[3] == "metadata" && parts[4] == "resources":
		items, ok := s.images[parts[2]]
		if !ok {
			fail(w, http.StatusNotFound, 0, "", "Applicant not found")
			return
		}
		writeJSON(w, map[string]any{"items": items})
	case r.Method == http.MethodGet && len(parts) == 5 && parts[1] == "inspections" && parts[3] == "resources":
		content, ok := s.content[parts[4]]
		if !ok {
			fail(w, http.StatusNotFound, 0, "", "Image not found")
			return
		}
		if oversized {
			content = sandbox.Oversized()
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(content)
	default:
		fail(w, http.StatusNotFound, 0, "", "Not found")
	}
}

// refOf returns the applicant (or share token) a request is about, which
// its scripted faults are keyed by.
func (s *Sandbox) refOf(r *http.Request, parts []string) string {
	switch {
	case r.URL.Path == "/resources/applicants/-/import":
		return r.URL.Query().Get("shareToken")
	case len(parts) >= 3 && parts[1] == "applicants":
		return parts[2]
	case len(parts) >= 3 && parts[1] == "inspections":
		s.mu.Lock()
		defer s.mu.Unlock()
		for id, a := range s.applicants {
			if a["inspectionId"] == parts[2] {
				return id
			}
		}
	}
	return ""
}

// createApplicant creates an applicant (POST /resources/applicants) from
// its externalUserId and fixedInfo; it waits for a review (init) until
// testCompleted decides it.
func (s *Sandbox) createApplicant(w http.ResponseWriter, body []byte) {
	var req struct {
		ExternalUserID string        `json:"externalUserId"`
		FixedInfo      sandboxPerson `json:"fixedInfo"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.ExternalUserID == "" {
		fail(w, http.StatusBadRequest, 0, "", "externalUserId is required")
		return
	}
	p := req.FixedInfo
	if p.FirstName == "" || p.LastName == "" {
		p.FirstName, p.LastName = christian.FirstName, christian.LastName
	}
	if p.Dob == "" {
		p.Dob = christian.Dob
	}
	if p.Country == "" {
		p.Country = christian.Country
	}
	id := randomHex(12)
	s.addPerson(id, "init", "", p, req.ExternalUserID)
	writeJSON(w, s.applicants[id])
}

// unrecognized is what the sandbox's review says of a document image a
// client added: it reads nothing from images (Sumsub's own words for an
// image it cannot read), and leaves it unreviewed.
const unrecognized = "There is no available data to recognize from image"

// addIDDoc adds a document image to an applicant, as Sumsub's "Add ID
// document" does (multipart: metadata {idDocType, idDocSubType, country}
// and content), and answers with the document's metadata and its image id
// (X-Image-Id).
func (s *Sandbox) addIDDoc(w http.ResponseWriter, contentType, id string, body []byte) {
	if _, ok := s.applicants[id]; !ok {
		fail(w, http.StatusNotFound, 0, "", "Applicant not found")
		return
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil || params["boundary"] == "" {
		fail(w, http.StatusBadRequest, 0, "", "Expected multipart/form-data")
		return
	}
	var (
		def     map[string]any
		content []byte
	)
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		raw, _ := io.ReadAll(io.LimitReader(part, 10<<20))
		switch part.FormName() {
		case "metadata":
			_ = json.Unmarshal(raw, &def)
		case "content":
			content = raw
		}
	}
	if typ, _ := def["idDocType"].(string); typ == "" || len(content) == 0 {
		fail(w, http.StatusBadRequest, 0, "", "metadata.idDocType and content are required")
		return
	}
	imgID := strconv.Itoa(449741300 + len(s.content))
	s.content[imgID] = content
	s.images[id] = append(s.images[id], map[string]any{"id": imgID, "addedDate": s.now().UTC().Format("2006-01-02 15:04:05"), "idDocDef": def,
		"fileMetadata": map[string]any{"fileName": "document", "fileSize": len(content)}, "reviewResult": map[string]any{"clientComment": unrecognized},
		"deactivated": false})
	w.Header().Set("X-Image-Id", imgID)
	writeJSON(w, def)
}

// testCompleted decides a sandbox applicant's review, as Sumsub's sandbox
// endpoint does: {"reviewAnswer": "GREEN"|"RED", "reviewRejectType": "FINAL"|"RETRY", "clientComment",
// "moderationComment"} (the comments are the review's, and its webhook's).
func (s *Sandbox) testCompleted(w http.ResponseWriter, id string, body []byte) {
	a, ok := s.applicants[id]
	if !ok {
		fail(w, http.StatusNotFound, 0, "", "Applicant not found")
		return
	}
	var req struct {
		ReviewAnswer      string `json:"reviewAnswer"`
		ReviewRejectType  string `json:"reviewRejectType"`
		ClientComment     string `json:"clientComment"`
		ModerationComment string `json:"moderationComment"`
	}
	if json.Unmarshal(body, &req) != nil || (req.ReviewAnswer != "GREEN" && req.ReviewAnswer != "RED") {
		fail(w, http.StatusBadRequest, 0, "", "reviewAnswer must be GREEN or RED")
		return
	}
	review := a["review"].(map[string]any)
	rr := reviewResult(req.ReviewAnswer, req.ReviewRejectType)
	if req.ClientComment != "" {
		rr["clientComment"] = req.ClientComment
	}
	if req.ModerationComment != "" {
		rr["moderationComment"] = req.ModerationComment
	}
	review["reviewStatus"], review["reviewResult"] = "completed", rr
	review["reviewDate"] = s.now().UTC().Format("2006-01-02 15:04:05+0000")
	if s.webhookURL != "" {
		body, _ := json.Marshal(map[string]any{"applicantId": id, "inspectionId": a["inspectionId"], "correlationId": "req-" + randomHex(8),
			"externalUserId": a["externalUserId"], "levelName": review["levelName"], "type": "applicantReviewed",
			"reviewResult": review["reviewResult"], "reviewStatus": "completed", "sandboxMode": true,
			"createdAtMs": s.now().UTC().Format("2006-01-02 15:04:05.000")})
		s.emit.Send(s.webhookURL, map[string]string{sumsub.HeaderDigest: sumsub.WebhookDigest(s.webhookSecret, body),
			sumsub.HeaderDigestAlg: "HMAC_SHA256_HEX"}, body)
	}
	writeJSON(w, map[string]any{"ok": 1})
}

// importToken copies the applicant a share token stands for into a new
// one (with the faults scripted for the token or the applicant).
func (s *Sandbox) importToken(w http.ResponseWriter, token string) {
	from := s.shares[token]
	if from == "" {
		fail(w, http.StatusUnauthorized, 0, "", "Invalid or expired share token")
		return
	}
	id := randomHex(12)
	raw, _ := json.Marshal(s.applicants[from])
	var copied map[string]any
	_ = json.Unmarshal(raw, &copied)
	copied["id"], copied["inspectionId"] = id, id[:20]+"ffff"
	s.applicants[id] = copied
	s.images[id] = s.images[from]
	s.faults.Copy(token, id)
	s.faults.Copy(from, id)
	writeJSON(w, copied)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func hmacEqual(a, b string) bool {
	x, err1 := hex.DecodeString(a)
	y, err2 := hex.DecodeString(b)
	return err1 == nil && err2 == nil && subtle.ConstantTimeCompare(x, y) == 1
}

// SetLatency delays every answer (benchmarks and crash tests measure
// against a provider that takes its time).
func (s *Sandbox) SetLatency(d time.Duration) { s.faults.SetLatency(d) }
