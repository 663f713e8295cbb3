package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/mock"
	"github.com/kycd/kycd/sqlstore/storetest"
)

func TestConformance(t *testing.T) { storetest.Run(t) }

// FuzzStoreText: whatever text reaches the store (ids, cursors, names), a
// read or a write ends found, not found, or request_invalid for text no
// database can store: never an internal error, on every database.
func FuzzStoreText(f *testing.F) {
	for _, s := range append(storetest.UnstorableText, "", "0f8fad5b-d9cb-469f-a165-70867728950e", "%00", `\u0000`) {
		f.Add(s)
	}
	clock := mock.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	var fixtures []*storetest.Fixture
	var tenants []string
	for _, d := range storetest.Databases(f) {
		fx := storetest.Open(f, d, clock)
		tn := &kycd.Tenant{Name: "fuzz-" + d.Name}
		if err := fx.DB.CreateTenant(context.Background(), tn); err != nil {
			f.Fatal(err)
		}
		fixtures, tenants = append(fixtures, fx), append(tenants, tn.ID)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i, fx := range fixtures {
			storetest.CheckText(t, fx, tenants[i], s)
		}
	})
}
