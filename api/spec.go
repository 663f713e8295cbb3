package api

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/forms"
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

// loadSpec parses the document and compiles its schemas once per process:
// both are only read after, and a process that starts several servers (the
// end-to-end tests start hundreds) would otherwise parse the YAML at each
// start (130 ms of CPU under -race).
var loadSpec = sync.OnceValues(parseSpec)

func parseSpec() (*spec, error) {
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
	names := []string{"create-user-request", "delete-user-request", "create-file-request", "verify-kyc-code-request", "advance-sandbox-clock-request",
		"create-sumsub-ingestion-request", "create-veriff-ingestion-request", "set-veriff-config-request", "set-sumsub-config-request",
		"create-webhook-endpoint-request", "update-webhook-endpoint-request", "rotate-webhook-secret-request", "replay-webhook-events-request",
		"create-check-kyc-request", "create-check-por-request", "create-check-instrument-fit-request", "create-check-compliance-request",
		"create-kyc-application-request", "update-kyc-application-request", "send-sign-code-request", "create-kyc-document-request",
		"sandbox-kyc-application-status-request", "decide-kyc-application-request", "kyc-level-catalog", "screening-search-request", "decide-case-request",
		"set-metadata-request", "update-metadata-request"}
	for _, code := range kycd.ProcessCodes {
		if code != kycd.ProcessScreening && code != kycd.ProcessRisk {
			names = append(names, "update-kyc-"+code+"-request")
		}
	}
	for _, name := range names {
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
	return kycd.Invalid("body", forms.Violations(ve, "")...)
}
