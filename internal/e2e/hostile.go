package e2e

import (
	"fmt"
	"strings"
)

// SampleValue builds a JSON value that a schema of the document accepts, as far
// as a simple walk can: required properties, first enum values, formats.
func SampleValue(doc, schema map[string]any, good func(string, map[string]any) string, depth int) any {
	schema = ResolveRef(doc, schema)
	if depth > 8 {
		return nil
	}
	if c, ok := schema["const"]; ok {
		return c
	}
	if e := AsArray(schema["enum"]); len(e) > 0 {
		return e[0]
	}
	for _, key := range []string{"allOf", "oneOf", "anyOf"} {
		if alts := AsArray(schema[key]); len(alts) > 0 {
			if key != "allOf" {
				return SampleValue(doc, AsObject(alts[0]), good, depth+1)
			}
			merged := map[string]any{}
			for _, a := range alts {
				for k, v := range ResolveRef(doc, AsObject(a)) {
					if k == "properties" {
						props, _ := merged[k].(map[string]any)
						if props == nil {
							props = map[string]any{}
						}
						for pk, pv := range AsObject(v) {
							props[pk] = pv
						}
						v = props
					} else if k == "required" {
						v = append(AsArray(merged[k]), AsArray(v)...)
					}
					merged[k] = v
				}
			}
			for k, v := range schema {
				if k != "allOf" {
					merged[k] = v
				}
			}
			return SampleValue(doc, merged, good, depth+1)
		}
	}
	typ := schema["type"]
	if types := AsArray(typ); len(types) > 0 {
		typ = types[0]
	}
	switch typ {
	case "object":
		out := map[string]any{}
		props := AsObject(schema["properties"])
		names := AsArray(schema["required"])
		if m, ok := schema["minProperties"].(float64); ok && m > 0 && len(names) == 0 {
			for name := range props {
				names = append(names, name)
				break
			}
		}
		for _, r := range names {
			name := r.(string)
			out[name] = SampleValue(doc, AsObject(props[name]), good, depth+1)
		}
		return out
	case "array":
		n := 1
		if m, ok := schema["minItems"].(float64); ok && m > 1 {
			n = int(m)
		}
		out := make([]any, n)
		for i := range out {
			out[i] = SampleValue(doc, AsObject(schema["items"]), good, depth+1)
		}
		return out
	case "integer", "number":
		if m, ok := schema["minimum"].(float64); ok {
			return m
		}
		return 1
	case "boolean":
		return true
	case "string":
		switch schema["format"] {
		case "email":
			return "probe@hostile.example"
		case "uri":
			return "https://hostile.example/hook"
		case "uuid", "date-time", "date":
			return good("", schema)
		}
		if v, ok := patterns[fmt.Sprint(schema["pattern"])]; ok {
			return v
		}
		if m, ok := schema["minLength"].(float64); ok && m > 1 {
			return strings.Repeat("a", int(m))
		}
		return "probe"
	}
	return nil
}

// patterns are values for the patterns of the document's strings.
var patterns = map[string]string{
	`^[A-Z]{2}$`: "GB", `^[0-9]{6}$`: "123456", `^\+[0-9]{1,15}$`: "+447700900123", `^[0-9]+$`: "12345",
	`^\S+\s+\S+(\s+\S+)*$`: "Probe Person", `^\S.*\S$|^\S$`: "probe",
}

// AsArray is v as a JSON array, or nil.
func AsArray(v any) []any {
	l, _ := v.([]any)
	return l
}

// AsObject is v as a JSON object, or nil.
func AsObject(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// ResolveRef follows a local $ref of the document.
func ResolveRef(doc, v map[string]any) map[string]any {
	for i := 0; i < 10; i++ {
		ref, ok := v["$ref"].(string)
		if !ok || !strings.HasPrefix(ref, "#/") {
			return v
		}
		var cur any = doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = AsObject(cur)[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]
		}
		v = AsObject(cur)
	}
	return v
}
