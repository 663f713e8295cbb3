package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/kycd/kycd/api"
	"github.com/kycd/kycd/internal/cli"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// Proc is kycd started through cli.Run, as a user would start it, on a free
// port, with its own data folder and database.
type Proc struct {
	T      *testing.T
	DB     storetest.Database
	Base   string
	Router routers.Router
	Stderr *SyncBuffer
	Stdout *SyncBuffer
	cancel context.CancelFunc
	done   chan error
	// Bin, when set, is a kycd binary that CLI runs the commands in, as
	// its own process; otherwise they run in the test's.
	Bin string

	mu     sync.Mutex
	errors []string // every error response body, to check none leaks internals
}

// ErrorBodies are the bodies of every error response kycd sent so far.
func (k *Proc) ErrorBodies() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.errors...)
}

// SyncBuffer is a goroutine-safe buffer for what kycd prints.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is what was written.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Env is the environment kycd runs with: its data folder, database and the tests' settings.
func (k *Proc) Env(name string) string {
	switch name {
	case "KYCD_DATA_DIR":
		return k.DB.DataDir
	case "KYCD_DATABASE_URL":
		return k.DB.URL
	case "KYCD_JOB_POLL_INTERVAL":
		return testJobPollInterval
	case "KYCD_DB_MAX_CONNS":
		// PostgreSQL takes 100 connections by default, shared by every
		// test binary running at once: each test's kycd keeps few.
		return "4"
	}
	return ""
}

// testJobPollInterval is how often the tests' kycds look for new jobs. Each
// look is a query SQLite parses anew, and under -race the looks of the
// kycds running at once cost more CPU than any test (a quarter of a KYC
// test's): four times fewer, for up to 150 ms more before a job starts.
const testJobPollInterval = "200ms"

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// Start runs `kycd serve` with extra flags and waits until it listens.
func Start(t *testing.T, db storetest.Database, flags ...string) *Proc {
	t.Helper()
	k := &Proc{T: t, DB: db, Stderr: &SyncBuffer{}, Stdout: &SyncBuffer{}, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	k.cancel = cancel
	pr, pw := io.Pipe()
	args := append([]string{"kycd", "serve", "--addr", "127.0.0.1:0"}, flags...)
	// A sandbox imports the bundled screening lists at its first start; the
	// EU sample (5 listings) unless a test names its lists: the whole
	// snapshot costs seconds under -race.
	if slices.Contains(flags, "--sandbox") && !slices.ContainsFunc(flags, func(f string) bool { return strings.HasPrefix(f, "--sandbox-lists") }) {
		args = append(args, "--sandbox-lists", "eu-fsf")
	}
	go func() {
		err := cli.Run(ctx, args, k.Env, strings.NewReader(""), pw, k.Stderr)
		pw.Close()
		k.done <- err
	}()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			k.Stdout.Write([]byte(line + "\n"))
			if m := listening.FindStringSubmatch(line); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case k.Base = <-found:
	case err := <-k.done:
		t.Fatalf("kycd exited before listening: %v\n%s", err, k.Stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("kycd did not listen within 60s\n%s", k.Stderr.String())
	}
	t.Cleanup(func() {
		k.Stop(t)
		if t.Failed() {
			t.Logf("kycd's last warnings and errors (of %s):\n%s", db.Name, k.problems(40))
		}
	})
	k.Router = NewRouter(t, k.Base)
	return k
}

// problems is the last n warnings and errors kycd logged (ids and reasons,
// never personal data): what a failed test shows of the server's side.
func (k *Proc) problems(n int) string {
	var out []string
	for _, line := range strings.Split(k.Stderr.String(), "\n") {
		if strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`) {
			out = append(out, line)
		}
	}
	return strings.Join(out[max(0, len(out)-n):], "\n")
}

// Stop cancels cli.Run (as SIGTERM would) and checks it shut down cleanly.
func (k *Proc) Stop(t *testing.T) {
	if k.cancel == nil {
		return
	}
	k.cancel()
	k.cancel = nil
	select {
	case err := <-k.done:
		if err != nil {
			t.Errorf("kycd serve returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("kycd did not shut down within 30s")
	}
}

// CLI runs a kycd command against the same data folder and database and
// returns what it printed.
func (k *Proc) CLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	if k.Bin != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, k.Bin, args...)
		DieWithTest(cmd)
		cmd.Env = ChildEnv(k.DB, 4)
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		if err != nil {
			err = fmt.Errorf("%w: %s", err, errOut.Bytes())
		}
		return out.String(), err
	}
	err := cli.Run(context.Background(), append([]string{"kycd"}, args...), k.Env, strings.NewReader(""), &out, &errOut)
	return out.String(), err
}

// CLIJSON runs a kycd command with --json and decodes what it printed into v.
func (k *Proc) CLIJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out, err := k.CLI(t, append(args, "--json")...)
	if err != nil {
		t.Fatalf("kycd %v: %v", args, err)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("kycd %v printed %q: %v", args, out, err)
	}
}

// Tenant is a tenant with one client, as the CLI makes them.
type Tenant struct {
	ID, ClientID, Secret string
}

// NewTenant creates a tenant and a client of it holding scopes (none: the partner scopes).
func (k *Proc) NewTenant(t *testing.T, name string, scopes ...string) Tenant {
	t.Helper()
	var tn struct{ ID string }
	k.CLIJSON(t, &tn, "tenant", "create", "--name", name)
	return k.NewClient(t, tn.ID, name+"-backend", scopes...)
}

// NewClient creates a client of a tenant through the CLI, holding scopes
// (none: the partner scopes).
func (k *Proc) NewClient(t *testing.T, tenantID, name string, scopes ...string) Tenant {
	t.Helper()
	args := []string{"client", "create", "--tenant", tenantID, "--name", name}
	if len(scopes) > 0 {
		args = append(args, "--scopes", strings.Join(scopes, ","))
	}
	var c struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	k.CLIJSON(t, &c, args...)
	return Tenant{ID: tenantID, ClientID: c.ClientID, Secret: c.ClientSecret}
}

// ClientToken creates a client of a tenant holding scopes and returns a
// token of it.
func (k *Proc) ClientToken(t *testing.T, tenantID, name string, scopes ...string) string {
	t.Helper()
	return k.Token(t, k.NewClient(t, tenantID, name, scopes...), "")
}

// Token gets an access token for a tenant's client, optionally narrowed.
func (k *Proc) Token(t *testing.T, tn Tenant, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	req := k.Req("POST", "/core/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(tn.ClientID, tn.Secret)
	res := k.Do(t, req)
	if res.Status != 200 {
		t.Fatalf("token: %d %s", res.Status, res.Body)
	}
	return res.JSON["access_token"].(string)
}

// Req is a request to kycd.
func (k *Proc) Req(method, path string, body io.Reader) *http.Request {
	req, err := http.NewRequest(method, k.Base+path, body)
	if err != nil {
		k.T.Fatal(err)
	}
	return req
}

// Call sends a JSON request with a bearer token; onBehalfOf is a user id or "".
func (k *Proc) Call(t *testing.T, method, path, token, onBehalfOf string, body any) *Response {
	t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req := k.Req(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if onBehalfOf != "" {
		req.Header.Set("X-On-Behalf-Of", "user "+onBehalfOf)
	}
	// The end user's context, as Uphold's clients send it (creating a user
	// requires the IP).
	req.Header.Set("X-Uphold-User-Ip", EndUserIP)
	return k.Do(t, req)
}

// EndUserIP is the end user's IP Call sends (a documentation address).
const EndUserIP = "203.0.113.7"

// Response is a response of kycd, with its body decoded when it is a JSON object.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

// Code returns the error code of a Core API error body.
func (r *Response) Code() string {
	c, _ := r.JSON["code"].(string)
	return c
}

// Get follows a dotted path (keys, and array indexes) down the JSON body; nil when a step is missing.
func (r *Response) Get(path string) any {
	return WalkJSON(r.JSON, strings.Split(path, "."))
}

// WalkJSON follows keys (and numbers, which index arrays) down decoded
// JSON; nil when a step is missing.
func WalkJSON(v any, keys []string) any {
	for _, p := range keys {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// DoOpts controls how Do checks an exchange against the OpenAPI document.
type DoOpts struct {
	// InvalidRequest marks a request a test sends on purpose against the
	// document: the document must reject it too.
	InvalidRequest bool
	// Unrouted marks a request to a path the document does not have.
	Unrouted bool
	// Unavailable allows a 503 (readiness checks).
	Unavailable bool
	// Hostile marks a request of the security suite, with hostile values
	// the document may or may not accept: its response must still match
	// the document; a 5xx is reported, not fatal, so that the suite counts
	// every failure.
	Hostile bool
}

// Do sends a request and validates it and its response against kycd's
// OpenAPI document, so the document and the code cannot drift apart. It
// fails the test on a 500: no input may cause one.
func (k *Proc) Do(t *testing.T, req *http.Request, opts ...DoOpts) *Response {
	t.Helper()
	var o DoOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	out := &Response{Status: res.StatusCode, Header: res.Header, Body: body}
	if strings.Contains(res.Header.Get("Content-Type"), "json") && len(body) > 0 && body[0] == '{' {
		_ = json.Unmarshal(body, &out.JSON)
	}
	if res.StatusCode >= 400 {
		k.mu.Lock()
		k.errors = append(k.errors, string(body))
		k.mu.Unlock()
	}
	if res.StatusCode >= 500 && o.Hostile && !(o.Unavailable && res.StatusCode == http.StatusServiceUnavailable) {
		t.Errorf("%s %q answered %d: %s", req.Method, req.URL.Path, res.StatusCode, body)
		return out
	}
	if res.StatusCode >= 500 && !(o.Unavailable && res.StatusCode == http.StatusServiceUnavailable) {
		t.Fatalf("%s %s answered %d: %s", req.Method, req.URL.Path, res.StatusCode, body)
	}
	if res.Header.Get("X-Request-Id") == "" {
		t.Errorf("%s %s: no X-Request-Id", req.Method, req.URL.Path)
	}
	// Validate against the document, whose one router knows kycd at
	// routerBase.
	vreq := req.Clone(context.Background())
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	vreq.URL.Scheme, vreq.URL.Host, vreq.Host = "http", routerHost, routerHost
	route, params, err := k.Router.FindRoute(vreq)
	if o.Unrouted {
		if err == nil {
			t.Errorf("%s %s is in the document but was expected not to be", req.Method, req.URL.Path)
		}
		return out
	}
	if err != nil && o.Hostile {
		return out // a hostile path the document's router does not match (a NUL in a segment)
	}
	if err != nil {
		t.Fatalf("%s %s is not in the OpenAPI document: %v", req.Method, req.URL.Path, err)
	}
	bodies, err := loadBodySchemas()
	if err != nil {
		t.Fatalf("OpenAPI body schemas: %v", err)
	}
	binary := strings.HasSuffix(route.Path, "/upload") || strings.HasSuffix(route.Path, "/content")
	// JSON bodies are validated against schemas compiled once (bodySchemas);
	// kin-openapi checks the rest of the exchange, and the other bodies.
	jsonRequest := !binary && isJSON(req.Header.Get("Content-Type"))
	in := &openapi3filter.RequestValidationInput{
		Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, ExcludeRequestBody: binary || jsonRequest, MultiError: true},
	}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	if jsonRequest {
		reqErr = errors.Join(reqErr, bodies.request(route, req.Header, reqBody))
	}
	switch {
	case o.Hostile:
	case o.InvalidRequest && reqErr == nil:
		t.Errorf("%s %s: the document accepts a request the test sent as invalid: %s", req.Method, req.URL.Path, reqBody)
	case !o.InvalidRequest && reqErr != nil:
		t.Errorf("%s %s: request does not match the document: %v", req.Method, req.URL.Path, reqErr)
	}
	// Bodies that are not JSON (file contents, the webhook page) are not
	// checked against a schema.
	unchecked := (binary || strings.HasPrefix(res.Header.Get("Content-Type"), "text/html")) && res.StatusCode == 200
	jsonResponse := !unchecked && isJSON(res.Header.Get("Content-Type"))
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: unchecked || jsonResponse},
	}
	resErr := openapi3filter.ValidateResponse(context.Background(), rin)
	if jsonResponse {
		resErr = errors.Join(resErr, bodies.response(route, res.StatusCode, res.Header, body))
	}
	if resErr != nil {
		t.Errorf("%s %s -> %d: response does not match the document: %v\n%s", req.Method, req.URL.Path, res.StatusCode, resErr, body)
	}
	if res.StatusCode == http.StatusOK {
		checkUphold(t, req.URL.Path, body)
	}
	return out
}

// routerHost is the host the OpenAPI router knows kycd at: do validates
// every exchange as if kycd listened there, whatever its port.
const routerHost = "kycd.test"

var (
	routerOnce sync.Once
	router     routers.Router
	routerErr  error
)

// NewRouter returns the router of kycd's OpenAPI document, loaded once for
// every test (the base is kept for the callers that name it: do validates
// each request against routerHost).
func NewRouter(t *testing.T, base string) routers.Router {
	t.Helper()
	routerOnce.Do(func() {
		raw, err := api.OpenAPI()
		if err != nil {
			routerErr = err
			return
		}
		doc, err := openapi3.NewLoader().LoadFromData(raw)
		if err != nil {
			routerErr = fmt.Errorf("load OpenAPI: %w", err)
			return
		}
		doc.Servers = openapi3.Servers{{URL: "http://" + routerHost}}
		if router, err = gorillamux.NewRouter(doc); err != nil {
			routerErr = fmt.Errorf("OpenAPI router: %w", err)
		}
	})
	if routerErr != nil {
		t.Fatal(routerErr)
	}
	return router
}
