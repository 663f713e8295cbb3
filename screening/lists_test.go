package screening

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/screening/lists"
)

// sanctionsData is the folder of the shared lists (README.md of
// ../shared/data/sanctions); KYCD_SANCTIONS_DATA overrides it.
func sanctionsData() string {
	if d := os.Getenv("KYCD_SANCTIONS_DATA"); d != "" {
		return d
	}
	return "/work/shared/data/sanctions"
}

var (
	realOnce    sync.Once
	realEntries []kycd.ListEntry
	realErr     error
)

// realLists loads the OFAC, UN and EU lists once for the tests.
func realLists(t testing.TB) []kycd.ListEntry {
	t.Helper()
	realOnce.Do(func() {
		d := sanctionsData()
		for _, src := range []struct{ format, path string }{
			{kycd.SourceOFACSDN, filepath.Join(d, "ofac-sdn")},
			{kycd.SourceUN, filepath.Join(d, "un", "consolidated.xml")},
			{kycd.SourceEUFSF, filepath.Join(d, "eu", "fsf-sample.xml")},
		} {
			es, err := lists.Load(src.format, src.path)
			if err != nil {
				realErr = err
				return
			}
			realEntries = append(realEntries, es...)
		}
	})
	if realErr != nil {
		t.Fatalf("loading the shared lists: %v", realErr)
	}
	return realEntries
}
