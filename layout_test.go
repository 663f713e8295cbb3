package kycd

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// allowedImports are the only imports outside the standard library the
// root package may have (docs/design.md, Layout): the domain imports no
// adapter.
var allowedImports = map[string]bool{"github.com/google/uuid": true}

// TestRootImports fails for each import of the root package's sources that
// is neither the standard library's nor allowed.
func TestRootImports(t *testing.T) {
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := 0
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			seen++
			path, _ := strconv.Unquote(imp.Path.Value)
			// The standard library's paths have no dot in their first element.
			if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") && !allowedImports[path] {
				t.Errorf("%s imports %s: the root package imports the standard library and %v only", name, path, allowedImports)
			}
		}
	}
	if seen == 0 {
		t.Fatal("no import found: the scan is broken")
	}
}
