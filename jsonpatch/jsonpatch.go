// Package jsonpatch applies RFC 6902 JSON Patch documents to JSON values
// decoded with encoding/json (maps, slices, strings, numbers, booleans and
// nil). It is what the Core API's metadata PATCH needs: add, remove,
// replace, move, copy and test, with RFC 6901 pointers, and errors that say
// which operation failed and why.
package jsonpatch

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Operation is one operation of a patch.
type Operation struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	From  string          `json:"from,omitempty"`
	Value json.RawMessage `json:"value,omitempty"`
}

// Error is an operation that does not apply to the document.
type Error struct {
	Index  int
	Op     Operation
	Reason string
}

func (e *Error) Error() string { return e.Reason }

// Apply returns the document with every operation applied in order, or the
// first operation's *Error that does not apply; doc itself is not changed.
func Apply(doc any, ops []Operation) (any, error) {
	doc = clone(doc)
	for i, op := range ops {
		var err error
		if doc, err = apply(doc, op); err != nil {
			return nil, &Error{Index: i, Op: op, Reason: op.Op + " operation does not apply: " + err.Error()}
		}
	}
	return doc, nil
}

func apply(doc any, op Operation) (any, error) {
	value := func() (any, error) {
		if op.Value == nil {
			return nil, fmt.Errorf("no value for path: %s", op.Path)
		}
		var v any
		if err := json.Unmarshal(op.Value, &v); err != nil {
			return nil, fmt.Errorf("the value is not JSON: %s", op.Path)
		}
		return v, nil
	}
	switch op.Op {
	case "add":
		v, err := value()
		if err != nil {
			return nil, err
		}
		return add(doc, op.Path, v)
	case "remove":
		d, _, err := remove(doc, op.Path)
		return d, err
	case "replace":
		v, err := value()
		if err != nil {
			return nil, err
		}
		if _, err := get(doc, op.Path); err != nil {
			return nil, err
		}
		if d, _, err := remove(doc, op.Path); err != nil {
			return nil, err
		} else if op.Path == "" {
			return v, nil
		} else {
			return add(d, op.Path, v)
		}
	case "move":
		if strings.HasPrefix(op.Path, op.From+"/") {
			return nil, fmt.Errorf("cannot move a value into itself: %s", op.Path)
		}
		d, v, err := remove(doc, op.From)
		if err != nil {
			return nil, err
		}
		return add(d, op.Path, v)
	case "copy":
		v, err := get(doc, op.From)
		if err != nil {
			return nil, err
		}
		return add(doc, op.Path, clone(v))
	case "test":
		want, err := value()
		if err != nil {
			return nil, err
		}
		got, err := get(doc, op.Path)
		if err != nil {
			return nil, err
		}
		if !equal(got, want) {
			return nil, fmt.Errorf("the value at path %s differs", op.Path)
		}
		return doc, nil
	}
	return nil, fmt.Errorf("unknown operation %q", op.Op)
}

// tokens splits an RFC 6901 pointer.
func tokens(path string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	if path[0] != '/' {
		return nil, fmt.Errorf("invalid path: %s", path)
	}
	parts := strings.Split(path[1:], "/")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

func missing(path string) error { return fmt.Errorf("doc is missing path: %s: missing value", path) }

// index reads an array index token; end allows "-" and len(a).
func index(tok string, n int, end bool) (int, bool) {
	if end && tok == "-" {
		return n, true
	}
	if tok == "" || (len(tok) > 1 && tok[0] == '0') {
		return 0, false
	}
	i, err := strconv.Atoi(tok)
	if err != nil || i < 0 || i > n || (i == n && !end) {
		return 0, false
	}
	return i, true
}

func get(doc any, path string) (any, error) {
	toks, err := tokens(path)
	if err != nil {
		return nil, err
	}
	cur := doc
	for _, t := range toks {
		switch x := cur.(type) {
		case map[string]any:
			v, ok := x[t]
			if !ok {
				return nil, missing(path)
			}
			cur = v
		case []any:
			i, ok := index(t, len(x), false)
			if !ok {
				return nil, missing(path)
			}
			cur = x[i]
		default:
			return nil, missing(path)
		}
	}
	return cur, nil
}

// edit replaces the container that holds the pointer's last token with
// what change makes of it, rebuilding the path above it.
func edit(doc any, path string, change func(parent any, last string) (any, error)) (any, error) {
	toks, err := tokens(path)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return change(nil, "")
	}
	var walk func(cur any, toks []string) (any, error)
	walk = func(cur any, toks []string) (any, error) {
		if len(toks) == 1 {
			return change(cur, toks[0])
		}
		switch x := cur.(type) {
		case map[string]any:
			child, ok := x[toks[0]]
			if !ok {
				return nil, missing(path)
			}
			v, err := walk(child, toks[1:])
			if err != nil {
				return nil, err
			}
			x[toks[0]] = v
			return x, nil
		case []any:
			i, ok := index(toks[0], len(x), false)
			if !ok {
				return nil, missing(path)
			}
			v, err := walk(x[i], toks[1:])
			if err != nil {
				return nil, err
			}
			x[i] = v
			return x, nil
		}
		return nil, missing(path)
	}
	return walk(doc, toks)
}

func add(doc any, path string, v any) (any, error) {
	if path == "" {
		return v, nil
	}
	return edit(doc, path, func(parent any, last string) (any, error) {
		switch x := parent.(type) {
		case map[string]any:
			x[last] = v
			return x, nil
		case []any:
			i, ok := index(last, len(x), true)
			if !ok {
				return nil, missing(path)
			}
			out := append(x[:i:i], v)
			return append(out, x[i:]...), nil
		}
		return nil, missing(path)
	})
}

func remove(doc any, path string) (any, any, error) {
	if path == "" {
		return nil, doc, nil
	}
	var removed any
	d, err := edit(doc, path, func(parent any, last string) (any, error) {
		switch x := parent.(type) {
		case map[string]any:
			v, ok := x[last]
			if !ok {
				return nil, missing(path)
			}
			removed = v
			delete(x, last)
			return x, nil
		case []any:
			i, ok := index(last, len(x), false)
			if !ok {
				return nil, missing(path)
			}
			removed = x[i]
			return append(x[:i:i], x[i+1:]...), nil
		}
		return nil, missing(path)
	})
	return d, removed, err
}

// clone deep-copies a decoded JSON value.
func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, w := range x {
			out[k] = clone(w)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, w := range x {
			out[i] = clone(w)
		}
		return out
	}
	return v
}

// equal compares decoded JSON values, numbers by value.
func equal(a, b any) bool {
	ra, err1 := json.Marshal(a)
	rb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	var na, nb any
	_ = json.Unmarshal(ra, &na)
	_ = json.Unmarshal(rb, &nb)
	return reflect.DeepEqual(na, nb)
}
