package sqlstore

import (
	"reflect"
	"testing"

	"github.com/kycd/kycd"
)

// TestProcessAlone: the one-statement save takes a change of one stored
// process and its audit entry, nothing more. Every other field of
// kycd.ProcessChange, set, sends the change through a transaction: a field
// added to ProcessChange and not looked at by processAlone fails here.
func TestProcessAlone(t *testing.T) {
	alone := func() *kycd.ProcessChange {
		return &kycd.ProcessChange{TenantID: "t", UserID: "u", Processes: []*kycd.Process{{Version: 3}},
			Action: "kyc.process.updated", Details: map[string]any{"process": "x"}}
	}
	if !processAlone(alone()) {
		t.Fatal("a change of one stored process is not alone")
	}
	carried := map[string]bool{"TenantID": true, "UserID": true, "Processes": true, "Action": true, "Details": true}
	typ := reflect.TypeFor[kycd.ProcessChange]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if carried[f.Name] {
			continue
		}
		c := alone()
		v := reflect.ValueOf(c).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			v.SetString("x")
		case reflect.Pointer:
			v.Set(reflect.New(f.Type.Elem()))
		case reflect.Slice:
			v.Set(reflect.MakeSlice(f.Type, 1, 1))
		default:
			t.Fatalf("ProcessChange.%s: set it here and look at it in processAlone", f.Name)
		}
		if processAlone(c) {
			t.Errorf("a change with %s is taken for one process alone", f.Name)
		}
	}
	c := alone()
	c.Processes[0].Version = 0
	if processAlone(c) {
		t.Error("a new process (an insert) is taken for an update")
	}
	c = alone()
	c.Processes = append(c.Processes, &kycd.Process{Version: 1})
	if processAlone(c) {
		t.Error("two processes are taken for one")
	}
}

// TestErasedTables: every table with a column naming a user is emptied of a
// user's rows when the user is erased; a new table fails here until
// erasedTables names it.
func TestErasedTables(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	found, err := scanStrings(db.write.QueryContext(ctx, `SELECT m.name || '.' || c.name FROM sqlite_master m JOIN pragma_table_info(m.name) c
		WHERE m.type = 'table' AND c.name LIKE '%user_id%' ORDER BY 1`))
	if err != nil {
		t.Fatal(err)
	}
	for _, col := range found {
		listed := false
		for _, e := range erasedTables {
			listed = listed || e.table+"."+e.userColumn == col
		}
		if !listed {
			t.Errorf("%s names a user but EraseUser does not empty it (erasedTables)", col)
		}
	}
	if len(found) < len(erasedTables) {
		t.Errorf("found %d user columns, erasedTables names %d: %v", len(found), len(erasedTables), found)
	}
}
