package sumsub

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sandbox is a faithful fake of the parts of Sumsub's API the connector
// uses, for tests and for `kycd serve --sandbox` (mounted under a prefix):
// it checks the app token, the signature over the exact request URI and
// body, and the timestamp's freshness (±60 s) like Sumsub; answers with
// Sumsub's documented shapes and error bodies; and serves generated images.
//
// Applicants SandboxGreen, SandboxRed and SandboxPending exist from the
// start; the share tokens SandboxShareGreen and SandboxShareRed import a
// copy of the green or red applicant (once each import, as real tokens are
// single-use per import; the sandbox's may be used again).
type Sandbox struct {
	mu         sync.Mutex
	apps       map[string]string // app token -> secret
	applicants map[string]map[string]any
	images     map[string][]map[string]any // applicant id -> image metadata
	content    map[string][]byte           // image id -> bytes
	now        func() time.Time
}

// Sandbox fixtures.
const (
	SandboxGreen      = "5cb56e8e0a975a35f333cb01"
	SandboxRed        = "5cb56e8e0a975a35f333cb02"
	SandboxPending    = "5cb56e8e0a975a35f333cb03"
	SandboxShareGreen = "_act-sbx-share-green"
	SandboxShareRed   = "_act-sbx-share-red"
)

// NewSandbox returns a sandbox accepting the given app tokens (token to secret).
func NewSandbox(apps map[string]string) *Sandbox {
	s := &Sandbox{apps: apps, applicants: map[string]map[string]any{}, images: map[string][]map[string]any{},
		content: map[string][]byte{}, now: time.Now}
	s.add(SandboxGreen, "completed", "GREEN")
	s.add(SandboxRed, "completed", "RED")
	s.add(SandboxPending, "pending", "")
	return s
}

func (s *Sandbox) add(id, status, answer string) {
	insp := id[:20] + "ffff"
	review := map[string]any{"levelName": "basic-kyc-level", "reviewStatus": status, "attemptCnt": 1}
	if answer != "" {
		rr := map[string]any{"reviewAnswer": answer}
		if answer == "RED" {
			rr["reviewRejectType"], rr["rejectLabels"] = "FINAL", []string{"FORGERY"}
		}
		review["reviewResult"] = rr
	}
	s.applicants[id] = map[string]any{
		"id": id, "createdAt": "2026-01-01 10:00:00", "inspectionId": insp, "externalUserId": "sandbox-" + id[len(id)-2:],
		"type": "individual", "review": review,
		"info": map[string]any{"firstName": "CHRISTIAN", "lastName": "SMITH", "dob": "1989-07-16", "country": "GBR",
			"addresses": []any{map[string]any{"street": "1 High Street", "town": "Manchester", "postCode": "M4 1AA", "country": "GBR"}},
			"idDocs": []any{map[string]any{"idDocType": "PASSPORT", "country": "GBR", "number": "S" + id[len(id)-6:],
				"firstName": "CHRISTIAN", "lastName": "SMITH", "dob": "1989-07-16", "validUntil": time.Now().AddDate(5, 0, 0).Format("2006-01-02")}}},
		"fixedInfo": map[string]any{"firstName": "Christian", "lastName": "Smith", "gender": "M", "nationality": "GBR"},
	}
	var items []map[string]any
	for i, part := range []struct{ typ, sub string }{{"PASSPORT", ""}, {"SELFIE", ""}, {"UTILITY_BILL", ""}} {
		imgID := strconv.Itoa(449741300 + len(s.content) + i)
		s.content[imgID] = sandboxPNG(i)
		def := map[string]any{"country": "GBR", "idDocType": part.typ}
		items = append(items, map[string]any{"id": imgID, "addedDate": "2026-01-01 10:01:00", "idDocDef": def,
			"fileMetadata": map[string]any{"fileName": strings.ToLower(part.typ) + ".png", "fileType": "png", "fileSize": len(s.content[imgID])},
			"reviewResult": map[string]any{"reviewAnswer": "GREEN"}, "deactivated": false})
	}
	s.images[id] = items
}

func sandboxPNG(shade int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := 0; x < 8; x++ {
		for y := 0; y < 8; y++ {
			img.Set(x, y, color.RGBA{uint8(60 * shade), 120, 200, 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
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
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		fail(w, http.StatusBadRequest, 0, "", "Request body is too large")
		return
	}
	secret, ok := s.apps[r.Header.Get(HeaderAppToken)]
	if !ok {
		fail(w, http.StatusUnauthorized, 4001, "app-token-not-found", "App token not found")
		return
	}
	ts, err := strconv.ParseInt(r.Header.Get(HeaderTS), 10, 64)
	if err != nil {
		fail(w, http.StatusUnauthorized, 4006, "missing-auth-headers", "Missing or invalid auth headers")
		return
	}
	// Sign over the request target as received (path and query, as sent).
	if !hmacEqual(r.Header.Get(HeaderSig), Sign(secret, ts, r.Method, r.RequestURI, body)) {
		fail(w, http.StatusUnauthorized, 4003, "app-token-signature-mismatch", "Invalid signature")
		return
	}
	if d := s.now().Sub(time.Unix(ts, 0)); d > time.Minute || d < -time.Minute {
		fail(w, http.StatusUnauthorized, 4004, "request-expired", "Request expired")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/resources/applicants/-/import":
		s.importToken(w, r.URL.Query().Get("shareToken"))
	case r.Method == http.MethodGet && len(parts) == 4 && parts[1] == "applicants" && parts[3] == "one":
		a, ok := s.applicants[parts[2]]
		if !ok {
			fail(w, http.StatusNotFound, 0, "", "Applicant not found")
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
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(content)
	default:
		fail(w, http.StatusNotFound, 0, "", "Not found")
	}
}

// importToken copies the applicant a share token stands for into a new one.
func (s *Sandbox) importToken(w http.ResponseWriter, token string) {
	from := map[string]string{SandboxShareGreen: SandboxGreen, SandboxShareRed: SandboxRed}[token]
	if from == "" {
		fail(w, http.StatusUnauthorized, 0, "", "Invalid or expired share token")
		return
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	raw, _ := json.Marshal(s.applicants[from])
	var copied map[string]any
	_ = json.Unmarshal(raw, &copied)
	copied["id"], copied["inspectionId"] = id, id[:20]+"ffff"
	s.applicants[id] = copied
	s.images[id] = s.images[from]
	writeJSON(w, copied)
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
