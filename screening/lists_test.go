package screening

import (
	"sync"
	"testing"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/screening/lists/snapshot"
)

var (
	realOnce    sync.Once
	realEntries []kycd.ListEntry
	realErr     error
)

// realLists loads the bundled OFAC, UN and EU lists once for the tests (the
// shared data set's files, embedded by screening/lists/snapshot).
func realLists(t testing.TB) []kycd.ListEntry {
	t.Helper()
	realOnce.Do(func() {
		for _, src := range snapshot.Sources {
			es, err := snapshot.Load(src)
			if err != nil {
				realErr = err
				return
			}
			realEntries = append(realEntries, es...)
		}
	})
	if realErr != nil {
		t.Fatalf("loading the bundled lists: %v", realErr)
	}
	return realEntries
}
