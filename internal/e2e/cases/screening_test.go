package cases

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/screening/lists/snapshot"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestScreeningLists: outside the sandbox kycd is not ready until it has a
// screening list; an import through the CLI against the same database is
// picked up by the running server without a restart, shown by
// /admin/screening/lists and searched by /admin/screening/search; an
// identical import changes nothing; an operator's own JSON Lines list is a
// source of its own.
func TestScreeningLists(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db, "--metrics-token", "screening-metrics")
		ready := k.Do(t, k.Req("GET", "/readyz", nil), e2e.DoOpts{Unavailable: true})
		if ready.Status != 503 || ready.Get("checks.screening") != "no-lists" {
			t.Fatalf("readyz without lists: %d %s", ready.Status, ready.Body)
		}
		tn := k.NewTenant(t, "screening-"+db.Name, "admin.screening:read")
		tok := k.Token(t, tn, "")
		if res := k.Call(t, "GET", "/admin/screening/lists", tok, "", nil); res.Status != 200 || len(res.JSON["lists"].([]any)) != 0 {
			t.Fatalf("lists before any import: %d %s", res.Status, res.Body)
		}

		un := e2e.WriteSnapshotFile(t, "un", "consolidated.xml")
		out, err := k.CLI(t, "screening", "import", "--source", "un", "--path", un)
		if err != nil || !strings.Contains(out, "un: version 1 imported: 1003 entries") {
			t.Fatalf("import: %q %v", out, err)
		}
		e2e.WaitUntil(t, "readiness with a list", func() bool {
			res := k.Do(t, k.Req("GET", "/readyz", nil), e2e.DoOpts{Unavailable: true})
			return res.Status == 200 && res.Get("checks.screening") == "ok"
		})
		if out, err := k.CLI(t, "screening", "import", "--source", "un", "--path", un); err != nil || !strings.Contains(out, "nothing changed") {
			t.Fatalf("identical import: %q %v", out, err)
		}

		// An operator's own list in kycd's JSON Lines format.
		watch := filepath.Join(t.TempDir(), "house-watchlist.jsonl")
		if err := os.WriteFile(watch, []byte(`{"id":"W1","type":"person","names":[{"full":"Zebulon Quartermaine","kind":"primary"}],"birthDates":[{"year":1961}],"nationalities":["NZ"]}`+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		var imported struct {
			Changed bool
			Version struct {
				Source  string
				Version int
				Entries int
				Added   int
			}
		}
		k.CLIJSON(t, &imported, "screening", "import", "--source", "kycd-jsonl", "--path", watch)
		if !imported.Changed || imported.Version.Source != "house-watchlist" || imported.Version.Entries != 1 || imported.Version.Added != 1 {
			t.Fatalf("JSON Lines import: %+v", imported)
		}
		if _, err := k.CLI(t, "screening", "import", "--source", "un", "--path", filepath.Join(t.TempDir(), "missing.xml")); err == nil {
			t.Fatal("importing a missing file succeeded")
		}

		e2e.WaitUntil(t, "the operator's list in the index", func() bool {
			res := k.Call(t, "POST", "/admin/screening/search", tok, "", map[string]any{"name": "Quartermaine, Zebulon"})
			return res.Status == 200 && len(res.JSON["matches"].([]any)) > 0 && res.Get("matches.0.entryId") == "W1"
		})
		res := k.Call(t, "GET", "/admin/screening/lists", tok, "", nil)
		lists := res.JSON["lists"].([]any)
		if res.Status != 200 || len(lists) != 2 || res.Get("lists.0.source") != "house-watchlist" || res.Get("lists.1.source") != "un" ||
			res.Get("lists.1.entries") != 1003.0 || res.Get("lists.1.origin") != "consolidated.xml" {
			t.Fatalf("lists: %d %s", res.Status, res.Body)
		}

		// The loaded lists' age and size are metrics.
		metrics := k.Call(t, "GET", "/metrics", "screening-metrics", "", nil)
		for _, want := range []string{`kycd_screening_list_age_seconds{source="un"}`, `kycd_screening_list_entries{source="un"} 1003`,
			`kycd_screening_list_stale{source="house-watchlist"} 0`} {
			if !strings.Contains(string(metrics.Body), want) {
				t.Errorf("metrics lack %s", want)
			}
		}

		// A UN-listed person, by name and birth date, is found and explained.
		res = k.Call(t, "POST", "/admin/screening/search", tok, "", map[string]any{"name": "Eric Badege", "birthDate": "1971", "type": "person"})
		if res.Status != 200 || res.Get("matches.0.source") != "un" || res.Get("matches.0.review") != true || res.Get("matches.0.explanation.text") == "" {
			t.Fatalf("search: %d %s", res.Status, res.Body)
		}

		// Bad queries are refused in the problem format; the scope is needed.
		for _, c := range []struct {
			body        string
			documentToo bool // the document refuses it too
		}{
			{`{}`, true}, {`{"name": ""}`, true}, {`{"name": "x", "type": "vessel"}`, true}, {`{"name": "x", "limit": 1000}`, true},
			{`{"name": "` + strings.Repeat("a", 301) + `"}`, true}, {`{"name": "x", "extra": 1}`, true},
			{`{"name": "x", "birthDate": "1970-13-40"}`, false}, {`{"name": "x", "nationality": "XX"}`, false}, {`{"name": "   "}`, false},
		} {
			req := k.Req("POST", "/admin/screening/search", strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok)
			res := k.Do(t, req, e2e.DoOpts{InvalidRequest: c.documentToo})
			if res.Status != 400 || res.JSON["code"] != "request_invalid" {
				t.Errorf("search %s: %d %s", c.body, res.Status, res.Body)
			}
		}
		partner := k.NewTenant(t, "screening-partner-"+db.Name)
		if res := k.Call(t, "POST", "/admin/screening/search", k.Token(t, partner, ""), "", map[string]any{"name": "Eric Badege"}); res.Status != 403 {
			t.Fatalf("search without the scope: %d", res.Status)
		}
	})
}

// TestScreeningOffAndSandbox: an operator who turns screening off is told so
// by readiness, and searches answer 503; the sandbox screens out of the box
// against the bundled snapshot (here two of its lists, to keep the test
// fast; the default is all three).
func TestScreeningOffAndSandbox(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		off := e2e.Start(t, db, "--screening", "off")
		if res := off.Do(t, off.Req("GET", "/readyz", nil)); res.Status != 200 || res.Get("checks.screening") != "off" {
			t.Fatalf("readyz with screening off: %d %s", res.Status, res.Body)
		}
		tn := off.NewTenant(t, "screening-off-"+db.Name, "admin.screening:read")
		req := off.Req("POST", "/admin/screening/search", strings.NewReader(`{"name":"Kim Jong Un"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+off.Token(t, tn, ""))
		if res := off.Do(t, req, e2e.DoOpts{Unavailable: true}); res.Status != 503 || res.JSON["code"] != "service_unavailable" {
			t.Fatalf("search with screening off: %d %s", res.Status, res.Body)
		}
		off.Stop(t)

		sbx := e2e.Start(t, db, "--sandbox", "--sandbox-lists", "un,eu-fsf")
		e2e.WaitUntil(t, "the sandbox ready with its lists", func() bool {
			res := sbx.Do(t, sbx.Req("GET", "/readyz", nil), e2e.DoOpts{Unavailable: true})
			return res.Status == 200 && res.Get("checks.screening") == "ok"
		})
		tn = sbx.NewTenant(t, "screening-sbx-"+db.Name, "admin.screening:read")
		tok := sbx.Token(t, tn, "")
		res := sbx.Call(t, "GET", "/admin/screening/lists", tok, "", nil)
		if res.Status != 200 || len(res.JSON["lists"].([]any)) != 2 {
			t.Fatalf("sandbox lists: %d %s", res.Status, res.Body)
		}
		res = sbx.Call(t, "POST", "/admin/screening/search", tok, "", map[string]any{"name": "BADEGE, Eric"})
		if res.Status != 200 || res.Get("matches.0.source") != "un" || res.Get("matches.0.review") != true {
			t.Fatalf("sandbox search: %d %s", res.Status, res.Body)
		}
	})
}

// TestScreeningDownloads: configured lists are downloaded at start (and
// daily) through the SSRF guard and imported; a truncated download changes
// nothing, the current version stays.
func TestScreeningDownloads(t *testing.T) {
	t.Parallel()
	fsys, err := snapshot.FS("un")
	if err != nil {
		t.Fatal(err)
	}
	unGz, err := fs.ReadFile(fsys, "consolidated.xml.gz")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(unGz))
	if err != nil {
		t.Fatal(err)
	}
	un, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	const watchLine = `{"id":"W1","type":"person","names":[{"full":"Zebulon Quartermaine","kind":"primary"}]}` + "\n"
	files := map[string]string{
		"/lists/un.xml":      string(un),
		"/lists/watch.jsonl": watchLine + `{"id":"W2","type":"person","names":[{"full":"Cut Short`, // truncated
		"/ofac/sdn.csv":      `36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ` + "\r\n" + `306,"BANCO NACIONAL DE CUBA",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"a.k.a. 'BNC'."` + "\r\n",
		"/ofac/alt.csv":      `306,219,"aka","NATIONAL BANK OF CUBA",-0- ` + "\r\n",
		"/ofac/add.csv":      `36,25,-0- ,"Havana","Cuba",-0- ` + "\r\n",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db, "--workers", "0") // only to import the first version of watch through the CLI
		watch := filepath.Join(t.TempDir(), "watch.jsonl")
		if err := os.WriteFile(watch, []byte(watchLine), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := k.CLI(t, "screening", "import", "--source", "kycd-jsonl", "--path", watch); err != nil {
			t.Fatalf("import: %q %v", out, err)
		}
		k.Stop(t)

		k = e2e.Start(t, db, "--allow-network", "127.0.0.1/32", "--screening-source", "un="+srv.URL+"/lists/un.xml",
			"--screening-source", "watch="+srv.URL+"/lists/watch.jsonl", "--screening-source", "ofac-sdn="+srv.URL+"/ofac/")
		tn := k.NewTenant(t, "downloads-"+db.Name, "admin.screening:read")
		tok := k.Token(t, tn, "")
		versions := func() map[string]any {
			res := k.Call(t, "GET", "/admin/screening/lists", tok, "", nil)
			out := map[string]any{}
			for _, l := range res.JSON["lists"].([]any) {
				m := l.(map[string]any)
				out[m["source"].(string)] = fmt.Sprintf("v%v %v entries from %v", m["version"], m["entries"], m["origin"])
			}
			return out
		}
		e2e.WaitUntil(t, "the downloaded lists", func() bool { return len(versions()) == 3 })
		got := versions()
		want := map[string]any{"un": "v1 1003 entries from " + srv.URL + "/lists/un.xml", "ofac-sdn": "v1 2 entries from " + srv.URL + "/ofac/",
			"watch": "v1 1 entries from watch.jsonl"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("lists:\n got %v\nwant %v", got, want)
		}
		e2e.WaitUntil(t, "the truncated download's failure in the log", func() bool {
			return strings.Contains(k.Stderr.String(), "screening list download failed") && strings.Contains(k.Stderr.String(), `"source":"watch"`)
		})
		if strings.Contains(k.Stderr.String(), "Cut Short") {
			t.Error("the log quotes a listing's name")
		}
		if fmt.Sprint(versions()) != fmt.Sprint(want) {
			t.Fatalf("after a truncated download: %v", versions())
		}
	})
}
