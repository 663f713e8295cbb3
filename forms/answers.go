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
	current := d.firstIncomplete(prev)
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
	if err := d.checkStep(prefix, step, merged); err != nil {
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
	next := d.firstIncomplete(out.Answers)
	out.Complete = next == len(d.steps)
	if !out.Complete {
		out.Next = d.steps[next]
	}
	return out, nil
}

// checkStep validates a step's answers, ignoring only what is missing.
func (d *Definition) checkStep(prefix, step string, answers map[string]any) error {
	err := d.compile[step].Validate(normalize(answers))
	var ve *jsonschema.ValidationError
	if err == nil || !errors.As(err, &ve) {
		return err
	}
	var vs []kycd.Violation
	for _, v := range Violations(ve, prefix+"."+step) {
		if v.Rule != "required" {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return nil
	}
	return kycd.Invalid("body", vs...)
}

// complete reports whether a step's answers satisfy its schema entirely.
func (d *Definition) complete(step string, answers any) bool {
	if answers == nil {
		return false
	}
	return d.compile[step].Validate(normalize(answers)) == nil
}

func (d *Definition) firstIncomplete(answers map[string]any) int {
	for i, s := range d.steps {
		if !d.complete(s, answers[s]) {
			return i
		}
	}
	return len(d.steps)
}

// normalize gives the validator what it expects (numbers as json.Number),
// whatever decoded the answers.
func normalize(v any) any {
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

func index(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
