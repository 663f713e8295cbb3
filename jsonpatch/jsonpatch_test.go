package jsonpatch

import (
	"encoding/json"
	"errors"
	"testing"
)

func decode(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func ops(t testing.TB, s string) []Operation {
	t.Helper()
	var o []Operation
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestApply(t *testing.T) {
	for _, tc := range []struct{ doc, patch, want string }{
		{`{"externalId": 123}`, `[{"op": "add", "path": "/status", "value": "active"}]`, `{"externalId": 123, "status": "active"}`},
		{`{"tier": "silver"}`, `[{"op": "replace", "path": "/tier", "value": "gold"}]`, `{"tier": "gold"}`},
		{`{"region": "eu", "a": 1}`, `[{"op": "remove", "path": "/region"}]`, `{"a": 1}`},
		{`{"a": [1, 2]}`, `[{"op": "add", "path": "/a/1", "value": 9}, {"op": "add", "path": "/a/-", "value": 3}]`, `{"a": [1, 9, 2, 3]}`},
		{`{"a": {"b": 1}}`, `[{"op": "move", "from": "/a/b", "path": "/c"}, {"op": "copy", "from": "/c", "path": "/d"}]`, `{"a": {}, "c": 1, "d": 1}`},
		{`{"a~b": 1, "c/d": 2}`, `[{"op": "remove", "path": "/a~0b"}, {"op": "test", "path": "/c~1d", "value": 2.0}]`, `{"c/d": 2}`},
		{`{"a": [1, 2, 3]}`, `[{"op": "remove", "path": "/a/0"}]`, `{"a": [2, 3]}`},
	} {
		doc := decode(t, tc.doc)
		got, err := Apply(doc, ops(t, tc.patch))
		if err != nil {
			t.Errorf("%s + %s: %v", tc.doc, tc.patch, err)
			continue
		}
		if !equal(got, decode(t, tc.want)) {
			t.Errorf("%s + %s = %v, want %s", tc.doc, tc.patch, got, tc.want)
		}
		if !equal(doc, decode(t, tc.doc)) {
			t.Errorf("the document itself changed: %v", doc)
		}
	}
}

func TestApplyRefuses(t *testing.T) {
	for _, tc := range []struct{ doc, patch, reason string }{
		{`{"items": [1]}`, `[{"op": "replace", "path": "/items/10", "value": 1}]`, "replace operation does not apply: doc is missing path: /items/10: missing value"},
		{`{"a": 1}`, `[{"op": "remove", "path": "/region"}]`, "remove operation does not apply: doc is missing path: /region: missing value"},
		{`{"a": 1}`, `[{"op": "test", "path": "/a", "value": 2}]`, "test operation does not apply: the value at path /a differs"},
		{`{"a": 1}`, `[{"op": "add", "path": "a", "value": 2}]`, "add operation does not apply: invalid path: a"},
		{`{"a": {"b": 1}}`, `[{"op": "move", "from": "/a", "path": "/a/b/c"}]`, "move operation does not apply: cannot move a value into itself: /a/b/c"},
		{`{"a": [1]}`, `[{"op": "add", "path": "/a/01", "value": 2}]`, "add operation does not apply: doc is missing path: /a/01: missing value"},
		{`{"a": 1}`, `[{"op": "add", "path": "/b"}]`, "add operation does not apply: no value for path: /b"},
	} {
		_, err := Apply(decode(t, tc.doc), ops(t, tc.patch))
		var pe *Error
		if !errors.As(err, &pe) || pe.Reason != tc.reason || pe.Index != 0 {
			t.Errorf("%s + %s: %v, want %q", tc.doc, tc.patch, err, tc.reason)
		}
	}
}

// FuzzApply: no patch panics, and a patch that applies leaves the
// original untouched.
func FuzzApply(f *testing.F) {
	f.Add(`{"a": [1, {"b": 2}]}`, `[{"op": "add", "path": "/a/1/c", "value": 3}, {"op": "move", "from": "/a/0", "path": "/z"}]`)
	f.Add(`{"x": 1}`, `[{"op": "copy", "from": "", "path": "/y"}, {"op": "remove", "path": ""}]`)
	f.Fuzz(func(t *testing.T, doc, patch string) {
		var d any
		var o []Operation
		if json.Unmarshal([]byte(doc), &d) != nil || json.Unmarshal([]byte(patch), &o) != nil {
			return
		}
		before, _ := json.Marshal(d)
		_, _ = Apply(d, o)
		after, _ := json.Marshal(d)
		if string(before) != string(after) {
			t.Fatalf("Apply changed its input: %s -> %s", before, after)
		}
	})
}
