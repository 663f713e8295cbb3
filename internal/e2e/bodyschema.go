package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kycd/kycd/api"
)

// bodySchemas validates JSON bodies against the schemas of kycd's OpenAPI
// document, each compiled once per test binary. kin-openapi validates an
// OpenAPI 3.1 body by marshalling its schema and compiling a fresh JSON
// Schema validator at every call, which cost a tenth of the package's CPU
// under -race; do leaves it routing, parameters, headers and statuses, and
// the bodies it does not decode as JSON.
type bodySchemas struct {
	doc any // the document as JSON, to find schemas and follow $refs in

	mu       sync.Mutex // the compiler is not safe for concurrent use
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema // by the JSON pointer to the media type
}

// bodySchemasURL names the document as a JSON Schema resource: the whole
// document is one, so that a schema's $ref to #/components/schemas/... resolves
// inside it.
const bodySchemasURL = "urn:kycd:openapi.json"

var loadBodySchemas = sync.OnceValues(func() (*bodySchemas, error) {
	raw, err := api.OpenAPI()
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// kin-openapi asserts the formats it knows (date, date-time, byte,
	// int32, int64), with its own rules, and ignores the others (email,
	// uri, uuid): so do these schemas.
	formats := map[string]bool{}
	collectFormats(doc, formats)
	for name := range formats {
		c.RegisterFormat(kinFormat(name))
	}
	c.AssertFormat()
	if err := c.AddResource(bodySchemasURL, doc); err != nil {
		return nil, err
	}
	return &bodySchemas{doc: doc, compiler: c, compiled: map[string]*jsonschema.Schema{}}, nil
})

// collectFormats adds the name of every format the document uses.
func collectFormats(node any, formats map[string]bool) {
	switch node := node.(type) {
	case map[string]any:
		if f, ok := node["format"].(string); ok {
			formats[f] = true
		}
		for _, v := range node {
			collectFormats(v, formats)
		}
	case []any:
		for _, v := range node {
			collectFormats(v, formats)
		}
	}
}

// kinFormat checks a format as kin-openapi's validators do: a string against
// its string formats, an integral number against its integer formats, and
// any other number against its number formats; a format it does not define
// accepts every value.
func kinFormat(name string) *jsonschema.Format {
	return &jsonschema.Format{Name: name, Validate: func(v any) error {
		switch v := v.(type) {
		case string:
			if f, ok := openapi3.SchemaStringFormats[name]; ok {
				return f.Validate(v)
			}
		case json.Number:
			n, err := v.Float64()
			if err != nil {
				return nil
			}
			if f, ok := openapi3.SchemaIntegerFormats[name]; ok && n == math.Trunc(n) && !math.IsInf(n, 0) {
				return f.Validate(int64(n))
			}
			if f, ok := openapi3.SchemaNumberFormats[name]; ok {
				return f.Validate(n)
			}
		}
		return nil
	}}
}

// request validates a JSON request body as openapi3filter.ValidateRequestBody
// would: a missing body only if the document requires one, and a content type
// and schema chosen as kin-openapi chooses them.
func (b *bodySchemas) request(route *routers.Route, header http.Header, data []byte) error {
	rb := route.Operation.RequestBody
	if rb == nil {
		return nil
	}
	if len(data) == 0 {
		if rb.Value.Required {
			return errors.New("request body is required but missing")
		}
		return nil
	}
	return b.validate("request body", rb.Value.Content, header, data, "paths", route.Path, strings.ToLower(route.Method), "requestBody")
}

// response validates a JSON response body as openapi3filter.ValidateResponse
// would, after it has checked the status and the headers: it skips the
// statuses kin-openapi skips, and leaves an undocumented status to it.
func (b *bodySchemas) response(route *routers.Route, status int, header http.Header, data []byte) error {
	switch {
	case route.Method == http.MethodHead,
		status == http.StatusNotModified, status == http.StatusPermanentRedirect,
		status == http.StatusTemporaryRedirect, status == http.StatusMovedPermanently:
		return nil
	}
	responses := route.Operation.Responses
	if responses.Len() == 0 {
		return nil
	}
	rref := responses.Status(status)
	if rref == nil {
		rref = responses.Default()
	}
	if rref == nil {
		return nil
	}
	key := keyOf(responses.Map(), rref)
	return b.validate("response body", rref.Value.Content, header, data, "paths", route.Path, strings.ToLower(route.Method), "responses", key)
}

// validate checks data against the schema of the media type content names for
// its Content-Type, in the request body or response at path in the document.
func (b *bodySchemas) validate(what string, content openapi3.Content, header http.Header, data []byte, path ...string) error {
	if len(content) == 0 {
		return nil
	}
	ct := header.Get("Content-Type")
	mt := content.Get(ct)
	if mt == nil {
		return fmt.Errorf("%s: header Content-Type has unexpected value %q", what, ct)
	}
	if mt.Schema == nil {
		return nil
	}
	sch, err := b.schema(path, keyOf(content, mt))
	if err != nil {
		return err
	}
	// kin-openapi's own decoder, so that the same bodies decode.
	v, err := openapi3filter.JSONBodyDecoder(bytes.NewReader(data), header, mt.Schema, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// keyOf returns the key under which m holds v: the one kin-openapi's lookup
// chose.
func keyOf[V comparable](m map[string]V, v V) string {
	for k, x := range m {
		if x == v {
			return k
		}
	}
	panic("keyOf: value not in map")
}

// schema returns the compiled schema of the media type mediaType in the
// request body or response at path, compiling it at its first use.
func (b *bodySchemas) schema(path []string, mediaType string) (*jsonschema.Schema, error) {
	key := pointer(path) + pointer([]string{"content", mediaType})
	b.mu.Lock()
	defer b.mu.Unlock()
	if sch, ok := b.compiled[key]; ok {
		return sch, nil
	}
	path, err := b.deref(path)
	if err != nil {
		return nil, err
	}
	ptr := pointer(append(path, "content", mediaType, "schema"))
	sch, err := b.compiler.Compile(bodySchemasURL + "#" + ptr)
	if err != nil {
		return nil, fmt.Errorf("compile the schema at %s: %w", ptr, err)
	}
	b.compiled[key] = sch
	return sch, nil
}

// deref follows the $refs of the object at path in the document (a response
// in components/responses), which JSON Schema would not: only schemas are its
// to resolve.
func (b *bodySchemas) deref(path []string) ([]string, error) {
	seen := map[string]bool{}
	for {
		node := b.doc
		for _, tok := range path {
			m, _ := node.(map[string]any)
			node = m[tok]
		}
		m, ok := node.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("OpenAPI document: no object at %s", pointer(path))
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return path, nil
		}
		ptr, ok := strings.CutPrefix(ref, "#/")
		if !ok || seen[ref] {
			return nil, fmt.Errorf("OpenAPI document: $ref %q outside the document or in a loop", ref)
		}
		seen[ref] = true
		path = nil
		for tok := range strings.SplitSeq(ptr, "/") {
			tok, err := url.PathUnescape(tok)
			if err != nil {
				return nil, fmt.Errorf("OpenAPI document: $ref %q: %w", ref, err)
			}
			path = append(path, tokenUnescaper.Replace(tok))
		}
	}
}

// pointer returns the JSON pointer to path as a URL fragment: each token
// escaped for a JSON pointer (RFC 6901), then for a URL, as jsonschema
// decodes a fragment before it reads it as a pointer.
func pointer(path []string) string {
	var b strings.Builder
	for _, tok := range path {
		b.WriteString("/" + url.PathEscape(tokenEscaper.Replace(tok)))
	}
	return b.String()
}

var (
	tokenEscaper   = strings.NewReplacer("~", "~0", "/", "~1")
	tokenUnescaper = strings.NewReplacer("~1", "/", "~0", "~")
)

// isJSON reports whether a Content-Type is one whose body do validates with
// bodySchemas rather than kin-openapi.
func isJSON(contentType string) bool {
	return strings.Contains(contentType, "json")
}
