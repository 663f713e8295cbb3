package main

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
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kycd/kycd/api"
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

// upholdDoc is one of Uphold's OpenAPI documents, raw and as a schema
// compiler whose locations are the document's JSON pointers.
type upholdDoc struct {
	name string
	url  string
	raw  map[string]any
	c    *jsonschema.Compiler

	mu    sync.Mutex
	cache map[string]*jsonschema.Schema
}

var (
	upholdDocsOnce sync.Once
	upholdDocs     []*upholdDoc
	upholdDocsErr  error
)

func loadUpholdDocs() ([]*upholdDoc, error) {
	upholdDocsOnce.Do(func() {
		dir := filepath.Dir(upholdDocPath())
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
			upholdDocs = append(upholdDocs, &upholdDoc{name: name, url: u, raw: v.(map[string]any), c: c, cache: map[string]*jsonschema.Schema{}})
		}
	})
	return upholdDocs, upholdDocsErr
}

func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// at returns the object at a JSON pointer ("/paths/~1core~1users/post").
func (d *upholdDoc) at(ptr string) map[string]any {
	keys := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, p := range keys {
		keys[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
	}
	m, _ := walkJSON(d.raw, keys).(map[string]any)
	return m
}

// resolve follows $ref from the object at ptr, returning the object and the
// pointer where it really is.
func (d *upholdDoc) resolve(ptr string) (map[string]any, string) {
	m := d.at(ptr)
	for m != nil {
		ref, ok := m["$ref"].(string)
		if !ok || !strings.HasPrefix(ref, "#/") {
			break
		}
		ptr = ref[1:]
		m = d.at(ptr)
	}
	return m, ptr
}

func (d *upholdDoc) schema(ptr string) (*jsonschema.Schema, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.cache[ptr]; ok {
		return s, nil
	}
	s, err := d.c.Compile(d.url + "#" + ptr)
	if err != nil {
		return nil, err
	}
	d.cache[ptr] = s
	return s, nil
}

// validate checks a JSON body against the schema at ptr.
func (d *upholdDoc) validate(ptr string, body []byte) error {
	sch, err := d.schema(ptr)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	return sch.Validate(v)
}

// upholdOp is one operation of a document.
type upholdOp struct {
	doc          *upholdDoc
	method, path string
	ptr          string
	op           map[string]any
}

func (o *upholdOp) key() string { return o.method + " " + o.path }

// operations lists a document's operations in a stable order.
func (d *upholdDoc) operations() []*upholdOp {
	paths := d.at("/paths")
	var out []*upholdOp
	for _, p := range mapsKeys(paths) {
		item := paths[p].(map[string]any)
		for _, m := range []string{"get", "post", "put", "patch", "delete"} {
			if op, ok := item[m].(map[string]any); ok {
				out = append(out, &upholdOp{doc: d, method: strings.ToUpper(m), path: p, ptr: "/paths/" + pointerEscape(p) + "/" + m, op: op})
			}
		}
	}
	return out
}

func mapsKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// examples returns the named values of an examples object.
func (d *upholdDoc) examples(obj map[string]any) map[string]any {
	out := map[string]any{}
	ex, _ := obj["examples"].(map[string]any)
	for name, e := range ex {
		em, _ := e.(map[string]any)
		if ref, ok := em["$ref"].(string); ok {
			em, _ = d.resolve(ref[1:])
		}
		out[name] = em["value"]
	}
	return out
}

// requestExample is the document's request example of that name.
func (o *upholdOp) requestExample(name string) any {
	rb, ptr := o.doc.resolve(o.ptr + "/requestBody")
	if rb == nil {
		return nil
	}
	for ct := range rb["content"].(map[string]any) {
		if v, ok := o.doc.examples(o.doc.at(ptr + "/content/" + pointerEscape(ct)))[name]; ok {
			return v
		}
	}
	panic(o.key() + " has no request example " + name)
}

// requestExampleNames lists the names of an operation's request examples.
func (o *upholdOp) requestExampleNames() []string {
	rb, ptr := o.doc.resolve(o.ptr + "/requestBody")
	if rb == nil {
		return nil
	}
	var out []string
	for ct := range rb["content"].(map[string]any) {
		out = append(out, mapsKeys(o.doc.examples(o.doc.at(ptr+"/content/"+pointerEscape(ct))))...)
	}
	return out
}

// headerParams returns the documented X-Uphold-User-* headers with their
// examples, as a generated client sends them.
func (o *upholdOp) headerParams() map[string]string {
	out := map[string]string{}
	for _, ptr := range o.params() {
		p, _ := o.doc.resolve(ptr)
		name, _ := p["name"].(string)
		if p["in"] != "header" || !strings.HasPrefix(name, "X-Uphold-User-") {
			continue
		}
		for _, v := range o.doc.examples(p) {
			out[name] = fmt.Sprint(v)
		}
	}
	return out
}

// params returns the pointers of an operation's parameters and of its
// path's.
func (o *upholdOp) params() []string {
	var out []string
	item := strings.TrimSuffix(o.ptr, "/"+strings.ToLower(o.method))
	for _, base := range []string{item, o.ptr} {
		list, _ := o.doc.at(base)["parameters"].([]any)
		for i := range list {
			out = append(out, base+"/parameters/"+strconv.Itoa(i))
		}
	}
	return out
}

// errorCase is one documented error example of an operation.
type errorCase struct {
	op      *upholdOp
	status  string
	name    string
	example map[string]any
}

func (c *errorCase) key() string { return c.op.key() + " " + c.status + " " + c.name }

func (o *upholdOp) errorCases() []*errorCase {
	var out []*errorCase
	responses := o.doc.at(o.ptr + "/responses")
	for _, st := range mapsKeys(responses) {
		if st[0] == '2' || st[0] == '3' {
			continue
		}
		r, ptr := o.doc.resolve(o.ptr + "/responses/" + st)
		content, _ := r["content"].(map[string]any)
		for _, ct := range mapsKeys(content) {
			ex := o.doc.examples(o.doc.at(ptr + "/content/" + pointerEscape(ct)))
			for _, name := range mapsKeys(ex) {
				v, _ := ex[name].(map[string]any)
				out = append(out, &errorCase{op: o, status: st, name: name, example: v})
			}
		}
	}
	return out
}

// judge says whether an answer is one the document gives for the
// operation: a documented status (a success when success is set), the
// required headers, and a body valid against that status's schema.
func (o *upholdOp) judge(res *response, success bool) error {
	st := strconv.Itoa(res.Status)
	if success && (res.Status < 200 || res.Status > 299) {
		return fmt.Errorf("answered %d, not a success: %.300s", res.Status, res.Body)
	}
	if o.doc.at(o.ptr+"/responses/"+st) == nil {
		return fmt.Errorf("answered %d, which the document does not list: %.300s", res.Status, res.Body)
	}
	r, ptr := o.doc.resolve(o.ptr + "/responses/" + st)
	var errs []string
	headers, _ := r["headers"].(map[string]any)
	for _, name := range mapsKeys(headers) {
		h, _ := o.doc.resolve(ptr + "/headers/" + pointerEscape(name))
		if h["required"] == true && res.Header.Get(name) == "" {
			errs = append(errs, "no "+name+" header")
		}
	}
	content, _ := r["content"].(map[string]any)
	if len(content) == 0 {
		if len(bytes.TrimSpace(res.Body)) > 0 {
			errs = append(errs, fmt.Sprintf("a body where the document has none: %.200s", res.Body))
		}
	}
	for _, ct := range mapsKeys(content) {
		if !strings.Contains(ct, "json") {
			continue
		}
		if err := o.doc.validate(ptr+"/content/"+pointerEscape(ct)+"/schema", res.Body); err != nil {
			errs = append(errs, fmt.Sprintf("body invalid: %v\n%.600s", err, res.Body))
		}
		break
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d: %s", res.Status, strings.Join(errs, "; "))
	}
	return nil
}

// judgeError says whether an answer is the documented error case: its
// status, a valid body, and the example's code (and the entity and reasons
// the example names).
func (c *errorCase) judge(res *response) error {
	if st := strconv.Itoa(res.Status); st != c.status {
		return fmt.Errorf("answered %d, documented %s: %.300s", res.Status, c.status, res.Body)
	}
	if err := c.op.judge(res, false); err != nil {
		return err
	}
	for _, k := range []string{"code", "error"} {
		if want, ok := c.example[k]; ok && res.JSON[k] != want {
			return fmt.Errorf("%s %v, documented %v: %.300s", k, res.JSON[k], want, res.Body)
		}
	}
	details, _ := c.example["details"].(map[string]any)
	// Placeholders ("<entity>") stand for any value; of several documented
	// reasons, one is enough (an example lists what one request lacked).
	if want, ok := details["entity"].(string); ok && !strings.HasPrefix(want, "<") && res.get("details.entity") != want {
		return fmt.Errorf("details.entity %v, documented %v: %.300s", res.get("details.entity"), want, res.Body)
	}
	got, _ := res.get("details.reasons").([]any)
	wants, _ := details["reasons"].([]any)
	if len(wants) > 0 && !slices.ContainsFunc(wants, func(w any) bool { return slices.Contains(got, w) }) {
		return fmt.Errorf("details.reasons %v, documented %v: %.300s", got, wants, res.Body)
	}
	return nil
}

// conformance holds the walk's tallies.
type conformance struct {
	t     *testing.T
	k     *kycdProc
	ops   map[string]*upholdOp
	order []string

	mu     sync.Mutex
	served map[string]bool
	calls  map[string][]string // per operation: the failures of its example calls ("" for a pass)
	cases  map[string]*errorCase
	tried  map[string]string // per error case: "" when answered as documented, else why not

	// feedTokens read the feeds of the tenants the walk used.
	feedTokens []string
	// sample is each operation's first example call, which the error
	// cases common to every operation (tokens, scopes) repeat.
	sample map[string]call
}

func newConformance(t *testing.T, k *kycdProc) *conformance {
	docs, err := loadUpholdDocs()
	if err != nil {
		t.Fatalf("Uphold's OpenAPI documents are needed: %v", err)
	}
	c := &conformance{t: t, k: k, ops: map[string]*upholdOp{}, served: map[string]bool{}, calls: map[string][]string{},
		cases: map[string]*errorCase{}, tried: map[string]string{}, sample: map[string]call{}}
	for _, d := range docs {
		for _, op := range d.operations() {
			c.ops[op.key()] = op
			c.order = append(c.order, op.key())
			for _, ec := range op.errorCases() {
				c.cases[ec.key()] = ec
			}
		}
	}
	return c
}

func (c *conformance) op(key string) *upholdOp {
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
func (c *conformance) send(key string, x call) *response {
	c.t.Helper()
	op := c.op(key)
	path := x.path
	if path == "" {
		path = op.path
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
		body, ct = bytes.NewReader(mustJSON(b)), "application/json"
	}
	base := c.k.base
	if x.base != "" {
		base = x.base
	}
	req, err := http.NewRequest(op.method, base+path, body)
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
		for k, v := range op.headerParams() {
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
	out := &response{Status: res.StatusCode, Header: res.Header, Body: raw}
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &out.JSON)
	}
	if res.StatusCode >= 500 {
		c.t.Errorf("%s %s answered %d: %s", op.method, path, res.StatusCode, raw)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !(res.StatusCode == 404 && out.code() == "route_not_found") && res.StatusCode != 405 {
		c.served[key] = true
	} else if _, seen := c.served[key]; !seen {
		c.served[key] = false
	}
	return out
}

// example calls an operation with a request and records whether the answer
// is a documented success.
func (c *conformance) example(key, name string, x call) *response {
	c.t.Helper()
	c.mu.Lock()
	if _, ok := c.sample[key]; !ok {
		c.sample[key] = x
	}
	c.mu.Unlock()
	res := c.send(key, x)
	why := ""
	if err := c.op(key).judge(res, true); err != nil {
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
func (c *conformance) errorCase(key, status, name string, x call) *response {
	c.t.Helper()
	ec, ok := c.cases[key+" "+status+" "+name]
	if !ok {
		c.t.Fatalf("no documented error case %s %s %s", key, status, name)
	}
	res := c.send(key, x)
	why := ""
	if err := ec.judge(res); err != nil {
		why = err.Error()
	}
	c.mu.Lock()
	if prev, ok := c.tried[ec.key()]; !ok || prev == "" {
		c.tried[ec.key()] = why
	}
	if why != "" && testing.Verbose() {
		c.t.Logf("%s: %s", ec.key(), why)
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

func mapsKeysCases(m map[string]*errorCase) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var (
	kycdDocOnce sync.Once
	kycdDoc     *upholdDoc
	kycdDocErr  error
)

// loadKycdDoc reads kycd's own OpenAPI document, whose webhooks section
// defines kycd's own events (the kycd. prefix).
func loadKycdDoc() (*upholdDoc, error) {
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
			kycdDoc = &upholdDoc{name: "kycd", url: "urn:kycd:openapi.json", raw: v.(map[string]any), c: c, cache: map[string]*jsonschema.Schema{}}
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
		res := c.k.call(c.t, "GET", "/core/events?limit=1000&after="+after, tok, "", nil)
		if res.Status != 200 {
			c.t.Fatalf("feed: %d %s", res.Status, res.Body)
		}
		list, _ := res.JSON["events"].([]any)
		if len(list) == 0 {
			return
		}
		for _, ev := range list {
			raw := mustJSON(ev)
			typ, _ := ev.(map[string]any)["type"].(string)
			total++
			var why string
			found := false
			for _, d := range docs {
				hook := d.at("/webhooks/" + pointerEscape(typ) + "/post")
				if hook == nil {
					continue
				}
				found = true
				rb, ptr := d.resolve("/webhooks/" + pointerEscape(typ) + "/post/requestBody")
				_ = rb
				if err := d.validate(ptr+"/content/application~1json/schema", raw); err != nil {
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
	forEachDB(t, func(t *testing.T, db storetest.Database) {
		// No rate limit: the walk makes hundreds of calls a second, and
		// kycd's limiter has tests of its own.
		e := newConnectorEnv(t, db, "--rate-limit", "0")
		c := newConformance(t, e.kycdProc)
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
