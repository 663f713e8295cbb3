package main

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

// kycdProc is kycd started through run, as a user would start it, on a free
// port, with its own data folder and database.
type kycdProc struct {
	t      *testing.T
	db     storetest.Database
	base   string
	router routers.Router
	stderr *syncBuffer
	stdout *syncBuffer
	cancel context.CancelFunc
	done   chan error
	// bin, when set, is a kycd binary that cli runs the commands in, as
	// its own process; otherwise they run in the test's.
	bin string

	mu     sync.Mutex
	errors []string // every error response body, to check none leaks internals
}

func (k *kycdProc) errorBodies() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.errors...)
}

// syncBuffer is a goroutine-safe buffer for what kycd prints.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (k *kycdProc) env(name string) string {
	switch name {
	case "KYCD_DATA_DIR":
		return k.db.DataDir
	case "KYCD_DATABASE_URL":
		return k.db.URL
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

// start runs `kycd serve` with extra flags and waits until it listens.
func start(t *testing.T, db storetest.Database, flags ...string) *kycdProc {
	t.Helper()
	k := &kycdProc{t: t, db: db, stderr: &syncBuffer{}, stdout: &syncBuffer{}, done: make(chan error, 1)}
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
		err := cli.Run(ctx, args, k.env, strings.NewReader(""), pw, k.stderr)
		pw.Close()
		k.done <- err
	}()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			k.stdout.Write([]byte(line + "\n"))
			if m := listening.FindStringSubmatch(line); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case k.base = <-found:
	case err := <-k.done:
		t.Fatalf("kycd exited before listening: %v\n%s", err, k.stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("kycd did not listen within 60s\n%s", k.stderr.String())
	}
	t.Cleanup(func() {
		k.stop(t)
		if t.Failed() {
			t.Logf("kycd's last warnings and errors (of %s):\n%s", db.Name, k.problems(40))
		}
	})
	k.router = newRouter(t, k.base)
	return k
}

// problems is the last n warnings and errors kycd logged (ids and reasons,
// never personal data): what a failed test shows of the server's side.
func (k *kycdProc) problems(n int) string {
	var out []string
	for _, line := range strings.Split(k.stderr.String(), "\n") {
		if strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`) {
			out = append(out, line)
		}
	}
	return strings.Join(out[max(0, len(out)-n):], "\n")
}

// stop cancels run (as SIGTERM would) and checks it shut down cleanly.
func (k *kycdProc) stop(t *testing.T) {
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

// cli runs a kycd command against the same data folder and database and
// returns what it printed.
func (k *kycdProc) cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	if k.bin != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, k.bin, args...)
		dieWithTest(cmd)
		cmd.Env = childEnv(k.db, 4)
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		if err != nil {
			err = fmt.Errorf("%w: %s", err, errOut.Bytes())
		}
		return out.String(), err
	}
	err := cli.Run(context.Background(), append([]string{"kycd"}, args...), k.env, strings.NewReader(""), &out, &errOut)
	return out.String(), err
}

func (k *kycdProc) cliJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out, err := k.cli(t, append(args, "--json")...)
	if err != nil {
		t.Fatalf("kycd %v: %v", args, err)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("kycd %v printed %q: %v", args, out, err)
	}
}

// tenant is a tenant with one client, as the CLI makes them.
type tenant struct {
	ID, ClientID, Secret string
}

func (k *kycdProc) newTenant(t *testing.T, name string, scopes ...string) tenant {
	t.Helper()
	var tn struct{ ID string }
	k.cliJSON(t, &tn, "tenant", "create", "--name", name)
	return k.newClient(t, tn.ID, name+"-backend", scopes...)
}

// newClient creates a client of a tenant through the CLI, holding scopes
// (none: the partner scopes).
func (k *kycdProc) newClient(t *testing.T, tenantID, name string, scopes ...string) tenant {
	t.Helper()
	args := []string{"client", "create", "--tenant", tenantID, "--name", name}
	if len(scopes) > 0 {
		args = append(args, "--scopes", strings.Join(scopes, ","))
	}
	var c struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	k.cliJSON(t, &c, args...)
	return tenant{ID: tenantID, ClientID: c.ClientID, Secret: c.ClientSecret}
}

// clientToken creates a client of a tenant holding scopes and returns a
// token of it.
func (k *kycdProc) clientToken(t *testing.T, tenantID, name string, scopes ...string) string {
	t.Helper()
	return k.token(t, k.newClient(t, tenantID, name, scopes...), "")
}

// token gets an access token for a tenant's client, optionally narrowed.
func (k *kycdProc) token(t *testing.T, tn tenant, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	req := k.req("POST", "/core/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(tn.ClientID, tn.Secret)
	res := k.do(t, req)
	if res.Status != 200 {
		t.Fatalf("token: %d %s", res.Status, res.Body)
	}
	return res.JSON["access_token"].(string)
}

func (k *kycdProc) req(method, path string, body io.Reader) *http.Request {
	req, err := http.NewRequest(method, k.base+path, body)
	if err != nil {
		k.t.Fatal(err)
	}
	return req
}

// call sends a JSON request with a bearer token; onBehalfOf is a user id or "".
func (k *kycdProc) call(t *testing.T, method, path, token, onBehalfOf string, body any) *response {
	t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req := k.req(method, path, r)
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
	req.Header.Set("X-Uphold-User-Ip", testEndUserIP)
	return k.do(t, req)
}

// testEndUserIP is the end user's IP call sends (a documentation address).
const testEndUserIP = "203.0.113.7"

type response struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

// code returns the error code of a Core API error body.
func (r *response) code() string {
	c, _ := r.JSON["code"].(string)
	return c
}

func (r *response) get(path string) any {
	return walkJSON(r.JSON, strings.Split(path, "."))
}

// walkJSON follows keys (and numbers, which index arrays) down decoded
// JSON; nil when a step is missing.
func walkJSON(v any, keys []string) any {
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

// doOpts controls how do checks an exchange against the OpenAPI document.
type doOpts struct {
	// invalidRequest marks a request a test sends on purpose against the
	// document: the document must reject it too.
	invalidRequest bool
	// unrouted marks a request to a path the document does not have.
	unrouted bool
	// unavailable allows a 503 (readiness checks).
	unavailable bool
	// hostile marks a request of the security suite, with hostile values
	// the document may or may not accept: its response must still match
	// the document; a 5xx is reported, not fatal, so that the suite counts
	// every failure.
	hostile bool
}

// do sends a request and validates it and its response against kycd's
// OpenAPI document, so the document and the code cannot drift apart. It
// fails the test on a 500: no input may cause one.
func (k *kycdProc) do(t *testing.T, req *http.Request, opts ...doOpts) *response {
	t.Helper()
	var o doOpts
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
	out := &response{Status: res.StatusCode, Header: res.Header, Body: body}
	if strings.Contains(res.Header.Get("Content-Type"), "json") && len(body) > 0 && body[0] == '{' {
		_ = json.Unmarshal(body, &out.JSON)
	}
	if res.StatusCode >= 400 {
		k.mu.Lock()
		k.errors = append(k.errors, string(body))
		k.mu.Unlock()
	}
	if res.StatusCode >= 500 && o.hostile && !(o.unavailable && res.StatusCode == http.StatusServiceUnavailable) {
		t.Errorf("%s %q answered %d: %s", req.Method, req.URL.Path, res.StatusCode, body)
		return out
	}
	if res.StatusCode >= 500 && !(o.unavailable && res.StatusCode == http.StatusServiceUnavailable) {
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
	route, params, err := k.router.FindRoute(vreq)
	if o.unrouted {
		if err == nil {
			t.Errorf("%s %s is in the document but was expected not to be", req.Method, req.URL.Path)
		}
		return out
	}
	if err != nil && o.hostile {
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
	case o.hostile:
	case o.invalidRequest && reqErr == nil:
		t.Errorf("%s %s: the document accepts a request the test sent as invalid: %s", req.Method, req.URL.Path, reqBody)
	case !o.invalidRequest && reqErr != nil:
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

// newRouter returns the router of kycd's OpenAPI document, loaded once for
// every test (the base is kept for the callers that name it: do validates
// each request against routerHost).
func newRouter(t *testing.T, base string) routers.Router {
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
