package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/kycd/kycd"
)

func jsonEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// encode writes v as JSON with the given status.
func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = jsonEncoder(w).Encode(v)
}

// readBody reads a size-capped body of the given media type.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, mediaType string) ([]byte, error) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != mediaType {
		return nil, &kycd.Error{Code: kycd.EUnsupportedMediaType, Message: "The request body must be " + mediaType}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, &kycd.Error{Code: kycd.EContentTooLarge, Message: "The request body is too large",
			Details: map[string]any{"threshold": map[string]any{"limit": s.maxBody, "unit": "bytes"}}}
	} else if err != nil {
		return nil, kycd.Invalid("body", kycd.Violation{Property: "", Rule: "readable"})
	}
	return body, nil
}

// decode reads a JSON body, validates it against the named schema of the
// OpenAPI document and unmarshals it into T. Malformed JSON, wrong types and
// unknown fields are request_invalid violations, never a 500.
func decode[T any](s *Server, w http.ResponseWriter, r *http.Request, schema string) (T, error) {
	var out T
	body, err := s.readBody(w, r, "application/json")
	if err != nil {
		return out, err
	}
	v, err := parseJSON(body)
	if err != nil {
		return out, err
	}
	if err := s.spec.validate(schema, v); err != nil {
		return out, err
	}
	if err := json.Unmarshal(body, &out); err != nil {
		// The schema accepted what the Go type cannot hold: a schema bug.
		return out, kycd.Invalid("body", kycd.Violation{Property: "", Rule: "type"})
	}
	return out, nil
}

// parseJSON parses exactly one JSON value, keeping numbers exact. Text
// kycd cannot store is refused (kycd.ValidText): a body that is not UTF-8
// (RFC 8259 asks for it), and strings or names that hold NUL (\u0000).
func parseJSON(body []byte) (any, error) {
	if !utf8.Valid(body) {
		return nil, kycd.InvalidText("body", "")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		offset := dec.InputOffset()
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			offset = int64(len(body))
		}
		return nil, malformed(err, offset)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed(errors.New("trailing data"), dec.InputOffset())
	}
	if path, ok := invalidText(v, ""); !ok {
		return nil, kycd.InvalidText("body", path)
	}
	return v, nil
}

// invalidText finds a string or a property name in a parsed JSON value
// that is not kycd.ValidText, and returns its dotted path and false.
func invalidText(v any, path string) (string, bool) {
	join := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	switch x := v.(type) {
	case string:
		return path, kycd.ValidText(x)
	case map[string]any:
		for k, e := range x {
			if !kycd.ValidText(k) {
				return path, false
			}
			if p, ok := invalidText(e, join(k)); !ok {
				return p, false
			}
		}
	case []any:
		for i, e := range x {
			if p, ok := invalidText(e, join(strconv.Itoa(i))); !ok {
				return p, false
			}
		}
	}
	return "", true
}

func malformed(err error, offset int64) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		offset = se.Offset
	}
	e := kycd.Invalid("body", kycd.Violation{Property: "", Rule: "json", RuleParams: map[string]any{"offset": offset}})
	e.Message = "The request body is not valid JSON"
	return e
}
