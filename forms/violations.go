package forms

import (
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/kycd/kycd"
)

// Violations turns a JSON Schema validation error into Uphold's violations:
// one per failing leaf, each naming the dotted property (under prefix) and
// the rule, sorted by property.
func Violations(ve *jsonschema.ValidationError, prefix string) []kycd.Violation {
	vs := leaves(ve, prefix, nil)
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Property < vs[j].Property })
	return dedupe(vs)
}

func leaves(ve *jsonschema.ValidationError, prefix string, out []kycd.Violation) []kycd.Violation {
	if allowed, ok := choices(ve); ok {
		prop := strings.Join(append(splitPath(prefix), ve.InstanceLocation...), ".")
		return append(out, kycd.Violation{Property: prop, Rule: "enum", RuleParams: map[string]any{"allowedValues": allowed}})
	}
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			out = leaves(c, prefix, out)
		}
		return out
	}
	prop := strings.Join(append(splitPath(prefix), ve.InstanceLocation...), ".")
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
	case *kind.MinItems:
		out = append(out, kycd.Violation{Property: prop, Rule: "minItems", RuleParams: map[string]any{"limit": k.Want}})
	case *kind.MaxItems:
		out = append(out, kycd.Violation{Property: prop, Rule: "maxItems", RuleParams: map[string]any{"limit": k.Want}})
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

// choices recognises a value that matched none of a oneOf/anyOf of consts
// (a choice list) and returns the allowed values.
func choices(ve *jsonschema.ValidationError) ([]any, bool) {
	switch ve.ErrorKind.(type) {
	case *kind.OneOf, *kind.AnyOf:
	default:
		return nil, false
	}
	var allowed []any
	for _, c := range ve.Causes {
		k, ok := c.ErrorKind.(*kind.Const)
		if !ok || len(c.Causes) > 0 {
			return nil, false
		}
		allowed = append(allowed, k.Want)
	}
	return allowed, len(allowed) > 0
}

func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(p, ".")
}

func dedupe(vs []kycd.Violation) []kycd.Violation {
	seen := map[string]bool{}
	out := vs[:0]
	for _, v := range vs {
		key := v.Property + "\x00" + v.Rule
		if !seen[key] {
			seen[key] = true
			out = append(out, v)
		}
	}
	return out
}
