package lists_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/screening/lists"
	"github.com/kycd/kycd/screening/lists/snapshot"
)

// snapshotFiles holds the bundled files, decompressed, by source and name.
var snapshotFiles = sync.OnceValue(func() map[string]map[string][]byte {
	all := map[string]map[string][]byte{}
	for _, source := range snapshot.Sources {
		fsys, err := snapshot.FS(source)
		if err != nil {
			panic(err)
		}
		all[source] = map[string][]byte{}
		err = fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			f, err := fsys.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			zr, err := gzip.NewReader(f)
			if err != nil {
				return err
			}
			b, err := io.ReadAll(zr)
			if err != nil {
				return err
			}
			all[source][path[:len(path)-len(".gz")]] = b
			return nil
		})
		if err != nil {
			panic(err)
		}
	}
	return all
})

// ofacFS is the bundled OFAC set, decompressed, with files replaced or
// removed (nil) as given.
func ofacFS(replace map[string][]byte) fstest.MapFS {
	m := fstest.MapFS{}
	for name, b := range snapshotFiles()[kycd.SourceOFACSDN] {
		m[name] = &fstest.MapFile{Data: b}
	}
	for name, b := range replace {
		if b == nil {
			delete(m, name)
			continue
		}
		m[name] = &fstest.MapFile{Data: b}
	}
	return m
}

func unXML() []byte { return snapshotFiles()[kycd.SourceUN]["consolidated.xml"] }
func euXML() []byte { return snapshotFiles()[kycd.SourceEUFSF]["fsf-sample.xml"] }

func byID(t *testing.T, entries []kycd.ListEntry) map[string]kycd.ListEntry {
	t.Helper()
	m := map[string]kycd.ListEntry{}
	for _, e := range entries {
		if _, dup := m[e.ID]; dup {
			t.Fatalf("duplicate id %s", e.ID)
		}
		m[e.ID] = e
	}
	return m
}

// TestSnapshotCounts: every bundled list parses with the counts its
// publisher's README gives, and every entry is valid.
func TestSnapshotCounts(t *testing.T) {
	t.Parallel()
	all, err := snapshot.Entries()
	if err != nil {
		t.Fatal(err)
	}
	type counts struct{ entries, aliases, weak, persons, orgs, vessels, aircraft int }
	got := map[string]counts{}
	for source, entries := range all {
		var c counts
		for _, e := range entries {
			if e.Source != source {
				t.Errorf("%s %s: source %q", source, e.ID, e.Source)
			}
			if err := lists.Validate(e); err != nil {
				t.Errorf("%s %s: %v", source, e.ID, err)
			}
			c.entries++
			switch e.Type {
			case kycd.EntryPerson:
				c.persons++
			case kycd.EntryOrganization:
				c.orgs++
			case kycd.EntryVessel:
				c.vessels++
			case kycd.EntryAircraft:
				c.aircraft++
			}
			for _, n := range e.Names[1:] {
				if n.Weak {
					c.weak++
				} else {
					c.aliases++
				}
			}
		}
		got[source] = c
	}
	// OFAC: 8,976 entries and 11,910 aliases (alt.csv, strong), 2,441 weak
	// a.k.a.s from the remarks.
	if c := got[kycd.SourceOFACSDN]; c != (counts{8976, 11910, 2441, 4620, 3673, 406, 277}) {
		t.Errorf("ofac-sdn: %+v", c)
	}
	// UN: 730 individuals, 273 entities; 615 aliases of quality Low.
	if c := got[kycd.SourceUN]; c.entries != 1003 || c.persons != 730 || c.orgs != 273 || c.weak != 615 {
		t.Errorf("un: %+v", c)
	}
	if c := got[kycd.SourceEUFSF]; c.entries != 5 || c.persons != 4 || c.orgs != 1 {
		t.Errorf("eu-fsf: %+v", c)
	}
}

func TestOFACSpotChecks(t *testing.T) {
	t.Parallel()
	entries, err := lists.ParseOFAC(ofacFS(nil))
	if err != nil {
		t.Fatal(err)
	}
	m := byID(t, entries)
	want := map[string]kycd.ListEntry{
		// An organization: an alt.csv alias, a weak a.k.a. of the remarks,
		// countries of add.csv.
		"306": {Source: "ofac-sdn", ID: "306", Type: "organization",
			Names: []kycd.ListName{
				{Full: "BANCO NACIONAL DE CUBA", Kind: "primary"},
				{Full: "NATIONAL BANK OF CUBA", Kind: "aka"},
				{Full: "BNC", Kind: "aka", Weak: true},
			},
			Countries: []string{"CH", "ES", "JP", "PA"}, Programmes: []string{"CUBA"}, Remarks: "a.k.a. 'BNC'."},
		// A circa range written "1979-1982" and a year.
		"11748": {Source: "ofac-sdn", ID: "11748", Type: "person",
			Names: []kycd.ListName{
				{Full: "MAHAMOUD, Bashir Mohamed", Kind: "primary", Given: "Bashir Mohamed", Family: "MAHAMOUD"},
				{Full: "MAHMOUD, Bashir Mohamed", Kind: "aka", Given: "Bashir Mohamed", Family: "MAHMOUD"},
				{Full: "MOHAMMED, Bashir Mahmud", Kind: "aka", Given: "Bashir Mahmud", Family: "MOHAMMED"},
				{Full: "MOHAMUD, Bashir Mohamed", Kind: "aka", Given: "Bashir Mohamed", Family: "MOHAMUD"},
				{Full: "MOHAMOUD, Bashir Mohamed", Kind: "aka", Given: "Bashir Mohamed", Family: "MOHAMOUD"},
				{Full: "YARE, Bashir", Kind: "aka", Given: "Bashir", Family: "YARE"},
				{Full: "QORGAB, Bashir", Kind: "aka", Given: "Bashir", Family: "QORGAB"},
				{Full: "GAP, Gure", Kind: "aka", Given: "Gure", Family: "GAP"},
				{Full: "MUSCAB, Abu", Kind: "aka", Weak: true, Given: "Abu", Family: "MUSCAB"},
				{Full: "QORGAB", Kind: "aka", Weak: true},
			},
			BirthDates:    []kycd.ListDate{{Year: 1979, ToYear: 1982, Circa: true}, {Year: 1982}},
			Nationalities: []string{"SO"}, Countries: []string{"SO"}, Programmes: []string{"SOMALIA"},
			Remarks: "nationality Somalia; DOB circa 1979-1982; alt. DOB 1982; a.k.a. 'MUSCAB, Abu'; a.k.a. 'QORGAB'."},
		// A vessel: its call sign, its flag.
		"4234": {Source: "ofac-sdn", ID: "4234", Type: "vessel",
			Names:         []kycd.ListName{{Full: "HERMANN", Kind: "primary"}},
			Identifiers:   []kycd.ListIdentifier{{Type: "call-sign", Number: "CL2685"}},
			Nationalities: []string{"CU"}, Programmes: []string{"CUBA"}},
	}
	for id, w := range want {
		if got := m[id]; !reflect.DeepEqual(got, w) {
			t.Errorf("ent_num %s:\n got %+v\nwant %+v", id, got, w)
		}
	}

	// Ranges, a month and year, places of birth, several programmes.
	e := m["12057"]
	if w := []kycd.ListDate{{Year: 1951, ToYear: 1953}, {Year: 1960, ToYear: 1962}, {Year: 1961, Month: 4}, {Year: 1953}}; !reflect.DeepEqual(e.BirthDates, w) {
		t.Errorf("12057 birth dates %+v", e.BirthDates)
	}
	if w := []string{"Najaf, Iraq", "Tehran, Iran"}; !reflect.DeepEqual(e.BirthPlaces, w) {
		t.Errorf("12057 birth places %q", e.BirthPlaces)
	}
	if w := []string{"SDGT", "NPWMD", "IRGC", "IFSR", "IRAN-HR", "IRAN-EO13876"}; !reflect.DeepEqual(e.Programmes, w) {
		t.Errorf("12057 programmes %q", e.Programmes)
	}
	// Exact dates, identifiers of several kinds with their countries.
	e = m["12300"]
	if w := []kycd.ListDate{{Year: 1965, Month: 5, Day: 13}, {Year: 1968, Month: 4, Day: 13}, {Year: 1964, Month: 7, Day: 7}}; !reflect.DeepEqual(e.BirthDates, w) {
		t.Errorf("12300 birth dates %+v", e.BirthDates)
	}
	for _, w := range []kycd.ListIdentifier{
		{Type: "national-id", Number: "7548733", Country: "CO"},
		{Type: "national-id", Number: "172489729-1", Country: "EC"},
		{Type: "passport", Number: "AL720622", Country: "CO"},
		{Type: "tax-id", Number: "CIVJ650513LJA", Country: "MX"},
		{Type: "national-id", Number: "CIVJ650513HNEFLR06", Country: "MX"},
	} {
		if !contains(e.Identifiers, w) {
			t.Errorf("12300 lacks %+v: %+v", w, e.Identifiers)
		}
	}
	// Remarks continued in sdn_comments.csv: the weak a.k.a. cut in two
	// ('snowsjo' + 'hn') and the identifiers after the cut.
	e = m["28263"]
	if n := e.Names[len(e.Names)-1]; n != (kycd.ListName{Full: "snowsjohn", Kind: "aka", Weak: true}) {
		t.Errorf("28263 last name %+v", n)
	}
	if !contains(e.Identifiers, kycd.ListIdentifier{Type: "national-id", Number: "321284198607120616", Country: "CN"}) {
		t.Errorf("28263 identifiers %+v", e.Identifiers)
	}
	if w := []string{"DPRK3", "CYBER2"}; !reflect.DeepEqual(e.Programmes, w) {
		t.Errorf("28263 programmes %q", e.Programmes)
	}
	if !contains(m["29703"].Identifiers, kycd.ListIdentifier{Type: "passport", Number: "4005504207", Country: "RU"}) {
		t.Errorf("29703 identifiers %+v", m["29703"].Identifiers)
	}
	if e := m["15431"]; e.Type != kycd.EntryAircraft || !contains(e.Identifiers, kycd.ListIdentifier{Type: "aircraft-serial", Number: "1023409321"}) {
		t.Errorf("15431 %+v", e)
	}
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func TestUNSpotChecks(t *testing.T) {
	t.Parallel()
	entries, err := lists.ParseUN(bytes.NewReader(unXML()))
	if err != nil {
		t.Fatal(err)
	}
	m := byID(t, entries)
	want := map[string]kycd.ListEntry{
		// The name in its original script, a weak alias, an exact date.
		"IQi.001": {Source: "un", ID: "IQi.001", Type: "person",
			Names: []kycd.ListName{
				{Full: "SADDAM HUSSEIN AL-TIKRITI", Kind: "primary", Given: "SADDAM", Family: "HUSSEIN AL-TIKRITI"},
				{Full: "صدام حسين التكريتي", Kind: "aka", Script: "Arab"},
				{Full: "Abu Ali", Kind: "aka", Weak: true},
			},
			BirthDates: []kycd.ListDate{{Year: 1937, Month: 4, Day: 28}}, BirthPlaces: []string{"al-Awja, near Tikrit, Iraq"},
			Nationalities: []string{"IQ"}, Programmes: []string{"Iraq"}, ListedOn: "2003-06-27"},
	}
	for id, w := range want {
		if got := m[id]; !reflect.DeepEqual(got, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", id, got, w)
		}
	}
	// BETWEEN: a range of years.
	if e := m["CDi.030"]; !reflect.DeepEqual(e.BirthDates, []kycd.ListDate{{Year: 1973, ToYear: 1974}}) || !reflect.DeepEqual(e.Nationalities, []string{"CD"}) {
		t.Errorf("CDi.030 %+v %q", e.BirthDates, e.Nationalities)
	}
	// APPROXIMATELY: circa; documents.
	e := m["LYi.019"]
	if !reflect.DeepEqual(e.BirthDates, []kycd.ListDate{{Year: 1952, Circa: true}}) {
		t.Errorf("LYi.019 birth dates %+v", e.BirthDates)
	}
	if !contains(e.Identifiers, kycd.ListIdentifier{Type: "national-id", Number: "98606491", Country: "OM"}) {
		t.Errorf("LYi.019 identifiers %+v", e.Identifiers)
	}
	// Cyrillic; a year stated with an alias; a passport with its country.
	e = m["QDi.290"]
	if e.Names[1] != (kycd.ListName{Full: "Умаров Доку Хаматович", Kind: "aka", Script: "Cyrl"}) {
		t.Errorf("QDi.290 names %+v", e.Names)
	}
	if !contains(e.BirthDates, kycd.ListDate{Year: 1955}) || !contains(e.BirthDates, kycd.ListDate{Year: 1964, Month: 4, Day: 13}) {
		t.Errorf("QDi.290 birth dates %+v", e.BirthDates)
	}
	if !contains(e.Identifiers, kycd.ListIdentifier{Type: "passport", Number: "96 03 464086", Country: "RU"}) {
		t.Errorf("QDi.290 identifiers %+v", e.Identifiers)
	}
	// An entity with a name in Chinese characters and an f.k.a.
	e = m["KPe.016"]
	if e.Type != kycd.EntryOrganization || e.Names[len(e.Names)-1] != (kycd.ListName{Full: "朝鲜联合机械贸易会社", Kind: "aka", Script: "Hani"}) {
		t.Errorf("KPe.016 %+v", e.Names)
	}
	if e := m["CDe.001"]; e.Names[2].Kind != kycd.NameFormer {
		t.Errorf("CDe.001 names %+v", e.Names)
	}
}

func TestEUSpotChecks(t *testing.T) {
	t.Parallel()
	entries, err := lists.ParseEU(bytes.NewReader(euXML()))
	if err != nil {
		t.Fatal(err)
	}
	m := byID(t, entries)
	want := map[string]kycd.ListEntry{
		"900101": {Source: "eu-fsf", ID: "900101", Type: "person",
			Names: []kycd.ListName{
				{Full: "Vladimir Vladimirovich PUTIN", Kind: "primary", Given: "Vladimir Vladimirovich", Family: "PUTIN"},
				{Full: "Владимир Владимирович ПУТИН", Kind: "aka", Script: "Cyrl", Given: "Владимир Владимирович", Family: "ПУТИН"},
			},
			BirthDates: []kycd.ListDate{{Year: 1952, Month: 10, Day: 7}}, BirthPlaces: []string{"Leningrad (now Saint Petersburg), RUSSIAN FEDERATION"},
			Nationalities: []string{"RU"}, Programmes: []string{"UKR"}, Remarks: "President of the Russian Federation.", ListedOn: "2022-02-25"},
		"900501": {Source: "eu-fsf", ID: "900501", Type: "organization",
			Names: []kycd.ListName{
				{Full: "Wagner Group", Kind: "primary"}, {Full: "PMC Wagner", Kind: "aka"}, {Full: "ЧВК Вагнер", Kind: "aka", Script: "Cyrl"},
			},
			Countries: []string{"RU"}, Programmes: []string{"GHR"}, Remarks: "Unincorporated private military entity.", ListedOn: "2021-12-13"},
	}
	for id, w := range want {
		if got := m[id]; !reflect.DeepEqual(got, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", id, got, w)
		}
	}
}

// TestLoad reads the shared files' formats from disk through Load: a
// folder, plain and gzip-compressed files, the source of a JSON Lines list.
func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ofac := filepath.Join(dir, "ofac")
	if err := os.Mkdir(ofac, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range snapshotFiles()[kycd.SourceOFACSDN] {
		write(t, filepath.Join(ofac, name), b)
	}
	write(t, filepath.Join(dir, "consolidated.xml"), unXML())
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(euXML())
	zw.Close()
	write(t, filepath.Join(dir, "eu.xml.gz"), gz.Bytes())
	write(t, filepath.Join(dir, "pep-list.jsonl"), []byte(`{"id":"P1","type":"person","names":[{"full":"Jane Doe","kind":"primary"}]}`+"\n"))

	for _, c := range []struct {
		format, path string
		n            int
	}{
		{kycd.SourceOFACSDN, ofac, 8976},
		{kycd.SourceUN, filepath.Join(dir, "consolidated.xml"), 1003},
		{kycd.SourceEUFSF, filepath.Join(dir, "eu.xml.gz"), 5},
		{kycd.FormatJSONL, filepath.Join(dir, "pep-list.jsonl"), 1},
	} {
		entries, err := lists.Load(c.format, c.path)
		if err != nil || len(entries) != c.n {
			t.Errorf("Load(%s): %d entries, %v", c.format, len(entries), err)
		}
	}
	entries, err := lists.Load(kycd.FormatJSONL, filepath.Join(dir, "pep-list.jsonl"))
	if err != nil || entries[0].Source != "pep-list" {
		t.Errorf("jsonl source: %+v %v", entries, err)
	}
	entries, err = lists.LoadSource(kycd.FormatJSONL, "internal", filepath.Join(dir, "pep-list.jsonl"))
	if err != nil || entries[0].Source != "internal" {
		t.Errorf("LoadSource: %+v %v", entries, err)
	}
	if _, err := lists.Load("csl", ofac); !errors.Is(err, lists.ErrFormat) {
		t.Errorf("unknown format: %v", err)
	}
	if _, err := lists.Load(kycd.SourceOFACSDN, filepath.Join(dir, "consolidated.xml")); err == nil {
		t.Error("OFAC from a file: no error")
	}
	if !reflect.DeepEqual(lists.Formats, []string{"ofac-sdn", "un", "eu-fsf", "kycd-jsonl"}) {
		t.Errorf("Formats %q", lists.Formats)
	}
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestJSONLRoundTrip: the JSON of every parsed listing is a valid line of
// kycd's format and reads back unchanged.
func TestJSONLRoundTrip(t *testing.T) {
	t.Parallel()
	all, err := snapshot.Entries()
	if err != nil {
		t.Fatal(err)
	}
	for source, entries := range all {
		var buf bytes.Buffer
		for _, e := range entries {
			b, err := jsonLine(e)
			if err != nil {
				t.Fatal(err)
			}
			buf.Write(b)
		}
		got, err := lists.ParseJSONL(source, &buf)
		if err != nil {
			t.Fatalf("%s: %v", source, err)
		}
		if !reflect.DeepEqual(got, entries) {
			t.Errorf("%s: round trip differs", source)
		}
	}
}

// TestDocExample: the example line of docs/screening-lists.md is a valid
// listing of kycd's JSON Lines format.
func TestDocExample(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/screening-lists.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := bytes.Cut(doc, []byte("```json\n"))
	example, _, ok2 := bytes.Cut(rest, []byte("```"))
	if !ok || !ok2 {
		t.Fatal("no json example in the doc")
	}
	entries, err := lists.ParseJSONL("pep-list", bytes.NewReader(example))
	if err != nil || len(entries) != 1 {
		t.Fatalf("%d entries, %v", len(entries), err)
	}
	e := entries[0]
	if e.Names[1].Script != "Cyrl" || e.BirthDates[1] != (kycd.ListDate{Year: 1958, ToYear: 1962, Circa: true}) || e.Identifiers[0].Country != "US" {
		t.Errorf("%+v", e)
	}
}
