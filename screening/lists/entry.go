package lists

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kycd/kycd"
)

// Dates of birth are refused before MinBirthYear or after the current year,
// and ranges wider than MaxBirthRange years.
const (
	MinBirthYear  = 1850
	MaxBirthRange = 100
)

// clean trims s and collapses each run of white space (Unicode) to one
// space; nothing else changes. Invalid UTF-8 bytes are read as ISO 8859-1
// (the legacy OFAC files' encoding).
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = latin1(s)
	}
	simple := true
	prevSpace := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			simple = false
			break
		}
		space := c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
		if space && (c != ' ' || prevSpace) {
			simple = false
			break
		}
		prevSpace = space
	}
	if simple && !prevSpace {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// latin1 reads the bytes of s as ISO 8859-1.
func latin1(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

// isClean reports whether s is what clean makes of it, with no control or
// bidi control characters (NUL, escapes, overrides). U+FFFD is kept: the UN
// list has names damaged so by its publisher.
func isClean(s string) bool {
	// Fast path: printable ASCII, single spaces inside.
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c > '~' || (c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' ')) {
			ascii = false
			break
		}
	}
	if ascii {
		return true
	}
	if !utf8.ValidString(s) || s != clean(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return false
		}
	}
	return true
}

// scripts are the ISO 15924 codes detected in names, Latin left out.
var scripts = []struct {
	code  string
	table *unicode.RangeTable
}{
	{"Arab", unicode.Arabic}, {"Cyrl", unicode.Cyrillic}, {"Hani", unicode.Han}, {"Hang", unicode.Hangul},
	{"Hira", unicode.Hiragana}, {"Kana", unicode.Katakana}, {"Grek", unicode.Greek}, {"Hebr", unicode.Hebrew},
	{"Armn", unicode.Armenian}, {"Geor", unicode.Georgian}, {"Thai", unicode.Thai}, {"Deva", unicode.Devanagari},
	{"Beng", unicode.Bengali}, {"Ethi", unicode.Ethiopic}, {"Syrc", unicode.Syriac}, {"Taml", unicode.Tamil},
	{"Mymr", unicode.Myanmar}, {"Khmr", unicode.Khmer}, {"Laoo", unicode.Lao}, {"Thaa", unicode.Thaana},
	{"Mong", unicode.Mongolian}, {"Tibt", unicode.Tibetan}, {"Gujr", unicode.Gujarati}, {"Guru", unicode.Gurmukhi},
	{"Sinh", unicode.Sinhala}, {"Telu", unicode.Telugu}, {"Knda", unicode.Kannada}, {"Mlym", unicode.Malayalam},
}

// Script returns the ISO 15924 code of the script most letters of name are
// written in, or "" for Latin (and for a name without letters). Han mixed
// with kana is "Jpan", Han mixed with Hangul "Kore".
func Script(name string) string {
	ascii := true
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return ""
	}
	counts := make([]int, len(scripts))
	latin, best := 0, -1
	for _, r := range name {
		if r < utf8.RuneSelf {
			if r|0x20 >= 'a' && r|0x20 <= 'z' {
				latin++
			}
			continue
		}
		if !unicode.IsLetter(r) {
			continue
		}
		if unicode.Is(unicode.Latin, r) {
			latin++
			continue
		}
		for i, s := range scripts {
			if unicode.Is(s.table, r) {
				counts[i]++
				if best < 0 || counts[i] > counts[best] {
					best = i
				}
				break
			}
		}
	}
	if best < 0 || counts[best] <= latin {
		return ""
	}
	const han, hang, hira, kana = 2, 3, 4, 5
	switch {
	case counts[hira]+counts[kana] > 0 && (best == han || best == hira || best == kana):
		return "Jpan"
	case counts[han] > 0 && counts[hang] > 0:
		return "Kore"
	}
	return scripts[best].code
}

// newName makes a name of full (cleaned), with its script.
func newName(full, kind string, weak bool) kycd.ListName {
	full = clean(full)
	return kycd.ListName{Full: full, Kind: kind, Weak: weak, Script: Script(full)}
}

// addUnique appends s to list unless empty or already there. Past MaxItems
// it adds nothing more (Validate refuses the listing), so hostile input costs
// no more than MaxItems comparisons per item.
func addUnique(list []string, s string) []string {
	if s == "" || len(list) > MaxItems || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// addDate appends d unless already there, as addUnique.
func addDate(list []kycd.ListDate, d kycd.ListDate) []kycd.ListDate {
	if len(list) > MaxItems || slices.Contains(list, d) {
		return list
	}
	return append(list, d)
}

var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// ValidSource reports whether name may name a list: 1 to 64 lower-case
// letters, digits, dots, hyphens and underscores, starting with a letter or
// digit.
func ValidSource(name string) bool { return token(name, 64, "._-") }

// token reports whether s is 1 to max lower-case ASCII letters, digits and
// the punctuation given, starting with a letter or digit.
func token(s string, max int, punct string) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && strings.IndexByte(punct, c) >= 0) {
			continue
		}
		return false
	}
	return true
}

// validID reports whether id is 1 to 128 bytes of letters, digits and
// . _ : / -, starting with a letter or digit.
func validID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i, r := range id {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.N, r) || (i > 0 && strings.ContainsRune("._:/-", r)) {
			continue
		}
		return false
	}
	return true
}

// Validate checks one listing against the rules every parser's output and
// every kycd-jsonl line meet; the error says which field is wrong without
// quoting personal data.
func Validate(e kycd.ListEntry) error {
	switch {
	case !ValidSource(e.Source):
		return fmt.Errorf("source %q is not a valid list name", truncate(e.Source))
	case !validID(e.ID):
		return fmt.Errorf("id %q is not 1 to 128 letters, digits and . _ : / -", truncate(e.ID))
	}
	switch e.Type {
	case kycd.EntryPerson, kycd.EntryOrganization, kycd.EntryVessel, kycd.EntryAircraft:
	default:
		return fmt.Errorf("type %q is not person, organization, vessel or aircraft", truncate(e.Type))
	}
	if len(e.Names) == 0 {
		return fmt.Errorf("no name")
	}
	for _, f := range [...]struct {
		name string
		n    int
	}{
		{"names", len(e.Names)}, {"birthDates", len(e.BirthDates)}, {"birthPlaces", len(e.BirthPlaces)},
		{"nationalities", len(e.Nationalities)}, {"countries", len(e.Countries)}, {"identifiers", len(e.Identifiers)},
		{"programmes", len(e.Programmes)},
	} {
		if f.n > MaxItems {
			return fmt.Errorf("%s: more than %d items", f.name, MaxItems)
		}
	}
	for i, n := range e.Names {
		if err := validName(n, i); err != nil {
			return fmt.Errorf("names[%d]: %w", i, err)
		}
	}
	year := time.Now().Year()
	for i, d := range e.BirthDates {
		if err := validDate(d, year); err != nil {
			return fmt.Errorf("birthDates[%d]: %w", i, err)
		}
	}
	for i, p := range e.BirthPlaces {
		if err := validText(p, MaxFieldBytes); err != nil {
			return fmt.Errorf("birthPlaces[%d]: %w", i, err)
		}
	}
	for i, c := range e.Nationalities {
		if !ValidCountry(c) {
			return fmt.Errorf("nationalities[%d]: %q is not an ISO 3166-1 alpha-2 code", i, truncate(c))
		}
	}
	for i, c := range e.Countries {
		if !ValidCountry(c) {
			return fmt.Errorf("countries[%d]: %q is not an ISO 3166-1 alpha-2 code", i, truncate(c))
		}
	}
	for i, id := range e.Identifiers {
		switch {
		case !token(id.Type, 64, "-"):
			return fmt.Errorf("identifiers[%d]: type %q is not 1 to 64 lower-case letters, digits and hyphens", i, truncate(id.Type))
		case validText(id.Number, MaxFieldBytes) != nil:
			return fmt.Errorf("identifiers[%d]: number: %w", i, validText(id.Number, MaxFieldBytes))
		case id.Country != "" && !ValidCountry(id.Country):
			return fmt.Errorf("identifiers[%d]: country %q is not an ISO 3166-1 alpha-2 code", i, truncate(id.Country))
		}
	}
	for i, p := range e.Programmes {
		if err := validText(p, MaxFieldBytes); err != nil {
			return fmt.Errorf("programmes[%d]: %w", i, err)
		}
	}
	if e.Remarks != "" {
		if err := validText(e.Remarks, MaxRemarksBytes); err != nil {
			return fmt.Errorf("remarks: %w", err)
		}
	}
	if e.ListedOn != "" {
		if t, err := time.Parse(time.DateOnly, e.ListedOn); err != nil || !datePattern.MatchString(e.ListedOn) || t.Year() < 1900 || t.Year() > year+1 {
			return fmt.Errorf("listedOn %q is not a date YYYY-MM-DD", truncate(e.ListedOn))
		}
	}
	return nil
}

func validName(n kycd.ListName, i int) error {
	if err := validText(n.Full, MaxNameBytes); err != nil {
		return fmt.Errorf("full: %w", err)
	}
	if !hasLetterOrDigit(n.Full) {
		return fmt.Errorf("full has no letter or digit")
	}
	switch n.Kind {
	case kycd.NamePrimary:
		if i != 0 {
			return fmt.Errorf("only the first name is primary")
		}
	case kycd.NameAlias, kycd.NameFormer, kycd.NameNow:
		if i == 0 {
			return fmt.Errorf("the first name is the primary name")
		}
	default:
		return fmt.Errorf("kind %q is not primary, aka, fka or nka", truncate(n.Kind))
	}
	if n.Script != Script(n.Full) {
		return fmt.Errorf("script %q is not the name's script %q", truncate(n.Script), Script(n.Full))
	}
	for _, part := range []string{n.Given, n.Family} {
		if part != "" {
			if err := validText(part, MaxNameBytes); err != nil {
				return fmt.Errorf("given or family: %w", err)
			}
		}
	}
	return nil
}

func hasLetterOrDigit(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// validText checks a text field: not empty, at most max bytes, clean.
func validText(s string, max int) error {
	switch {
	case s == "":
		return fmt.Errorf("empty")
	case len(s) > max:
		return fmt.Errorf("longer than %d bytes", max)
	case !isClean(s):
		return fmt.Errorf("not clean text (invalid UTF-8, control characters, or white space not trimmed and collapsed)")
	}
	return nil
}

// validDate checks a date of birth against the calendar and year bounds; the
// error does not quote the date (personal data).
func validDate(d kycd.ListDate, thisYear int) error {
	switch {
	case d.Year < MinBirthYear || d.Year > thisYear:
		return fmt.Errorf("the year is not between %d and %d", MinBirthYear, thisYear)
	case d.Month < 0 || d.Month > 12:
		return fmt.Errorf("the month is not 1 to 12")
	case d.Day != 0 && d.Month == 0:
		return fmt.Errorf("a day without a month")
	case d.Day < 0 || d.Day > 31 || (d.Day > 0 && time.Date(d.Year, time.Month(d.Month), d.Day, 0, 0, 0, 0, time.UTC).Day() != d.Day):
		return fmt.Errorf("the day is not a day of its month")
	case d.ToYear != 0 && (d.ToYear <= d.Year || d.ToYear > thisYear || d.ToYear-d.Year > MaxBirthRange):
		return fmt.Errorf("toYear does not close a range of at most %d years ending by %d", MaxBirthRange, thisYear)
	case d.ToYear != 0 && d.Month != 0:
		return fmt.Errorf("a range of years has no month")
	}
	return nil
}

// truncate shortens a value quoted in an error.
func truncate(s string) string {
	if len(s) <= 40 {
		return s
	}
	for i := 40; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "..."
		}
	}
	return "..."
}
