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
