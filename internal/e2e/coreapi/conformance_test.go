package coreapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kycd/kycd/api"
	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// The conformance walk: kycd as a client generated from Uphold's two
// OpenAPI documents sees it. Every operation is called with the documents'
// own request examples, every answer is judged by the documented status,
// body schema and required headers, every documented error case that has a
// trigger below is provoked and judged the same way (status, schema and the
// example's code), and every event of the feed is validated against the
// webhook the documents define for its type (kycd's own events, under the
// kycd. prefix, against kycd's OpenAPI). Error cases kycd cannot produce
// (balances it does not keep, ...) are listed apart as not applicable, with
// the reason (notApplicable); any other case without a trigger counts as
// not answered as documented. The counts are printed; the test fails when one falls below
// its floor (the figure this branch reaches: raise it with every fix, never
// lower it), and when any event is invalid.
//
// What the walk changes in the documents' examples, and why: emails of the
// user-creating examples are each in a tenant of their own (they share
// one); fileIds name the user's real uploads; expiry dates the documents
// wrote in the past move a year past today; enhanced due diligence is
// submitted for a high-risk user (it applies to no other).
const (
	conformanceValidFloor  = 39  // operations served with every example answered as documented, of 39
	conformanceErrorsFloor = 339 // error cases answered as documented, of every documented one (345, 5 not applicable)
)

var (
	upholdDocsOnce sync.Once
	upholdDocs     []*e2e.UpholdDoc
	upholdDocsErr  error
)

func loadUpholdDocs() ([]*e2e.UpholdDoc, error) {
	upholdDocsOnce.Do(func() {
		dir := filepath.Dir(e2e.UpholdDocPath())
		for _, name := range []string{"core-kyc.openapi.json", "kyc-connector.openapi.json"} {
			raw, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				upholdDocsErr = err
				return
			}
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				upholdDocsErr = err
				return
			}
			c := jsonschema.NewCompiler()
			c.DefaultDraft(jsonschema.Draft2020)
			c.AssertFormat()
			u := "urn:uphold:" + name
			if err := c.AddResource(u, v); err != nil {
				upholdDocsErr = err
				return
			}
			upholdDocs = append(upholdDocs, e2e.NewUpholdDoc(name, u, v.(map[string]any), c))
		}
	})
	return upholdDocs, upholdDocsErr
}

// conformance holds the walk's tallies.
type conformance struct {
	t     *testing.T
	k     *e2e.Proc
	ops   map[string]*e2e.UpholdOp
	order []string

	mu     sync.Mutex
	served map[string]bool
	calls  map[string][]string // per operation: the failures of its example calls ("" for a pass)
	cases  map[string]*e2e.ErrorCase
	tried  map[string]string // per error case: "" when answered as documented, else why not

	// feedTokens read the feeds of the tenants the walk used.
	feedTokens []string
	// sample is each operation's first example call, which the error
	// cases common to every operation (tokens, scopes) repeat.
	sample map[string]call
}

func newConformance(t *testing.T, k *e2e.Proc) *conformance {
	docs, err := loadUpholdDocs()
	if err != nil {
		t.Fatalf("Uphold's OpenAPI documents are needed: %v", err)
	}
	c := &conformance{t: t, k: k, ops: map[string]*e2e.UpholdOp{}, served: map[string]bool{}, calls: map[string][]string{},
		cases: map[string]*e2e.ErrorCase{}, tried: map[string]string{}, sample: map[string]call{}}
	for _, d := range docs {
		for _, op := range d.Operations() {
			c.ops[op.Key()] = op
			c.order = append(c.order, op.Key())
			for _, ec := range op.ErrorCases() {
				c.cases[ec.Key()] = ec
			}
		}
	}
	return c
}

func (c *conformance) op(key string) *e2e.UpholdOp {
	op, ok := c.ops[key]
	if !ok {
		c.t.Fatalf("no operation %s in the documents", key)
	}
	return op
}

// call is one request of the walk.
type call struct {
	path   string // the concrete path and query; the operation's path when empty
	tok    string
	user   string // X-On-Behalf-Of user, when set
	body   any    // JSON (or a url.Values form)
	header map[string]string
	// contentType overrides application/json.
	contentType string
	// plain leaves out the documented X-Uphold-User-* headers.
	plain bool
	// base is another kycd node's address (the rate-limited one); the
	// walk's node when empty.
	base string
}

// send makes a call to an operation, as a generated client would: with the
// documented X-Uphold-User-* headers set to their examples.
func (c *conformance) send(key string, x call) *e2e.Response {
	c.t.Helper()
	op := c.op(key)
	path := x.path
	if path == "" {
		path = op.Path
	}
	var body io.Reader
	ct := ""
	switch b := x.body.(type) {
	case nil:
	case url.Values:
		body, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case []byte:
		body, ct = bytes.NewReader(b), "application/json"
	default:
		body, ct = bytes.NewReader(e2e.MustJSON(b)), "application/json"
	}
	base := c.k.Base
	if x.base != "" {
		base = x.base
	}
	req, err := http.NewRequest(op.Method, base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if x.contentType != "" {
		ct = x.contentType
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if !x.plain {
		for k, v := range op.HeaderParams() {
			req.Header.Set(k, v)
		}
	}
	if x.tok != "" {
		req.Header.Set("Authorization", "Bearer "+x.tok)
	}
	if x.user != "" {
		req.Header.Set("X-On-Behalf-Of", "user "+x.user)
	}
	for k, v := range x.header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s: %v", key, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := &e2e.Response{Status: res.StatusCode, Header: res.Header, Body: raw}
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &out.JSON)
	}
	if res.StatusCode >= 500 {
		c.t.Errorf("%s %s answered %d: %s", op.Method, path, res.StatusCode, raw)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !(res.StatusCode == 404 && out.Code() == "route_not_found") && res.StatusCode != 405 {
		c.served[key] = true
	} else if _, seen := c.served[key]; !seen {
		c.served[key] = false
	}
	return out
}

// example calls an operation with a request and records whether the answer
// is a documented success.
func (c *conformance) example(key, name string, x call) *e2e.Response {
	c.t.Helper()
	c.mu.Lock()
	if _, ok := c.sample[key]; !ok {
		c.sample[key] = x
	}
	c.mu.Unlock()
	res := c.send(key, x)
	why := ""
	if err := c.op(key).Judge(res, true); err != nil {
		why = fmt.Sprintf("%s (%s): %v", key, name, err)
		if testing.Verbose() {
			c.t.Log(why)
		}
	}
	c.mu.Lock()
	c.calls[key] = append(c.calls[key], why)
	c.mu.Unlock()
	return res
}

// errorCase provokes a documented error case and records the answer.
func (c *conformance) errorCase(key, status, name string, x call) *e2e.Response {
	c.t.Helper()
	ec, ok := c.cases[key+" "+status+" "+name]
	if !ok {
		c.t.Fatalf("no documented error case %s %s %s", key, status, name)
	}
	res := c.send(key, x)
	why := ""
	if err := ec.Judge(res); err != nil {
		why = err.Error()
	}
	c.mu.Lock()
	if prev, ok := c.tried[ec.Key()]; !ok || prev == "" {
		c.tried[ec.Key()] = why
	}
	if why != "" && testing.Verbose() {
		c.t.Logf("%s: %s", ec.Key(), why)
	}
	c.mu.Unlock()
	return res
}

// report prints the counts and returns them.
func (c *conformance) report() (served, valid, errorsOK, errorsTried, notApplicableN int) {
	c.t.Helper()
	var failures []string
	for _, key := range c.order {
		if c.served[key] {
			served++
		}
		calls := c.calls[key]
		ok := c.served[key] && len(calls) > 0
		for _, why := range calls {
			if why != "" {
				ok = false
				failures = append(failures, why)
			}
		}
		if len(calls) == 0 {
			failures = append(failures, key+": not called")
		}
		if ok {
			valid++
		}
	}
	var missed, na []string
	for _, key := range mapsKeysCases(c.cases) {
		why, tried := c.tried[key]
		if because, ok := notApplicable[key]; ok && !tried {
			na = append(na, key+": not applicable, because "+because)
			continue
		} else if ok {
			failures = append(failures, key+": listed as not applicable, yet tried")
		}
		if !tried {
			missed = append(missed, key)
			continue
		}
		errorsTried++
		if why == "" {
			errorsOK++
		} else {
			failures = append(failures, key+": "+why)
		}
	}
	c.t.Logf("not as documented:\n%s", strings.Join(failures, "\n"))
	c.t.Logf("error cases without a trigger (%d):\n%s", len(missed), strings.Join(missed, "\n"))
	c.t.Logf("error cases kycd cannot produce (%d):\n%s", len(na), strings.Join(na, "\n"))
	notApplicableN = len(na)
	return
}

func mapsKeysCases(m map[string]*e2e.ErrorCase) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var (
	kycdDocOnce sync.Once
	kycdDoc     *e2e.UpholdDoc
	kycdDocErr  error
)

// loadKycdDoc reads kycd's own OpenAPI document, whose webhooks section
// defines kycd's own events (the kycd. prefix).
func loadKycdDoc() (*e2e.UpholdDoc, error) {
	kycdDocOnce.Do(func() {
		raw, err := api.OpenAPI()
		if err != nil {
			kycdDocErr = err
			return
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			kycdDocErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		c.AssertFormat()
		if kycdDocErr = c.AddResource("urn:kycd:openapi.json", v); kycdDocErr == nil {
			kycdDoc = e2e.NewUpholdDoc("kycd", "urn:kycd:openapi.json", v.(map[string]any), c)
		}
	})
	return kycdDoc, kycdDocErr
}

// events validates every event of a tenant's feed against the webhook the
// documents define for its type: Uphold's for Uphold's types, kycd's own
// OpenAPI for kycd's (the kycd. prefix).
func (c *conformance) events(tok string) (valid, total int, failures []string) {
	docs, _ := loadUpholdDocs()
	own, err := loadKycdDoc()
	if err != nil {
		c.t.Fatal(err)
	}
	docs = append(slices.Clip(docs), own)
	after := "0"
	for {
		res := c.k.Call(c.t, "GET", "/core/events?limit=1000&after="+after, tok, "", nil)
		if res.Status != 200 {
			c.t.Fatalf("feed: %d %s", res.Status, res.Body)
		}
		list, _ := res.JSON["events"].([]any)
		if len(list) == 0 {
			return
		}
		for _, ev := range list {
			raw := e2e.MustJSON(ev)
			typ, _ := ev.(map[string]any)["type"].(string)
			total++
			var why string
			found := false
			for _, d := range docs {
				hook := d.At("/webhooks/" + e2e.PointerEscape(typ) + "/post")
				if hook == nil {
					continue
				}
				found = true
				rb, ptr := d.Resolve("/webhooks/" + e2e.PointerEscape(typ) + "/post/requestBody")
				_ = rb
				if err := d.Validate(ptr+"/content/application~1json/schema", raw); err != nil {
					why = fmt.Sprintf("event %s invalid: %v\n%.600s", typ, err, raw)
				}
			}
			if !found {
				why = "event " + typ + ": no document defines it"
			}
			if why == "" {
				valid++
			} else {
				failures = append(failures, why)
			}
		}
		after, _ = res.JSON["next"].(string)
	}
}

// TestUpholdConformance walks both Uphold documents on both databases.
func TestUpholdConformance(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		// No rate limit: the walk makes hundreds of calls a second, and
		// kycd's limiter has tests of its own.
		e := e2e.NewConnectorEnv(t, db, "--rate-limit", "0")
		c := newConformance(t, e.Proc)
		c.walk(e)
		var evValid, evTotal int
		var evFailures []string
		for _, tok := range c.feedTokens {
			v, n, f := c.events(tok)
			evValid, evTotal, evFailures = evValid+v, evTotal+n, append(evFailures, f...)
		}
		c.rateLimited(e)
		c.expiredTokens(e)
		served, valid, errorsOK, tried, na := c.report()
		if len(evFailures) > 0 {
			t.Logf("events not as documented:\n%s", strings.Join(evFailures, "\n"))
		}
		t.Logf("uphold conformance (%s): operations served %d/%d, served and valid %d/%d; error cases as documented %d/%d (%d tried; %d/%d of those kycd can produce, %d not applicable); events valid %d/%d",
			db.Name, served, len(c.order), valid, len(c.order), errorsOK, len(c.cases), tried, errorsOK, len(c.cases)-na, na, evValid, evTotal)
		fmt.Printf("uphold conformance (%s): served and valid %d/%d, error cases as documented %d/%d (%d/%d applicable, %d not applicable), events valid %d/%d\n",
			db.Name, valid, len(c.order), errorsOK, len(c.cases), errorsOK, len(c.cases)-na, na, evValid, evTotal)
		if valid < conformanceValidFloor {
			t.Errorf("operations served and valid: %d, below the floor %d", valid, conformanceValidFloor)
		}
		if errorsOK < conformanceErrorsFloor {
			t.Errorf("error cases as documented: %d, below the floor %d", errorsOK, conformanceErrorsFloor)
		}
		if evValid < evTotal || evTotal == 0 {
			t.Errorf("events valid: %d of %d, every one must be", evValid, evTotal)
		}
	})
}
