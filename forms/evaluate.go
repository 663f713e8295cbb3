package forms

import (
	"slices"
	"strings"
)

// Result is what evaluating a completed form gives.
type Result struct {
	// Score is the sum of the points of the matching rules.
	Score int
	// Level is the score's band ("" when the definition has none).
	Level string
	// Rejected reports a score at or above the definition's RejectFrom.
	Rejected bool
}

// Evaluate scores a completed form's answers with the definition's rules.
func (d *Definition) Evaluate(answers map[string]any) Result {
	var r Result
	for _, rule := range d.Evaluation.Rules {
		if matches(lookup(answers, rule.Property), rule.In) {
			r.Score += rule.Points
		}
	}
	for _, l := range d.Evaluation.Levels {
		if r.Score >= l.From {
			r.Level = l.Level
		}
	}
	r.Rejected = d.Evaluation.RejectFrom > 0 && r.Score >= d.Evaluation.RejectFrom
	return r
}

// lookup returns the answer at a dotted path, or nil.
func lookup(answers map[string]any, path string) any {
	var v any = answers
	for _, p := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func matches(v any, in []string) bool {
	switch x := v.(type) {
	case string:
		return slices.Contains(in, x)
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok && slices.Contains(in, s) {
				return true
			}
		}
	}
	return false
}
