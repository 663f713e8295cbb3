package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kycd/kycd"
)

func TestSpecLoads(t *testing.T) {
	t.Parallel()
	s, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(s.json, &doc); err != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("document: %v", err)
	}
}

func TestValidateViolations(t *testing.T) {
	t.Parallel()
	s, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	v, err := parseJSON([]byte(`{"email": 3, "address": {"country": "GB", "x": 1}, "phone": {"number": "12"}}`))
	if err != nil {
		t.Fatal(err)
	}
	e, ok := kycd.AsError(s.validate("create-user-request", v))
	if !ok || e.Code != kycd.ERequestInvalid || e.Context != "body" {
		t.Fatalf("validate: %v", e)
	}
	got := map[string]bool{}
	for _, v := range e.Violations {
		got[v.Property+"/"+v.Rule] = true
	}
	for _, want := range []string{"email/type", "termsOfService/required", "primaryCitizenship/required", "address.x/additionalProperties", "phone.number/pattern", "phone.country/required"} {
		if !got[want] {
			t.Errorf("missing violation %s in %v", want, e.Violations)
		}
	}
}

// FuzzDecodeBody: whatever bytes arrive as a body, parsing and validating
// them ends in a value or a request_invalid error: never a panic, never
// another kind of error.
func FuzzDecodeBody(f *testing.F) {
	s, err := loadSpec()
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		`{"email":"a@b.co","termsOfService":"general-gb-fca","primaryCitizenship":"GB","address":{"country":"GB"}}`,
		`{"input":{"formId":"ae80271a-a3f0-453b-8dc6-36b777817217","answers":{"intent":{"expected-activities":["cryptocurrency_investing"]}}}}`,
		`{"type":"document-submission","input":{"media":[{"context":"photo-selfie","fileId":"470b2192-893f-4ce6-9daa-816d4c319a84"}]},"output":{"provider":"veriff","verifiedAt":"2020-01-01T00:00:00Z"}}`,
		`{"email":`, `[]`, `null`, `{"a":1}{"b":2}`, `{"email":"\ud800"}`, `{"metadata":{"x":1e999}}`, `"` + strings.Repeat("a", 100),
	} {
		f.Add([]byte(seed))
	}
	schemas := []string{"create-user-request", "create-file-request", "delete-user-request", "verify-kyc-code-request"}
	for _, code := range kycd.ProcessCodes {
		if _, ok := s.schemas["update-kyc-"+code+"-request"]; ok {
			schemas = append(schemas, "update-kyc-"+code+"-request")
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, schema := range schemas {
			v, err := parseJSON(body)
			if err == nil {
				err = s.validate(schema, v)
			}
			if err != nil && kycd.ErrorCode(err) != kycd.ERequestInvalid {
				t.Fatalf("%s: %v is not request_invalid", schema, err)
			}
		}
	})
}
