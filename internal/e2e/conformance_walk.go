package e2e

import (
	"fmt"
)

// ParamValue is what a generated client sends for a parameter: its first
// example, or the first value its schema allows.
func (o *UpholdOp) ParamValue(name string) string {
	for _, ptr := range o.params() {
		p, ptr := o.doc.Resolve(ptr)
		if p["name"] != name {
			continue
		}
		for _, n := range mapsKeys(o.doc.examples(p)) {
			return fmt.Sprint(o.doc.examples(p)[n])
		}
		s, _ := o.doc.Resolve(ptr + "/schema")
		if enum, ok := s["enum"].([]any); ok {
			return fmt.Sprint(enum[0])
		}
	}
	panic(o.Key() + ": no value for parameter " + name)
}

// ParamEnum lists the values a parameter's schema allows.
func (o *UpholdOp) ParamEnum(name string) []string {
	for _, ptr := range o.params() {
		p, ptr := o.doc.Resolve(ptr)
		if p["name"] != name {
			continue
		}
		s, _ := o.doc.Resolve(ptr + "/schema")
		var out []string
		enum, _ := s["enum"].([]any)
		for _, v := range enum {
			out = append(out, fmt.Sprint(v))
		}
		return out
	}
	return nil
}

// UploadedWith uploads a PNG for a user of the tenant of tok.
func (e *ConnectorEnv) UploadedWith(tok, user string) string {
	e.T.Helper()
	id, url := CreateFile(e.T, e.Proc, tok, user, "image", "image/png")
	if res := Upload(e.T, e.Proc, url, PNGBytes("evidence")); res.Status >= 300 {
		e.T.Fatalf("upload: %d %s", res.Status, res.Body)
	}
	return id
}
