package forms

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kycd/kycd"
)

// AnswersProperty is where answers sit in a KYC process PATCH body; violations
// are named under it.
const AnswersProperty = "input.answers"

// Progress is a form instance's answers after a call.
type Progress struct {
	// Answers holds each answered step's answers, keyed by step property.
	Answers map[string]any
	// Step is the index of the step the call answered.
	Step int
	// Reset reports that the call answered an earlier step, dropping the
	// answers of the steps after it.
	Reset bool
	// Complete reports that every step validates: the form can be evaluated.
	Complete bool
	// Next is the first step still to answer ("" when complete).
	Next string
}

// Apply applies one call's answers to a form instance's earlier answers.
// The answers must name exactly one step. That step's new answers are merged
// into its earlier ones (partial answers are kept); a step before the first
// unanswered one resets the form from there; a later step is refused. Invalid
// values are request_invalid violations; missing ones only leave the step
// incomplete.
func (d *Definition) Apply(prev, answers map[string]any) (*Progress, error) {
	return d.ApplyUnder(AnswersProperty, prev, answers)
}

// ApplyUnder is Apply for answers found at another place of the request
// body (prefix names it in violations: "input" for tax details).
func (d *Definition) ApplyUnder(prefix string, prev, answers map[string]any) (*Progress, error) {
	if len(answers) != 1 {
		return nil, kycd.Invalid("body", kycd.Violation{Property: prefix, Rule: "oneStep",
			RuleParams: map[string]any{"steps": d.steps}})
	}
	var step string
	for k := range answers {
		step = k
	}
	k := index(d.steps, step)
	if k < 0 {
		return nil, kycd.Invalid("body", kycd.Violation{Property: prefix + "." + step, Rule: "additionalProperties"})
	}
	current := d.firstIncomplete(prev, d.steps)
	if k > current {
		return nil, kycd.Invalid("body", kycd.Violation{Property: prefix + "." + step, Rule: "stepNotReached",
			RuleParams: map[string]any{"nextStep": d.steps[current]}})
	}
	given, ok := answers[step].(map[string]any)
	if !ok {
		return nil, kycd.Invalid("body", kycd.Violation{Property: prefix + "." + step, Rule: "type", RuleParams: map[string]any{"type": "object"}})
	}
	out := &Progress{Answers: map[string]any{}, Step: k, Reset: k < current}
	for i := 0; i < k; i++ {
		if v, ok := prev[d.steps[i]]; ok {
			out.Answers[d.steps[i]] = v
		}
	}
	merged := map[string]any{}
	if old, ok := prev[step].(map[string]any); ok {
		maps.Copy(merged, old)
	}
	maps.Copy(merged, given)
	for q, v := range merged {
		if v == nil { // null clears an answer
			delete(merged, q)
		}
	}
	done, err := d.checkStep(prefix, step, merged)
	if err != nil {
		return nil, err
	}
	out.Answers[step] = merged
	if !out.Reset {
		// Steps after this one stay as they were (an incomplete step being
		// completed has none after it answered).
		for i := k + 1; i < len(d.steps); i++ {
			if v, ok := prev[d.steps[i]]; ok {
				out.Answers[d.steps[i]] = v
			}
		}
	}
	// The steps before this one were complete (k <= current) and are kept
	// as they were; this one was just validated.
	next := k
	if done {
		next = k + 1 + d.firstIncomplete(out.Answers, d.steps[k+1:])
	}
	out.Complete = next == len(d.steps)
	if !out.Complete {
		out.Next = d.steps[next]
	}
	return out, nil
}

// checkStep validates a step's answers, ignoring only what is missing, and
// reports whether nothing is (the step is complete).
func (d *Definition) checkStep(prefix, step string, answers map[string]any) (complete bool, err error) {
	err = d.compile[step].Validate(normalize(answers))
	var ve *jsonschema.ValidationError
	if err == nil {
		return true, nil
	}
	if !errors.As(err, &ve) {
		return false, err
	}
	var vs []kycd.Violation
	for _, v := range Violations(ve, prefix+"."+step) {
		if v.Rule != "required" {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return false, nil
	}
	return false, kycd.Invalid("body", vs...)
}

// complete reports whether a step's answers satisfy its schema entirely.
func (d *Definition) complete(step string, answers any) bool {
	if answers == nil {
		return false
	}
	return d.compile[step].Validate(normalize(answers)) == nil
}

// firstIncomplete returns the index in steps of the first step whose
// answers are not complete (len(steps) when all are).
func (d *Definition) firstIncomplete(answers map[string]any, steps []string) int {
	for i, s := range steps {
		if !d.complete(s, answers[s]) {
			return i
		}
	}
	return len(steps)
}

// normalize gives the validator what it expects, the values of decoded JSON
// with numbers as json.Number, whatever decoded the answers. Values already
// in that form are walked, not re-encoded; anything else goes through JSON.
func normalize(v any) any {
	if out, ok := normalized(v); ok {
		return out
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return v
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return v
	}
	return out
}

// normalized converts the values encoding/json decodes into (float64 numbers)
// into the validator's (json.Number, spelled as encoding/json spells it); ok
// is false for any other Go type.
func normalized(v any) (any, bool) {
	switch v := v.(type) {
	case nil, string, bool, json.Number:
		return v, true
	case float64:
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, false
		}
		return json.Number(raw), true
	case map[string]any:
		if v == nil {
			return nil, true // encodes as null
		}
		out := make(map[string]any, len(v))
		for k, x := range v {
			n, ok := normalized(x)
			if !ok {
				return nil, false
			}
			out[k] = n
		}
		return out, true
	case []any:
		if v == nil {
			return nil, true
		}
		out := make([]any, len(v))
		for i, x := range v {
			n, ok := normalized(x)
			if !ok {
				return nil, false
			}
			out[i] = n
		}
		return out, true
	}
	return nil, false
}

func index(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
