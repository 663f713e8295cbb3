package api

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"gopkg.in/yaml.v3"

	"github.com/kycd/kycd"
)

//go:embed openapi.yaml
var openapiYAML []byte

// OpenAPI returns kycd's OpenAPI document as JSON.
func OpenAPI() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	return json.Marshal(doc)
}

// spec holds the OpenAPI document and the request body schemas compiled from
// it once, at start: handlers validate bodies against the same schemas the
// document publishes.
type spec struct {
	json    []byte
	schemas map[string]*jsonschema.Schema
}

const specURL = "urn:kycd:openapi.json"

func loadSpec() (*spec, error) {
	raw, err := OpenAPI()
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(specURL, doc); err != nil {
		return nil, err
	}
	s := &spec{json: raw, schemas: map[string]*jsonschema.Schema{}}
	for _, name := range []string{"create-user-request", "delete-user-request", "create-file-request"} {
		sch, err := c.Compile(specURL + "#/components/schemas/" + name)
		if err != nil {
			return nil, fmt.Errorf("compile schema %s: %w", name, err)
		}
		s.schemas[name] = sch
	}
	return s, nil
}

// validate checks a decoded JSON value against a named schema and returns
// the violations in Uphold's vocabulary, or nil.
func (s *spec) validate(name string, v any) error {
	sch, ok := s.schemas[name]
	if !ok {
		return fmt.Errorf("api: no schema %q", name)
	}
	err := sch.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	vs := violations(ve, nil)
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Property < vs[j].Property })
	return kycd.Invalid("body", dedupe(vs)...)
}

// violations flattens a validation error tree into its leaves.
func violations(ve *jsonschema.ValidationError, out []kycd.Violation) []kycd.Violation {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			out = violations(c, out)
		}
		return out
	}
	prop := strings.Join(ve.InstanceLocation, ".")
	child := func(name string) string {
		if prop == "" {
			return name
		}
		return prop + "." + name
	}
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			out = append(out, kycd.Violation{Property: child(m), Rule: "required"})
		}
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			out = append(out, kycd.Violation{Property: child(p), Rule: "additionalProperties"})
		}
	case *kind.Type:
		out = append(out, kycd.Violation{Property: prop, Rule: "type", RuleParams: map[string]any{"type": strings.Join(k.Want, "|")}})
	case *kind.Enum:
		out = append(out, kycd.Violation{Property: prop, Rule: "enum", RuleParams: map[string]any{"allowedValues": k.Want}})
	case *kind.Pattern:
		out = append(out, kycd.Violation{Property: prop, Rule: "pattern", RuleParams: map[string]any{"pattern": k.Want}})
	case *kind.Format:
		out = append(out, kycd.Violation{Property: prop, Rule: "format", RuleParams: map[string]any{"format": k.Want}})
	case *kind.MaxLength:
		out = append(out, kycd.Violation{Property: prop, Rule: "maxLength", RuleParams: map[string]any{"limit": k.Want}})
	case *kind.MinLength:
		out = append(out, kycd.Violation{Property: prop, Rule: "minLength", RuleParams: map[string]any{"limit": k.Want}})
	case *kind.MinProperties:
		out = append(out, kycd.Violation{Property: prop, Rule: "minProperties", RuleParams: map[string]any{"limit": k.Want}})
	case *kind.Const:
		out = append(out, kycd.Violation{Property: prop, Rule: "const"})
	default:
		rule := "invalid"
		if kp := ve.ErrorKind.KeywordPath(); len(kp) > 0 {
			rule = kp[len(kp)-1]
		}
		out = append(out, kycd.Violation{Property: prop, Rule: rule})
	}
	return out
}

func dedupe(vs []kycd.Violation) []kycd.Violation {
	seen := map[string]bool{}
	out := vs[:0]
	for _, v := range vs {
		key := v.Property + "\x00" + v.Rule
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, v)
	}
	return out
}
