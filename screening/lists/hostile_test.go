package lists_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/screening/lists"
)

func jsonLine(e kycd.ListEntry) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(e)
	return buf.Bytes(), err
}

// refused checks that a parse failed with an *Error of kind, and returned
// nothing.
func refused(t *testing.T, name string, entries []kycd.ListEntry, err error, kind error) {
	t.Helper()
	var le *lists.Error
	switch {
	case err == nil:
		t.Errorf("%s: accepted (%d entries)", name, len(entries))
	case !errors.As(err, &le):
		t.Errorf("%s: %T %v is not a *lists.Error", name, err, err)
	case !errors.Is(err, kind):
		t.Errorf("%s: %v, want kind %v", name, err, kind)
	case entries != nil:
		t.Errorf("%s: %d entries returned with the error", name, len(entries))
	default:
		t.Logf("%s: %v", name, err)
	}
}

const unHead = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<CONSOLIDATED_LIST><INDIVIDUALS>`
const unTail = `</INDIVIDUALS><ENTITIES/></CONSOLIDATED_LIST>`

func unPerson(ref, first, extra string) string {
	return `<INDIVIDUAL><FIRST_NAME>` + first + `</FIRST_NAME><UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE><REFERENCE_NUMBER>` + ref +
		`</REFERENCE_NUMBER>` + extra + `</INDIVIDUAL>`
}

func TestUNRefuses(t *testing.T) {
	t.Parallel()
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>` +
		`<CONSOLIDATED_LIST><INDIVIDUALS>` + unPerson("QDi.1", "&lol3;", "") + unTail
	real := unXML()
	cases := []struct {
		name, xml string
		kind      error
	}{
		{"billion laughs", laughs, lists.ErrHostile},
		{"doctype alone", `<!DOCTYPE CONSOLIDATED_LIST SYSTEM "file:///etc/passwd">` + unHead + unTail, lists.ErrHostile},
		{"external entity", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + unHead + unPerson("QDi.1", "&xxe;", "") + unTail, lists.ErrHostile},
		{"undeclared entity", unHead + unPerson("QDi.1", "&lol;", "") + unTail, lists.ErrMalformed},
		{"processing instruction", unHead + `<?php system("x") ?>` + unTail, lists.ErrHostile},
		{"huge attribute", unHead + `<INDIVIDUAL a="` + strings.Repeat("a", 2<<20) + `">` + unTail, lists.ErrLimit},
		{"huge text", unHead + unPerson("QDi.1", strings.Repeat("A", 2<<20), "") + unTail, lists.ErrLimit},
		{"huge text between listings", unHead + strings.Repeat(" ", 2<<20) + unTail, lists.ErrLimit},
		{"deep nesting", unHead + `<INDIVIDUAL>` + strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100) + `</INDIVIDUAL>` + unTail, lists.ErrLimit},
		{"empty", "", lists.ErrMalformed},
		{"not xml", "sdn,csv", lists.ErrMalformed},
		{"wrong root", `<export></export>`, lists.ErrMalformed},
		{"two roots", unHead + unTail + `<CONSOLIDATED_LIST/>`, lists.ErrMalformed},
		{"unknown element", unHead + `<PERSON/>` + unTail, lists.ErrMalformed},
		{"truncated", string(real[:len(real)/2]), lists.ErrMalformed},
		{"truncated at the end", string(real[:len(real)-20]), lists.ErrMalformed},
		{"unbalanced", unHead + `<INDIVIDUAL><FIRST_NAME>A</SECOND_NAME></INDIVIDUAL>` + unTail, lists.ErrMalformed},
		{"latin-1 declared", `<?xml version="1.0" encoding="ISO-8859-1"?><CONSOLIDATED_LIST/>`, lists.ErrMalformed},
		{"invalid utf-8", unHead + unPerson("QDi.1", "A\xff", "") + unTail, lists.ErrMalformed},
		{"duplicate reference", unHead + unPerson("QDi.1", "A", "") + unPerson("QDi.1", "B", "") + unTail, lists.ErrDuplicate},
		{"no name", unHead + unPerson("QDi.1", " ", "") + unTail, lists.ErrInvalid},
		{"no reference", unHead + unPerson("", "A", "") + unTail, lists.ErrInvalid},
		{"absurd date", unHead + unPerson("QDi.1", "A", `<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>0999-01-01</DATE></INDIVIDUAL_DATE_OF_BIRTH>`) + unTail, lists.ErrInvalid},
		{"future date", unHead + unPerson("QDi.1", "A", `<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><YEAR>2999</YEAR></INDIVIDUAL_DATE_OF_BIRTH>`) + unTail, lists.ErrInvalid},
		{"impossible date", unHead + unPerson("QDi.1", "A", `<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>1970-02-30</DATE></INDIVIDUAL_DATE_OF_BIRTH>`) + unTail, lists.ErrInvalid},
		{"reversed range", unHead + unPerson("QDi.1", "A", `<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE><FROM_YEAR>1970</FROM_YEAR><TO_YEAR>1960</TO_YEAR></INDIVIDUAL_DATE_OF_BIRTH>`) + unTail, lists.ErrInvalid},
		{"unknown date type", unHead + unPerson("QDi.1", "A", `<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>GUESS</TYPE_OF_DATE><YEAR>1970</YEAR></INDIVIDUAL_DATE_OF_BIRTH>`) + unTail, lists.ErrInvalid},
		{"control character", unHead + unPerson("QDi.1", "A&#x1b;[31m", "") + unTail, lists.ErrMalformed},
		{"too many aliases", unHead + unPerson("QDi.1", "A", strings.Repeat(`<INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>B</ALIAS_NAME></INDIVIDUAL_ALIAS>`, 1001)) + unTail, lists.ErrInvalid},
		{"bidi override", unHead + unPerson("QDi.1", "A&#x202E;B", "") + unTail, lists.ErrInvalid},
	}
	for _, c := range cases {
		entries, err := lists.ParseUN(strings.NewReader(c.xml))
		refused(t, c.name, entries, err, c.kind)
	}
	// The line of the refusal is stated.
	_, err := lists.ParseUN(strings.NewReader(unHead + "\n\n" + unPerson("QDi.1", "A", "") + "\n" + unPerson("QDi.1", "B", "") + unTail))
	var le *lists.Error
	if !errors.As(err, &le) || le.Line != 5 || le.Element != "INDIVIDUAL QDi.1" {
		t.Errorf("error position: %+v", le)
	}
	// A small valid list is read.
	entries, err := lists.ParseUN(strings.NewReader(unHead + unPerson("QDi.1", " Abu   Bakr\n", "") + unTail))
	if err != nil || len(entries) != 1 || entries[0].Names[0].Full != "Abu Bakr" {
		t.Errorf("valid list: %+v %v", entries, err)
	}
}

func TestEURefuses(t *testing.T) {
	t.Parallel()
	head := `<?xml version="1.0" encoding="UTF-8"?><export xmlns="http://eu.europa.ec/fpi/fsd/export">`
	person := func(id, name, extra string) string {
		return `<sanctionEntity logicalId="` + id + `"><subjectType code="person"/><nameAlias wholeName="` + name + `" strong="true"/>` + extra + `</sanctionEntity>`
	}
	real := euXML()
	cases := []struct {
		name, xml string
		kind      error
	}{
		{"doctype", `<!DOCTYPE export [<!ENTITY a "aaaa">]>` + head + person("1", "&a;", "") + `</export>`, lists.ErrHostile},
		{"truncated", string(real[:len(real)/2]), lists.ErrMalformed},
		{"huge attribute", head + person("1", strings.Repeat("x", 2<<20), "") + `</export>`, lists.ErrLimit},
		{"too many attributes", head + `<sanctionEntity` + manyAttrs(2000) + `/></export>`, lists.ErrLimit},
		{"duplicate id", head + person("1", "A", "") + person("1", "B", "") + `</export>`, lists.ErrDuplicate},
		{"no name", head + person("1", "", "") + `</export>`, lists.ErrInvalid},
		{"unknown subject", head + `<sanctionEntity logicalId="1"><subjectType code="martian"/><nameAlias wholeName="A"/></sanctionEntity></export>`, lists.ErrInvalid},
		{"absurd year", head + person("1", "A", `<birthdate year="12"/>`) + `</export>`, lists.ErrInvalid},
		{"absurd month", head + person("1", "A", `<birthdate year="1970" monthOfYear="13"/>`) + `</export>`, lists.ErrInvalid},
		{"wrong root", `<CONSOLIDATED_LIST/>`, lists.ErrMalformed},
	}
	for _, c := range cases {
		entries, err := lists.ParseEU(strings.NewReader(c.xml))
		refused(t, c.name, entries, err, c.kind)
	}
	entries, err := lists.ParseEU(strings.NewReader(head + person("1", "A B", `<birthdate circa="true" year="1960"/><citizenship countryIso2Code="00"/>`) + `</export>`))
	if err != nil || len(entries) != 1 || entries[0].BirthDates[0] != (kycd.ListDate{Year: 1960, Circa: true}) || entries[0].Nationalities != nil {
		t.Errorf("valid list: %+v %v", entries, err)
	}
}

// manyParts joins n remarks made of format and their number.
func manyParts(format string, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(format, i)
	}
	return strings.Join(parts, "; ")
}

func manyAttrs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, ` a%d="1"`, i)
	}
	return b.String()
}

func TestOFACRefuses(t *testing.T) {
	t.Parallel()
	real := snapshotFiles()[kycd.SourceOFACSDN]
	sdn := real["sdn.csv"]
	cut := bytes.Index(sdn, []byte(`"BANCO NACIONAL`)) + 5 // inside a quoted field
	person := func(id, name, remarks string) string {
		return id + `,"` + name + `","individual","SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"` + remarks + `"` + "\r\n"
	}
	cases := []struct {
		name    string
		replace map[string][]byte
		kind    error
	}{
		{"truncated in a quoted field", map[string][]byte{"sdn.csv": sdn[:cut]}, lists.ErrMalformed},
		{"truncated mid-record", map[string][]byte{"alt.csv": []byte("36,12,\"aka\"\r\n")}, lists.ErrMalformed},
		{"missing alt.csv", map[string][]byte{"alt.csv": nil}, lists.ErrMalformed},
		{"missing sdn.csv", map[string][]byte{"sdn.csv": nil}, lists.ErrMalformed},
		{"bare quote", only("1,\"A\"B\",-0- ,\"X\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n"), lists.ErrMalformed},
		{"record after end mark", map[string][]byte{"sdn.csv": append(append([]byte{}, sdn...), person("99999999", "X, Y", "-")...)}, lists.ErrMalformed},
		{"huge record", only(person("1", "A, B", strings.Repeat("x", 2<<20))), lists.ErrLimit},
		{"duplicate ent_num", only(person("1", "A, B", "-") + person("1", "C, D", "-")), lists.ErrDuplicate},
		{"no name", only(person("1", " ", "-")), lists.ErrInvalid},
		{"not a number", only(person("x1", "A, B", "-")), lists.ErrInvalid},
		{"unknown type", only(strings.Replace(person("1", "A, B", "-"), "individual", "robot", 1)), lists.ErrInvalid},
		{"absurd date", only(person("1", "A, B", "DOB 1066")), lists.ErrInvalid},
		{"future date", only(person("1", "A, B", "DOB 01 Jan 2999")), lists.ErrInvalid},
		{"alias of no entry", map[string][]byte{"alt.csv": []byte("424242,1,\"aka\",\"X\",-0- \r\n")}, lists.ErrInvalid},
		{"unknown alias type", map[string][]byte{"alt.csv": []byte("36,12,\"maybe\",\"X\",-0- \r\n")}, lists.ErrInvalid},
		{"address of no entry", map[string][]byte{"add.csv": []byte("424242,1,-0- ,-0- ,\"Cuba\",-0- \r\n")}, lists.ErrInvalid},
		{"control character in a name", only(person("1", "A\x00B", "-")), lists.ErrInvalid},
		{"remarks continued beyond the cap", map[string][]byte{"sdn_comments.csv": []byte(strings.Repeat("306,\""+strings.Repeat("x", 1000)+"\"\r\n", 70))}, lists.ErrLimit},
		{"too many places of birth", only(person("1", "A, B", manyParts("POB P%d", 1500))), lists.ErrInvalid},
		{"too many aliases", map[string][]byte{"alt.csv": []byte(strings.Repeat("306,1,\"aka\",\"X\",-0- \r\n", 1001))}, lists.ErrLimit},
	}
	for _, c := range cases {
		entries, err := lists.ParseOFAC(ofacFS(c.replace))
		refused(t, c.name, entries, err, c.kind)
	}
	_, err := lists.ParseOFAC(ofacFS(only(person("1", "A, B", "-") + person("1", "C, D", "-"))))
	var le *lists.Error
	if !errors.As(err, &le) || le.File != "sdn.csv" || le.Line != 2 {
		t.Errorf("error position: %+v", le)
	}
	// sdn_comments.csv is optional; Latin-1 bytes are read as such.
	entries, err := lists.ParseOFAC(ofacFS(map[string][]byte{
		"sdn.csv": []byte(person("1", "MU\xd1OZ, Jos\xe9", "DOB circa 01 Jan 1960")), "alt.csv": {}, "add.csv": {}, "sdn_comments.csv": nil,
	}))
	if err != nil || len(entries) != 1 || entries[0].Names[0].Full != "MUÑOZ, José" || entries[0].BirthDates[0] != (kycd.ListDate{Year: 1960, Month: 1, Day: 1, Circa: true}) {
		t.Errorf("valid set: %+v %v", entries, err)
	}
}

// only is an OFAC set of sdn.csv alone (empty alt.csv and add.csv).
func only(sdn string) map[string][]byte {
	return map[string][]byte{"sdn.csv": []byte(sdn), "alt.csv": {}, "add.csv": {}, "sdn_comments.csv": nil}
}

func TestJSONLRefuses(t *testing.T) {
	t.Parallel()
	ok := `{"id":"P1","type":"person","names":[{"full":"Jane Doe","kind":"primary"}]}`
	cases := []struct {
		name, source, input string
		kind                error
	}{
		{"unknown field", "pep", `{"id":"P1","type":"person","names":[{"full":"Jane Doe","kind":"primary"}],"gender":"f"}`, lists.ErrMalformed},
		{"malformed", "pep", `{"id":"P1",`, lists.ErrMalformed},
		{"truncated last line", "pep", ok + "\n" + ok[:30], lists.ErrMalformed},
		{"two values", "pep", ok + ok, lists.ErrMalformed},
		{"not an object", "pep", `[1,2]`, lists.ErrMalformed},
		{"wrong type", "pep", `{"id":1}`, lists.ErrMalformed},
		{"invalid utf-8", "pep", `{"id":"P1","type":"person","names":[{"full":"Jane ` + "\xff" + `","kind":"primary"}]}`, lists.ErrMalformed},
		{"duplicate id", "pep", ok + "\n" + ok, lists.ErrDuplicate},
		{"no name", "pep", `{"id":"P1","type":"person","names":[]}`, lists.ErrInvalid},
		{"empty name", "pep", `{"id":"P1","type":"person","names":[{"full":"  ","kind":"primary"}]}`, lists.ErrInvalid},
		{"alias first", "pep", `{"id":"P1","type":"person","names":[{"full":"Jane","kind":"aka"}]}`, lists.ErrInvalid},
		{"no id", "pep", `{"type":"person","names":[{"full":"Jane Doe","kind":"primary"}]}`, lists.ErrInvalid},
		{"unknown type", "pep", `{"id":"P1","type":"alien","names":[{"full":"Jane Doe","kind":"primary"}]}`, lists.ErrInvalid},
		{"absurd date", "pep", `{"id":"P1","type":"person","names":[{"full":"Jane Doe","kind":"primary"}],"birthDates":[{"year":1492}]}`, lists.ErrInvalid},
		{"impossible date", "pep", `{"id":"P1","type":"person","names":[{"full":"Jane Doe","kind":"primary"}],"birthDates":[{"year":1990,"month":2,"day":30}]}`, lists.ErrInvalid},
		{"bad country", "pep", `{"id":"P1","type":"person","names":[{"full":"Jane Doe","kind":"primary"}],"nationalities":["Germany"]}`, lists.ErrInvalid},
		{"wrong script", "pep", `{"id":"P1","type":"person","names":[{"full":"Jane Doe","kind":"primary","script":"Arab"}]}`, lists.ErrInvalid},
		{"control character", "pep", `{"id":"P1","type":"person","names":[{"full":"Jane\u0000Doe","kind":"primary"}]}`, lists.ErrInvalid},
		{"other source", "pep", `{"source":"un","id":"P1","type":"person","names":[{"full":"Jane Doe","kind":"primary"}]}`, lists.ErrInvalid},
		{"bad source name", "PEP List!", ok, lists.ErrInvalid},
		{"huge line", "pep", `{"id":"P1","remarks":"` + strings.Repeat("x", 2<<20) + `"}`, lists.ErrLimit},
		{"huge name", "pep", `{"id":"P1","type":"person","names":[{"full":"` + strings.Repeat("x", 2000) + `","kind":"primary"}]}`, lists.ErrInvalid},
	}
	for _, c := range cases {
		entries, err := lists.ParseJSONL(c.source, strings.NewReader(c.input))
		refused(t, c.name, entries, err, c.kind)
	}
	// The whole input is capped, even when made of blank lines.
	entries, err := lists.ParseJSONL("pep", io.LimitReader(blanks{}, lists.MaxInputBytes+1<<20))
	refused(t, "endless input", entries, err, lists.ErrLimit)

	entries, err = lists.ParseJSONL("pep", strings.NewReader("\n"+` {"id":"P1","type":"person","names":[{"full":" Jane  Doe ","kind":"primary"},{"full":"Джейн","kind":"aka"}]} `+"\n\n"))
	if err != nil || len(entries) != 1 || entries[0].Source != "pep" || entries[0].Names[0].Full != "Jane Doe" || entries[0].Names[1].Script != "Cyrl" {
		t.Errorf("valid list: %+v %v", entries, err)
	}
}

// blanks reads as blank lines (1 KiB of spaces each) without end, a line
// copied at a time (filled byte by byte, the 256 MiB took most of the
// package's time under the race detector).
type blanks struct{}

var blankLine = append(bytes.Repeat([]byte{' '}, 1023), '\n')

func (blanks) Read(p []byte) (int, error) {
	for i := 0; i < len(p); i += len(blankLine) {
		copy(p[i:], blankLine)
	}
	return len(p), nil
}

// TestErrorsQuoteNoPersonalData: refusals name the field, never its value.
func TestErrorsQuoteNoPersonalData(t *testing.T) {
	t.Parallel()
	for _, line := range []string{
		`{"id":"P1","type":"person","names":[{"full":"Jane Secret","kind":"primary"}],"birthDates":[{"year":1492,"month":2,"day":3}]}`,
		`{"id":"P1","type":"person","names":[{"full":"Jane Secret","kind":"primary"}],"birthDates":[{"year":1990,"month":2,"day":30}]}`,
		`{"id":"P1","type":"person","names":[{"full":"Jane Secret","kind":"primary"}],"birthDates":[{"year":1990,"toYear":1492}]}`,
		`{"id":"P1","type":"person","names":[{"full":"Jane Secret","kind":"primary"}],"identifiers":[{"type":"passport","number":"X1990\u0007"}]}`,
		`{"id":"P1","type":"person","names":[{"full":"Jane Secret","kind":"primary"}],"birthPlaces":["Secretville\u0007"]}`,
		`{"id":"P1","type":"person","names":[{"full":"Jane Secret\u0007","kind":"primary"}]}`,
		`{"id":"P1","type":"person","names":[{"full":"Jane Secret","kind":"primary","given":"Secret\u0007"}]}`,
	} {
		_, err := lists.ParseJSONL("pep", strings.NewReader(line))
		if err == nil {
			t.Errorf("%s: accepted", line)
			continue
		}
		for _, secret := range []string{"Secret", "1492", "1990"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%q quotes %q", err, secret)
			}
		}
	}
	_, err := lists.ParseUN(strings.NewReader(unHead + unPerson("QDi.1", "Secret", `<INDIVIDUAL_DATE_OF_BIRTH><DATE>1990-02-30</DATE></INDIVIDUAL_DATE_OF_BIRTH>`) + unTail))
	if err == nil || strings.Contains(err.Error(), "1990") || strings.Contains(err.Error(), "Secret") {
		t.Errorf("UN: %v", err)
	}
}
