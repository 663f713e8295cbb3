package api

import (
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/kycd/kycd"
)

// queryParams reads integer query parameters, collecting a violation for
// each one that is not an integer in its range.
type queryParams struct {
	q  url.Values
	vs []kycd.Violation
}

// int returns the parameter name, def when absent; max 0 means no upper bound.
func (p *queryParams) int(name string, def, min, max int64) int64 {
	v := p.q.Get(name)
	if v == "" {
		return def
	}
	if max == 0 {
		max = math.MaxInt64
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min || n > max {
		params := map[string]any{"min": min}
		if max != math.MaxInt64 {
			params["max"] = max
		}
		p.vs = append(p.vs, kycd.Violation{Property: name, Rule: "range", RuleParams: params})
		return def
	}
	return n
}

// err is the request_invalid error of the violations, or nil.
func (p *queryParams) err() error {
	if len(p.vs) == 0 {
		return nil
	}
	return kycd.Invalid("query", p.vs...)
}

// checkText refuses, before any handler reads them, a request whose query
// parameter names or values are not text kycd can store (kycd.ValidText:
// NUL characters, invalid UTF-8), as request_invalid naming the parameter.
// JSON bodies are checked where they are parsed (parseJSON), forms where
// they are read (the token endpoint), path values where they are read as
// ids (pathUUID, pathID: a malformed id is refused before the store, as
// each route documents); the store refuses whatever else gets through.
func checkText(r *http.Request) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	for name, values := range r.URL.Query() {
		if !kycd.ValidText(name) {
			return kycd.InvalidText("query", "")
		}
		for _, v := range values {
			if !kycd.ValidText(v) {
				return kycd.InvalidText("query", name)
			}
		}
	}
	return nil
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// uuidViolation is the violation of a parameter that must be a uuid.
func uuidViolation(name string) kycd.Violation {
	return kycd.Violation{Property: name, Rule: "format", RuleParams: map[string]any{"format": "uuid"}}
}

// pathUUID reads a path parameter that is an id (a uuid, returned in
// lower case): a malformed one is a 400 naming the parameter.
func pathUUID(r *http.Request, name string) (string, error) {
	id := r.PathValue(name)
	if !uuidPattern.MatchString(id) {
		return "", kycd.Invalid("params", uuidViolation(name))
	}
	return strings.ToLower(id), nil
}

// pathID reads a path parameter that is the id of an entity (a uuid,
// returned in lower case) on routes that answer a malformed id as they
// answer an unknown one: entity_not_found, without asking the store.
func pathID(r *http.Request, name, entity string) (string, error) {
	id := r.PathValue(name)
	if !uuidPattern.MatchString(id) {
		return "", kycd.NotFound(entity)
	}
	return strings.ToLower(id), nil
}
