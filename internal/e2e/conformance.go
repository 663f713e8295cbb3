package e2e

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// UpholdDoc is one of Uphold's OpenAPI documents, raw and as a schema
// compiler whose locations are the document's JSON pointers.
type UpholdDoc struct {
	Name string
	URL  string
	Raw  map[string]any
	c    *jsonschema.Compiler

	mu    sync.Mutex
	cache map[string]*jsonschema.Schema
}

// NewUpholdDoc is a document named name, raw, added to c at url.
func NewUpholdDoc(name, url string, raw map[string]any, c *jsonschema.Compiler) *UpholdDoc {
	return &UpholdDoc{Name: name, URL: url, Raw: raw, c: c, cache: map[string]*jsonschema.Schema{}}
}

// PointerEscape escapes a JSON Pointer token (RFC 6901: ~ and /).
func PointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// At returns the object at a JSON pointer ("/paths/~1core~1users/post").
func (d *UpholdDoc) At(ptr string) map[string]any {
	keys := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, p := range keys {
		keys[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
	}
	m, _ := WalkJSON(d.Raw, keys).(map[string]any)
	return m
}

// Resolve follows $ref from the object at ptr, returning the object and the
// pointer where it really is.
func (d *UpholdDoc) Resolve(ptr string) (map[string]any, string) {
	m := d.At(ptr)
	for m != nil {
		ref, ok := m["$ref"].(string)
		if !ok || !strings.HasPrefix(ref, "#/") {
			break
		}
		ptr = ref[1:]
		m = d.At(ptr)
	}
	return m, ptr
}

func (d *UpholdDoc) schema(ptr string) (*jsonschema.Schema, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.cache[ptr]; ok {
		return s, nil
	}
	s, err := d.c.Compile(d.URL + "#" + ptr)
	if err != nil {
		return nil, err
	}
	d.cache[ptr] = s
	return s, nil
}

// Validate checks a JSON body against the schema at ptr.
func (d *UpholdDoc) Validate(ptr string, body []byte) error {
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

// UpholdOp is one operation of a document.
type UpholdOp struct {
	doc          *UpholdDoc
	Method, Path string
	ptr          string
	op           map[string]any
}

// Key names the operation: its method and path.
func (o *UpholdOp) Key() string { return o.Method + " " + o.Path }

// Operations lists a document's operations in a stable order.
func (d *UpholdDoc) Operations() []*UpholdOp {
	paths := d.At("/paths")
	var out []*UpholdOp
	for _, p := range mapsKeys(paths) {
		item := paths[p].(map[string]any)
		for _, m := range []string{"get", "post", "put", "patch", "delete"} {
			if op, ok := item[m].(map[string]any); ok {
				out = append(out, &UpholdOp{doc: d, Method: strings.ToUpper(m), Path: p, ptr: "/paths/" + PointerEscape(p) + "/" + m, op: op})
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
func (d *UpholdDoc) examples(obj map[string]any) map[string]any {
	out := map[string]any{}
	ex, _ := obj["examples"].(map[string]any)
	for name, e := range ex {
		em, _ := e.(map[string]any)
		if ref, ok := em["$ref"].(string); ok {
			em, _ = d.Resolve(ref[1:])
		}
		out[name] = em["value"]
	}
	return out
}

// RequestExample is the document's request example of that name.
func (o *UpholdOp) RequestExample(name string) any {
	rb, ptr := o.doc.Resolve(o.ptr + "/requestBody")
	if rb == nil {
		return nil
	}
	for ct := range rb["content"].(map[string]any) {
		if v, ok := o.doc.examples(o.doc.At(ptr + "/content/" + PointerEscape(ct)))[name]; ok {
			return v
		}
	}
	panic(o.Key() + " has no request example " + name)
}

// RequestExampleNames lists the names of an operation's request examples.
func (o *UpholdOp) RequestExampleNames() []string {
	rb, ptr := o.doc.Resolve(o.ptr + "/requestBody")
	if rb == nil {
		return nil
	}
	var out []string
	for ct := range rb["content"].(map[string]any) {
		out = append(out, mapsKeys(o.doc.examples(o.doc.At(ptr+"/content/"+PointerEscape(ct))))...)
	}
	return out
}

// HeaderParams returns the documented X-Uphold-User-* headers with their
// examples, as a generated client sends them.
func (o *UpholdOp) HeaderParams() map[string]string {
	out := map[string]string{}
	for _, ptr := range o.params() {
		p, _ := o.doc.Resolve(ptr)
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
// Path's.
func (o *UpholdOp) params() []string {
	var out []string
	item := strings.TrimSuffix(o.ptr, "/"+strings.ToLower(o.Method))
	for _, base := range []string{item, o.ptr} {
		list, _ := o.doc.At(base)["parameters"].([]any)
		for i := range list {
			out = append(out, base+"/parameters/"+strconv.Itoa(i))
		}
	}
	return out
}

// ErrorCase is one documented error example of an operation.
type ErrorCase struct {
	op      *UpholdOp
	status  string
	name    string
	example map[string]any
}

// Key names the error case: its operation, status and name.
func (c *ErrorCase) Key() string { return c.op.Key() + " " + c.status + " " + c.name }

// ErrorCases are the error responses the operation documents, each a case to provoke.
func (o *UpholdOp) ErrorCases() []*ErrorCase {
	var out []*ErrorCase
	responses := o.doc.At(o.ptr + "/responses")
	for _, st := range mapsKeys(responses) {
		if st[0] == '2' || st[0] == '3' {
			continue
		}
		r, ptr := o.doc.Resolve(o.ptr + "/responses/" + st)
		content, _ := r["content"].(map[string]any)
		for _, ct := range mapsKeys(content) {
			ex := o.doc.examples(o.doc.At(ptr + "/content/" + PointerEscape(ct)))
			for _, name := range mapsKeys(ex) {
				v, _ := ex[name].(map[string]any)
				out = append(out, &ErrorCase{op: o, status: st, name: name, example: v})
			}
		}
	}
	return out
}

// Judge says whether an answer is one the document gives for the
// operation: a documented status (a success when success is set), the
// required headers, and a body valid against that status's schema.
func (o *UpholdOp) Judge(res *Response, success bool) error {
	st := strconv.Itoa(res.Status)
	if success && (res.Status < 200 || res.Status > 299) {
		return fmt.Errorf("answered %d, not a success: %.300s", res.Status, res.Body)
	}
	if o.doc.At(o.ptr+"/responses/"+st) == nil {
		return fmt.Errorf("answered %d, which the document does not list: %.300s", res.Status, res.Body)
	}
	r, ptr := o.doc.Resolve(o.ptr + "/responses/" + st)
	var errs []string
	headers, _ := r["headers"].(map[string]any)
	for _, name := range mapsKeys(headers) {
		h, _ := o.doc.Resolve(ptr + "/headers/" + PointerEscape(name))
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
		if err := o.doc.Validate(ptr+"/content/"+PointerEscape(ct)+"/schema", res.Body); err != nil {
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
// Status, a valid body, and the example's code (and the entity and reasons
// the example names).
func (c *ErrorCase) Judge(res *Response) error {
	if st := strconv.Itoa(res.Status); st != c.status {
		return fmt.Errorf("answered %d, documented %s: %.300s", res.Status, c.status, res.Body)
	}
	if err := c.op.Judge(res, false); err != nil {
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
	if want, ok := details["entity"].(string); ok && !strings.HasPrefix(want, "<") && res.Get("details.entity") != want {
		return fmt.Errorf("details.entity %v, documented %v: %.300s", res.Get("details.entity"), want, res.Body)
	}
	got, _ := res.Get("details.reasons").([]any)
	wants, _ := details["reasons"].([]any)
	if len(wants) > 0 && !slices.ContainsFunc(wants, func(w any) bool { return slices.Contains(got, w) }) {
		return fmt.Errorf("details.reasons %v, documented %v: %.300s", got, wants, res.Body)
	}
	return nil
}
