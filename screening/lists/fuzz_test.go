package lists_test

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/screening/lists"
)

// checkParse is what every fuzz target asserts: a refusal is an *Error with
// nothing returned; an acceptance returns only valid listings with unique
// ids.
func checkParse(t *testing.T, source string, entries []kycd.ListEntry, err error) {
	t.Helper()
	if err != nil {
		var le *lists.Error
		if !errors.As(err, &le) {
			t.Fatalf("%T %v is not a *lists.Error", err, err)
		}
		if entries != nil {
			t.Fatalf("%d entries returned with %v", len(entries), err)
		}
		_ = le.Error()
		return
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if err := lists.Validate(e); err != nil {
			t.Fatalf("invalid entry %s returned: %v", e.ID, err)
		}
		if e.Source != source {
			t.Fatalf("entry %s of source %q, want %q", e.ID, e.Source, source)
		}
		if seen[e.ID] {
			t.Fatalf("duplicate id %s returned", e.ID)
		}
		seen[e.ID] = true
	}
}

// ofacSeed is the records of the bundled set for a few ent_nums.
func ofacSeed(ids ...string) (sdn, alt, add, comments []byte) {
	files := snapshotFiles()[kycd.SourceOFACSDN]
	pick := func(b []byte) []byte {
		var out []byte
		for line := range bytes.SplitAfterSeq(b, []byte("\n")) {
			for _, id := range ids {
				if bytes.HasPrefix(line, []byte(id+",")) {
					out = append(out, line...)
				}
			}
		}
		return out
	}
	return pick(files["sdn.csv"]), pick(files["alt.csv"]), pick(files["add.csv"]), pick(files["sdn_comments.csv"])
}

func FuzzParseOFAC(f *testing.F) {
	for _, ids := range [][]string{{"306", "11748", "12057"}, {"28263", "4234", "15431"}, {"12300"}} {
		sdn, alt, add, comments := ofacSeed(ids...)
		fsys := fstest.MapFS{"sdn.csv": {Data: sdn}, "alt.csv": {Data: alt}, "add.csv": {Data: add}, "sdn_comments.csv": {Data: comments}}
		if entries, err := lists.ParseOFAC(fsys); err != nil || len(entries) != len(ids) {
			f.Fatalf("seed %q: %d entries, %v", ids, len(entries), err)
		}
		f.Add(sdn, alt, add, comments)
	}
	f.Add([]byte("1,\"A, B\",\"individual\",\"X\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"DOB circa 1950; a.k.a. 'C'\"\r\n\x1a"),
		[]byte("1,2,\"fka\",\"D\",-0- \r\n"), []byte("1,3,-0- ,-0- ,\"Cuba\",-0- \r\n"), []byte("1,\"; Passport 1 (Cuba)\"\r\n"))
	f.Fuzz(func(t *testing.T, sdn, alt, add, comments []byte) {
		fsys := fstest.MapFS{
			"sdn.csv": {Data: sdn}, "alt.csv": {Data: alt}, "add.csv": {Data: add}, "sdn_comments.csv": {Data: comments},
		}
		entries, err := lists.ParseOFAC(fsys)
		checkParse(t, kycd.SourceOFACSDN, entries, err)
	})
}

// unSeed is the bundled UN list reduced to the listings with these
// references, their comments cut (small seeds keep the fuzzer's
// minimization quick).
func unSeed(refs ...string) []byte {
	all := unXML()
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><CONSOLIDATED_LIST><INDIVIDUALS>`)
	for _, ref := range refs {
		at := bytes.Index(all, []byte("<REFERENCE_NUMBER>"+ref+"</REFERENCE_NUMBER>"))
		tag := "INDIVIDUAL"
		if bytes.LastIndex(all[:at], []byte("<ENTITY>")) > bytes.LastIndex(all[:at], []byte("<INDIVIDUAL>")) {
			tag = "ENTITY"
		}
		start := bytes.LastIndex(all[:at], []byte("<"+tag+">"))
		end := at + bytes.Index(all[at:], []byte("</"+tag+">")) + len("</"+tag+">")
		listing := all[start:end]
		if c := bytes.Index(listing, []byte("<COMMENTS1>")); c >= 0 {
			ce := bytes.Index(listing, []byte("</COMMENTS1>"))
			listing = append(append(append([]byte{}, listing[:c]...), "<COMMENTS1>c"...), listing[ce:]...)
		}
		b.Write(listing)
	}
	b.WriteString(`</INDIVIDUALS></CONSOLIDATED_LIST>`)
	return b.Bytes()
}

func FuzzParseUN(f *testing.F) {
	for _, ref := range []string{"IQi.001", "CDi.030", "QDi.290", "LYi.019", "KPe.016"} {
		seed := unSeed(ref)
		if entries, err := lists.ParseUN(bytes.NewReader(seed)); err != nil || len(entries) != 1 {
			f.Fatalf("seed %s: %d entries, %v", ref, len(entries), err)
		}
		f.Add(seed)
	}
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]><CONSOLIDATED_LIST>&b;</CONSOLIDATED_LIST>`))
	f.Add([]byte(`<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><FIRST_NAME>A</FIRST_NAME><REFERENCE_NUMBER>1</REFERENCE_NUMBER>` +
		`<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE><FROM_YEAR>1950</FROM_YEAR><TO_YEAR>1960</TO_YEAR></INDIVIDUAL_DATE_OF_BIRTH>` +
		`</INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := lists.ParseUN(bytes.NewReader(data))
		checkParse(t, kycd.SourceUN, entries, err)
	})
}

func FuzzParseEU(f *testing.F) {
	eu := euXML()
	first := eu[:bytes.Index(eu, []byte(`</sanctionEntity>`))+len(`</sanctionEntity>`)]
	seed := append(append([]byte{}, first...), "</export>"...)
	if entries, err := lists.ParseEU(bytes.NewReader(seed)); err != nil || len(entries) != 1 {
		f.Fatalf("seed: %d entries, %v", len(entries), err)
	}
	f.Add(seed)
	f.Add([]byte(`<export><sanctionEntity logicalId="1"><subjectType code="person"/><nameAlias firstName="A" lastName="B" strong="false"/>` +
		`<birthdate circa="true" year="1960" monthOfYear="2"/><citizenship countryIso2Code="DE"/><identification number="X1" identificationTypeCode="passport" countryIso2Code="DE"/>` +
		`</sanctionEntity></export>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := lists.ParseEU(bytes.NewReader(data))
		checkParse(t, kycd.SourceEUFSF, entries, err)
	})
}

func FuzzParseJSONL(f *testing.F) {
	un, err := lists.ParseUN(bytes.NewReader(unSeed("IQi.001", "CDi.030", "KPe.016")))
	if err != nil {
		f.Fatal(err)
	}
	var seed []byte
	for _, e := range un {
		b, err := jsonLine(e)
		if err != nil {
			f.Fatal(err)
		}
		seed = append(seed, b...)
	}
	f.Add("un", seed)
	f.Add("pep", []byte(`{"id":"P1","type":"person","names":[{"full":"Jane Doe","kind":"primary"}],"birthDates":[{"year":1960,"toYear":1965,"circa":true}],"nationalities":["DE"]}`+"\n"))
	f.Fuzz(func(t *testing.T, source string, data []byte) {
		entries, err := lists.ParseJSONL(source, bytes.NewReader(data))
		checkParse(t, source, entries, err)
	})
}

func BenchmarkParseOFAC(b *testing.B) {
	fsys := ofacFS(nil)
	size := 0
	for _, f := range fsys {
		size += len(f.Data)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := lists.ParseOFAC(fsys); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseUN(b *testing.B) {
	data := unXML()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := lists.ParseUN(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseJSONL(b *testing.B) {
	entries, err := lists.ParseUN(bytes.NewReader(unXML()))
	if err != nil {
		b.Fatal(err)
	}
	var data []byte
	for _, e := range entries {
		line, _ := jsonLine(e)
		data = append(data, line...)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := lists.ParseJSONL("un", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadOFACBaseline reads the same files with encoding/csv alone:
// the floor ParseOFAC's time compares with.
func BenchmarkReadOFACBaseline(b *testing.B) {
	fsys := ofacFS(nil)
	size := 0
	for _, f := range fsys {
		size += len(f.Data)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range fsys {
			r := csv.NewReader(bytes.NewReader(f.Data))
			r.FieldsPerRecord = -1
			r.ReuseRecord = true
			for {
				if _, err := r.Read(); err != nil {
					break
				}
			}
		}
	}
}

// BenchmarkReadUNBaseline reads the same file with encoding/xml's tokens
// alone: the floor ParseUN's time compares with.
func BenchmarkReadUNBaseline(b *testing.B) {
	data := unXML()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d := xml.NewDecoder(bytes.NewReader(data))
		for {
			if _, err := d.Token(); err != nil {
				break
			}
		}
	}
}
