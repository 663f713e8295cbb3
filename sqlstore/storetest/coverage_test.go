package storetest

import (
	"database/sql"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kycd/kycd/sqlstore"
)

// notContract are the exported methods of the store that are no part of its
// contract, and so need no conformance case. Keep it short: a method belongs
// here only when no behaviour of the store hangs on it.
var notContract = map[string]string{
	// Wiring: the worker client is built over it, and every case that
	// enqueues a job depends on it (Open builds the store's own client).
	"DB.RiverDriver": "wiring",
}

// TestEveryMethodHasACase fails for each exported method of *sqlstore.DB,
// and of the *sqlstore.Tx its Update hands a change, that no conformance
// case calls: the suite's sources are parsed, the cases named in Run's table
// are followed into the package's functions they use, and every method
// selected on the store there (f.DB.Method, or a store a case opens itself
// with sqlstore.Open) or on a transaction (a parameter of type
// *sqlstore.Tx) counts. The methods a *sql.Tx gives Tx (it embeds one) are
// database/sql's, not the store's: they are left out.
//
// Why parse rather than record calls at run time: the cases call the
// concrete *sqlstore.DB, which nothing can intercept without a wrapper the
// cases would have to use instead of the store itself; the scan reads the
// cases as they are, and fails loudly (TestCoverageScanFindsCalls, and no
// call found at all) if the suite's shape changes under it.
func TestEveryMethodHasACase(t *testing.T) {
	exercised := exercisedMethods(t)
	methods := map[string]bool{}
	embedded := map[string]bool{}
	for i := range reflect.TypeFor[*sql.Tx]().NumMethod() {
		embedded[reflect.TypeFor[*sql.Tx]().Method(i).Name] = true
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[*sqlstore.DB](), reflect.TypeFor[*sqlstore.Tx]()} {
		name := typ.Elem().Name()
		for i := range typ.NumMethod() {
			m := name + "." + typ.Method(i).Name
			if name == "Tx" && embedded[typ.Method(i).Name] {
				continue
			}
			methods[m] = true
			if _, ok := notContract[m]; ok {
				continue
			}
			if !exercised[m] {
				t.Errorf("(*sqlstore.%s).%s has no conformance case in storetest", name, typ.Method(i).Name)
			}
		}
	}
	for m := range notContract {
		if !methods[m] {
			t.Errorf("notContract names %s, which the store does not have", m)
		}
	}
}

// TestCoverageScanFindsCalls guards the scan itself: a case with no call is
// not counted, and one calling f.DB.X or an opened store's X is.
func TestCoverageScanFindsCalls(t *testing.T) {
	const src = `package storetest
func Run(t *testing.T) {
	for _, c := range []struct{ name string; fn func() }{{"A", caseA}, {"B", caseB}} { _ = c }
}
func caseA(t *testing.T, f *Fixture) { helper(f); f.DB.Alpha(ctx) }
func caseB(t *testing.T, f *Fixture) { db, _ := sqlstore.Open(ctx, cfg); db.Beta(ctx); x.Gamma(); f.DB.Update(ctx, func(tx *sqlstore.Tx) error { return tx.Zeta() }) }
func helper(f *Fixture) { _ = f.DB.Delta }
func withTx(tx *sqlstore.Tx) { tx.Eta() }
func notTx(tx *sql.Tx) { tx.Theta() }
func unused(f *Fixture) { f.DB.Epsilon(ctx) }
`
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "x.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	got := scanFiles([]*ast.File{file})
	for _, m := range []string{"DB.Alpha", "DB.Beta", "DB.Delta", "DB.Update", "Tx.Zeta"} {
		if !got[m] {
			t.Errorf("%s not found", m)
		}
	}
	for _, m := range []string{"DB.Gamma", "DB.Epsilon", "Tx.Eta", "Tx.Theta", "DB.Theta"} {
		if got[m] {
			t.Errorf("%s counted", m)
		}
	}
}

// exercisedMethods parses the suite's own sources (not its tests).
func exercisedMethods(t *testing.T) map[string]bool {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	got := scanFiles(files)
	if len(got) == 0 {
		t.Fatal("the scan found no call on the store: it is broken")
	}
	return got
}

// scanFiles returns the methods ("DB.Name", "Tx.Name") selected on the
// store or on a transaction in the functions the cases of Run's table reach.
func scanFiles(files []*ast.File) map[string]bool {
	funcs := map[string]*ast.FuncDecl{}
	for _, f := range files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
				funcs[fd.Name.Name] = fd
			}
		}
	}
	run := funcs["Run"]
	if run == nil {
		return nil
	}
	// The cases: the functions Run's table names (composite literals).
	var todo []string
	ast.Inspect(run.Body, func(n ast.Node) bool {
		if cl, ok := n.(*ast.CompositeLit); ok {
			for _, e := range cl.Elts {
				if id, ok := e.(*ast.Ident); ok && funcs[id.Name] != nil {
					todo = append(todo, id.Name)
				}
			}
		}
		return true
	})
	reached := map[string]bool{}
	out := map[string]bool{}
	for len(todo) > 0 {
		name := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if reached[name] {
			continue
		}
		reached[name] = true
		fd := funcs[name]
		opened := map[string]bool{} // identifiers holding a store this function opened
		txs := map[string]bool{}    // identifiers holding a *sqlstore.Tx
		ast.Inspect(fd, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Field:
				if isTx(n.Type) {
					for _, id := range n.Names {
						txs[id.Name] = true
					}
				}
			case *ast.AssignStmt:
				if len(n.Rhs) == 1 && len(n.Lhs) > 0 && isCall(n.Rhs[0], "sqlstore", "Open") {
					if id, ok := n.Lhs[0].(*ast.Ident); ok {
						opened[id.Name] = true
					}
				}
			case *ast.Ident:
				if funcs[n.Name] != nil && n.Name != name {
					todo = append(todo, n.Name)
				}
			case *ast.SelectorExpr:
				switch x := n.X.(type) {
				case *ast.SelectorExpr:
					if x.Sel.Name == "DB" {
						out["DB."+n.Sel.Name] = true
					}
				case *ast.Ident:
					if opened[x.Name] {
						out["DB."+n.Sel.Name] = true
					}
					if txs[x.Name] {
						out["Tx."+n.Sel.Name] = true
					}
				}
			}
			return true
		})
	}
	return out
}

// isTx reports whether e is the type *sqlstore.Tx.
func isTx(e ast.Expr) bool {
	star, ok := e.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == "sqlstore" && sel.Sel.Name == "Tx"
}

// isCall reports whether e calls pkg.name.
func isCall(e ast.Expr, pkg, name string) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg && sel.Sel.Name == name
}
