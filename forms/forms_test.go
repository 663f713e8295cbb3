package forms

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"

	"github.com/kycd/kycd"
)

func registry(t *testing.T) *Registry {
	t.Helper()
	r, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func definition(t *testing.T, code string) *Definition {
	t.Helper()
	d, ok := registry(t).Latest(code)
	if !ok {
		t.Fatalf("no definition %s", code)
	}
	return d
}

// TestDefinitions checks every embedded definition: it compiled (Load), each
// UI-schema scope names a schema property (conditional ones included), and
// every shown text has a translation in every language, with none to spare.
func TestDefinitions(t *testing.T) {
	defs := registry(t).All()
	if len(defs) < 2 {
		t.Fatalf("%d definitions", len(defs))
	}
	for _, d := range defs {
		for _, scope := range scopes(d.UISchema) {
			if !resolves(d.Schema, strings.Split(strings.TrimPrefix(scope, "#/"), "/")) {
				t.Errorf("%s v%d: scope %s names no schema property", d.Code, d.Version, scope)
			}
		}
		texts := d.texts()
		for _, lang := range Languages[1:] {
			base, _ := lang.Base()
			tr := d.Translations[base.String()]
			for text := range texts {
				if tr[text] == "" {
					t.Errorf("%s v%d: no %s translation of %q", d.Code, d.Version, base, text)
				}
			}
			for key := range tr {
				if !texts[key] {
					t.Errorf("%s v%d: %s translation of %q, which the form does not show", d.Code, d.Version, base, key)
				}
			}
		}
		if len(d.Evaluation.Rules) == 0 && len(d.Evaluation.Checks) == 0 {
			t.Errorf("%s v%d has no evaluation rules or checks", d.Code, d.Version)
		}
	}
}

// resolves follows a scope's "properties/<name>" pairs through a schema,
// looking also into allOf/anyOf/oneOf branches and if/then/else.
func resolves(schema map[string]any, path []string) bool {
	if len(path) == 0 {
		return true
	}
	if len(path) < 2 || path[0] != "properties" {
		return false
	}
	if props, ok := schema["properties"].(map[string]any); ok {
		if sub, ok := props[path[1]].(map[string]any); ok && resolves(sub, path[2:]) {
			return true
		}
	}
	for _, k := range []string{"then", "else"} {
		if sub, ok := schema[k].(map[string]any); ok && resolves(sub, path) {
			return true
		}
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		list, _ := schema[k].([]any)
		for _, e := range list {
			if sub, ok := e.(map[string]any); ok && resolves(sub, path) {
				return true
			}
		}
	}
	return false
}

func obj(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func violations(t *testing.T, err error) map[string]string {
	t.Helper()
	e, ok := kycd.AsError(err)
	if !ok || e.Code != kycd.ERequestInvalid {
		t.Fatalf("want request_invalid, got %v", err)
	}
	out := map[string]string{}
	for _, v := range e.Violations {
		out[v.Property] = v.Rule
	}
	return out
}

// TestSeedRequests: the answers of seed 002 (CDD) and seed 004 (CRA) are a
// valid first step that leaves the form waiting for the next one.
func TestSeedRequests(t *testing.T) {
	cdd := definition(t, "customer-due-diligence")
	p, err := cdd.Apply(nil, obj(t, `{"intent": {"expected-activities": ["cryptocurrency_investing", "deposit_withdraw_crypto"]}}`))
	if err != nil || p.Complete || p.Next != "financial-information" || p.Reset {
		t.Fatalf("CDD seed: %+v %v", p, err)
	}
	// Seed 004's CRA is the form's first version, which its answers start.
	cra, _ := registry(t).Starting("crypto-risk-assessment", obj(t, `{"financial-information": {"annual-income-range": "20000-30000"}}`))
	if cra.Version != 1 {
		t.Fatalf("seed 004's answers start version %d", cra.Version)
	}
	p, err = cra.Apply(nil, obj(t, `{"financial-information": {"annual-income-range": "20000-30000"}}`))
	if err != nil || p.Complete || p.Next != "attitude-towards-risk" {
		t.Fatalf("CRA seed: %+v %v", p, err)
	}
	// Uphold's OpenAPI document's CRA (its Uphold-verified example) is the
	// second, under the same formId, and the one a new process shows.
	openapi := `{"decision-making": {"who-makes-investment-decisions": "i_decide"}}`
	reg := registry(t)
	cra2, _ := reg.Starting("crypto-risk-assessment", obj(t, openapi))
	if latest, _ := reg.Latest("crypto-risk-assessment"); cra2.Version != 2 || latest != cra2 || cra2.FormID != cra.FormID {
		t.Fatalf("the OpenAPI document's answers start version %d (latest %d)", cra2.Version, latest.Version)
	}
	p, err = cra2.Apply(nil, obj(t, openapi))
	if err != nil || p.Complete || p.Next != "loss-tolerance" {
		t.Fatalf("CRA of the OpenAPI document: %+v %v", p, err)
	}
	if d, _ := reg.Starting("crypto-risk-assessment", obj(t, `{"no-such-step": {}}`)); d != cra2 {
		t.Errorf("answers of no version start version %d, not the latest", d.Version)
	}
}

// TestWalk goes through every CDD step, with partial answers, the
// conditional "other" question, and a reset from the first step.
func TestWalk(t *testing.T) {
	d := definition(t, "customer-due-diligence")
	p, err := d.Apply(nil, obj(t, `{"intent": {"expected-activities": ["cryptocurrency_investing"]}}`))
	if err != nil || p.Next != "financial-information" {
		t.Fatalf("step 1: %+v %v", p, err)
	}
	// Partial answers of step 2 are kept.
	p, err = d.Apply(p.Answers, obj(t, `{"financial-information": {"source-of-funds": "other"}}`))
	if err != nil || p.Complete || p.Next != "financial-information" {
		t.Fatalf("partial step 2: %+v %v", p, err)
	}
	p, err = d.Apply(p.Answers, obj(t, `{"financial-information": {"annual-income-range": "30000-40000", "expected-annual-deposits-range": "8000-15000"}}`))
	if err != nil || p.Complete {
		t.Fatalf("step 2 without the conditional question: %+v %v", p, err)
	}
	// Only the conditional question is missing: answering it completes the form.
	if _, ok := p.Answers["financial-information"].(map[string]any)["other-source-of-funds"]; ok || p.Next != "financial-information" {
		t.Fatalf("step 2 before the conditional answer: %+v", p)
	}
	// The conditional question has its own rules.
	vs := violations(t, func() error {
		_, err := d.Apply(p.Answers, obj(t, `{"financial-information": {"other-source-of-funds": "`+strings.Repeat("x", 51)+`"}}`))
		return err
	}())
	if vs["input.answers.financial-information.other-source-of-funds"] != "maxLength" {
		t.Fatalf("long other source: %v", vs)
	}
	p, err = d.Apply(p.Answers, obj(t, `{"financial-information": {"other-source-of-funds": "Lottery"}}`))
	if err != nil || !p.Complete || p.Next != "" {
		t.Fatalf("complete: %+v %v", p, err)
	}
	fin := p.Answers["financial-information"].(map[string]any)
	if fin["source-of-funds"] != "other" || fin["annual-income-range"] != "30000-40000" || fin["other-source-of-funds"] != "Lottery" {
		t.Fatalf("answers merged wrongly: %v", fin)
	}
	// Answering the first step again resets the form from there.
	p, err = d.Apply(p.Answers, obj(t, `{"intent": {"expected-activities": ["foreign_exchange_trading"]}}`))
	if err != nil || !p.Reset || p.Complete || p.Next != "financial-information" || p.Answers["financial-information"] != nil {
		t.Fatalf("reset: %+v %v", p, err)
	}
}

func TestRefusals(t *testing.T) {
	d := definition(t, "customer-due-diligence")
	apply := func(prev map[string]any, answers string) map[string]string {
		t.Helper()
		_, err := d.Apply(prev, obj(t, answers))
		return violations(t, err)
	}
	if vs := apply(nil, `{"financial-information": {"source-of-funds": "salary"}}`); vs["input.answers.financial-information"] != "stepNotReached" {
		t.Errorf("skipping ahead: %v", vs)
	}
	if vs := apply(nil, `{"intent": {}, "financial-information": {}}`); vs["input.answers"] != "oneStep" {
		t.Errorf("two steps: %v", vs)
	}
	if vs := apply(nil, `{"hobbies": {}}`); vs["input.answers.hobbies"] != "additionalProperties" {
		t.Errorf("unknown step: %v", vs)
	}
	if vs := apply(nil, `{"intent": "yes"}`); vs["input.answers.intent"] != "type" {
		t.Errorf("step not an object: %v", vs)
	}
	if vs := apply(nil, `{"intent": {"expected-activities": ["gambling"]}}`); vs["input.answers.intent.expected-activities.0"] != "enum" {
		t.Errorf("unknown choice: %v", vs)
	}
	if vs := apply(nil, `{"intent": {"expected-activities": []}}`); vs["input.answers.intent.expected-activities"] != "minItems" {
		t.Errorf("no choice: %v", vs)
	}
	first, err := d.Apply(nil, obj(t, `{"intent": {"expected-activities": ["cryptocurrency_investing"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if vs := apply(first.Answers, `{"financial-information": {"annual-income-range": 20000}}`); vs["input.answers.financial-information.annual-income-range"] != "type" {
		t.Errorf("number for a choice: %v", vs)
	}
}

func TestEvaluate(t *testing.T) {
	cdd := definition(t, "customer-due-diligence")
	low := cdd.Evaluate(obj(t, `{"intent": {"expected-activities": ["cryptocurrency_investing"]}, "financial-information": {"source-of-funds": "salary", "annual-income-range": "60000-80000", "expected-annual-deposits-range": "8000-15000"}}`))
	high := cdd.Evaluate(obj(t, `{"intent": {"expected-activities": ["deposit_withdraw_crypto"]}, "financial-information": {"source-of-funds": "inheritance", "annual-income-range": "0-20000", "expected-annual-deposits-range": "120000-or-more"}}`))
	if low.Level != "low" || low.Score != 0 || high.Level != "high" || high.Score != 7 {
		t.Fatalf("CDD: low %+v, high %+v", low, high)
	}
	cra, _ := registry(t).Version("crypto-risk-assessment", 1)
	ok := cra.Evaluate(obj(t, `{"financial-information": {"annual-income-range": "60000-80000"}, "attitude-towards-risk": {"willingness-to-fluctuations": "agree"}}`))
	no := cra.Evaluate(obj(t, `{"financial-information": {"annual-income-range": "60000-80000"}, "attitude-towards-risk": {"willingness-to-fluctuations": "strongly_disagree"}}`))
	if ok.Rejected || !no.Rejected {
		t.Fatalf("CRA: approved %+v, rejected %+v", ok, no)
	}
	// Version 2 (Uphold's OpenAPI document): the answers of the document's
	// approved assessment pass; any other answer to any question fails.
	cra2, _ := registry(t).Version("crypto-risk-assessment", 2)
	approved := map[string]string{"decision-making.who-makes-investment-decisions": "i_decide", "loss-tolerance.acceptable-loss": "full_loss_possible",
		"volatility-understanding.expected-price-behaviour": "highly_volatile", "liquidity-awareness.selling-timeline": "may_be_delayed",
		"regulatory-protection.compensation-coverage": "no_coverage", "portfolio-allocation.share-of-net-assets": "small_share",
		"complexity-acknowledgement.product-mechanics": "complex_and_risky"}
	answers := func(wrong string) map[string]any {
		out := map[string]any{}
		for k, v := range approved {
			step, q, _ := strings.Cut(k, ".")
			if k == wrong {
				v = "other"
			}
			out[step] = map[string]any{q: v}
		}
		return out
	}
	if res := cra2.Evaluate(answers("")); res.Rejected {
		t.Errorf("CRA v2, the document's approved answers: %+v", res)
	}
	for k := range approved {
		for _, r := range cra2.Evaluation.Rules {
			if r.Property == k {
				wrong := answers("")
				step, q, _ := strings.Cut(k, ".")
				wrong[step] = map[string]any{q: r.In[0]}
				if res := cra2.Evaluate(wrong); !res.Rejected {
					t.Errorf("CRA v2, %s %s: %+v", k, r.In[0], res)
				}
			}
		}
	}
}

func TestLocale(t *testing.T) {
	for header, want := range map[string]language.Tag{
		"": language.English, "pt-PT": language.Portuguese, "pt-BR,pt;q=0.9": language.Portuguese,
		"de-DE;q=0.8, fr;q=0.9": language.German, "fr": language.English, "en-GB": language.English,
	} {
		got, err := ParseLocale(header)
		if err != nil {
			t.Errorf("%q: %v", header, err)
			continue
		}
		if b1, _ := got.Base(); b1 != mustBase(want) {
			t.Errorf("%q: %v, want %v", header, got, want)
		}
	}
	if _, err := ParseLocale("not a locale!!"); kycd.ErrorCode(err) != "locale_invalid" {
		t.Errorf("malformed locale: %v", err)
	}
	d := definition(t, "customer-due-diligence")
	hint := d.Hint("f-1", language.Portuguese)
	raw, _ := json.Marshal(hint)
	if hint["type"] != "form" || hint["formId"] != "f-1" || !strings.Contains(string(raw), "Como vai usar a sua conta?") || strings.Contains(string(raw), "How will you use your account?") {
		t.Fatalf("Portuguese hint: %s", raw)
	}
	if en, _ := json.Marshal(d.Hint("f-1", language.English)); !strings.Contains(string(en), "How will you use your account?") {
		t.Fatal("English hint lost its titles")
	}
	// The definition itself is untouched by translation.
	if d.Schema["properties"].(map[string]any)["intent"].(map[string]any)["title"] != "How will you use your account?" {
		t.Fatal("Hint changed the definition")
	}
}

func mustBase(t language.Tag) language.Base { b, _ := t.Base(); return b }

// TestOverride: a folder adds versions and replaces embedded ones; a badly
// named file is refused.
func TestOverride(t *testing.T) {
	dir := t.TempDir()
	raw, _ := embedded.ReadFile("definitions/customer-due-diligence.v1.json")
	var def map[string]any
	_ = json.Unmarshal(raw, &def)
	def["version"] = 2
	out, _ := json.Marshal(def)
	if err := os.WriteFile(filepath.Join(dir, "customer-due-diligence.v2.json"), out, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := r.Latest("customer-due-diligence"); d.Version != 2 {
		t.Fatalf("latest is v%d", d.Version)
	}
	if _, ok := r.Version("customer-due-diligence", 1); !ok {
		t.Fatal("v1 is gone: instances started on it could not go on")
	}
	if err := os.WriteFile(filepath.Join(dir, "cdd-latest.json"), out, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil {
		t.Fatal("a badly named definition was accepted")
	}
}

// FuzzApply: whatever a client sends as answers, on top of whatever earlier
// answers, Apply ends in progress or a request_invalid error, never a panic.
func FuzzApply(f *testing.F) {
	r, err := Load("")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"intent": {"expected-activities": ["cryptocurrency_investing"]}}`,
		`{"financial-information": {"source-of-funds": "other", "other-source-of-funds": "x"}}`,
		`{"intent": null}`, `{"intent": {"expected-activities": [1, {}, null]}}`, `{}`, `{"a": 1, "b": 2}`,
	} {
		f.Add(s, `{"intent": {"expected-activities": ["deposit_withdraw_crypto"]}}`)
	}
	f.Fuzz(func(t *testing.T, answers, prev string) {
		var a, p map[string]any
		if json.Unmarshal([]byte(answers), &a) != nil {
			return
		}
		_ = json.Unmarshal([]byte(prev), &p)
		if got, want := normalize(a), roundTrip(t, a); !reflect.DeepEqual(got, want) {
			t.Fatalf("normalize(%s) = %#v, want %#v", answers, got, want)
		}
		for _, d := range r.All() {
			prog, err := d.Apply(p, a)
			if err != nil {
				if kycd.ErrorCode(err) != kycd.ERequestInvalid {
					t.Fatalf("%s: %v is not request_invalid", d.Code, err)
				}
				continue
			}
			// Apply validates only the steps that can have changed; the
			// outcome is that of validating every step.
			next := d.firstIncomplete(prog.Answers, d.steps)
			if prog.Complete != (next == len(d.steps)) || !prog.Complete && prog.Next != d.steps[next] {
				t.Fatalf("%s: complete %v next %q, every step validated says %d", d.Code, prog.Complete, prog.Next, next)
			}
		}
	})
}

// roundTrip is what normalize must give: the value encoded and decoded as
// the validator decodes JSON.
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNormalize(t *testing.T) {
	for _, v := range []any{
		nil, "a", true, 0.0, math.Copysign(0, -1), 1.0, -1.5, 1e21, 1e-7, 123456789.125, math.MaxFloat64, json.Number("12"),
		map[string]any{"a": []any{1.0, "x", map[string]any{"b": 2.5e-9, "c": nil}}, "d": []any{}},
		// Nil maps and slices encode as null (the fuzz target found it).
		map[string]any(nil), []any(nil), map[string]any{"a": []any(nil), "b": map[string]any(nil)},
		// Go types no JSON decoder gives: encoded and decoded.
		[]string{"a"}, map[string]any{"n": 3}, map[string]any{"m": map[string]string{"k": "v"}}, 7,
	} {
		if got, want := normalize(v), roundTrip(t, v); !reflect.DeepEqual(got, want) {
			t.Errorf("normalize(%#v) = %#v, want %#v", v, got, want)
		}
	}
}
