package lists

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/kycd/kycd"
)

// unListing is an INDIVIDUAL or ENTITY of the UN consolidated list
// (sc-sanctions.xsd); elements not read are ignored.
type unListing struct {
	DataID      string        `xml:"DATAID"`
	First       string        `xml:"FIRST_NAME"`
	Second      string        `xml:"SECOND_NAME"`
	Third       string        `xml:"THIRD_NAME"`
	Fourth      string        `xml:"FOURTH_NAME"`
	ListType    string        `xml:"UN_LIST_TYPE"`
	Reference   string        `xml:"REFERENCE_NUMBER"`
	ListedOn    string        `xml:"LISTED_ON"`
	Comments    string        `xml:"COMMENTS1"`
	Original    string        `xml:"NAME_ORIGINAL_SCRIPT"`
	Nationality []string      `xml:"NATIONALITY>VALUE"`
	Aliases     []unAlias     `xml:"INDIVIDUAL_ALIAS"`
	EntAliases  []unAlias     `xml:"ENTITY_ALIAS"`
	Addresses   []unPlace     `xml:"INDIVIDUAL_ADDRESS"`
	EntAddress  []unPlace     `xml:"ENTITY_ADDRESS"`
	Births      []unBirthDate `xml:"INDIVIDUAL_DATE_OF_BIRTH"`
	Places      []unPlace     `xml:"INDIVIDUAL_PLACE_OF_BIRTH"`
	Documents   []unDocument  `xml:"INDIVIDUAL_DOCUMENT"`
}

type unAlias struct {
	Quality   string `xml:"QUALITY"`
	Name      string `xml:"ALIAS_NAME"`
	BirthDate string `xml:"DATE_OF_BIRTH"`
}

type unPlace struct {
	City    string `xml:"CITY"`
	State   string `xml:"STATE_PROVINCE"`
	Country string `xml:"COUNTRY"`
}

type unBirthDate struct {
	Type     string `xml:"TYPE_OF_DATE"`
	Date     string `xml:"DATE"`
	Year     string `xml:"YEAR"`
	FromYear string `xml:"FROM_YEAR"`
	ToYear   string `xml:"TO_YEAR"`
}

type unDocument struct {
	Type           string `xml:"TYPE_OF_DOCUMENT"`
	Type2          string `xml:"TYPE_OF_DOCUMENT2"`
	Number         string `xml:"NUMBER"`
	IssuingCountry string `xml:"ISSUING_COUNTRY"`
	CountryOfIssue string `xml:"COUNTRY_OF_ISSUE"`
}

// ParseUN reads the UN Security Council consolidated list XML
// (CONSOLIDATED_LIST with INDIVIDUALS/INDIVIDUAL and ENTITIES/ENTITY).
//
// A listing's id is its REFERENCE_NUMBER; its primary name joins FIRST_NAME
// to FOURTH_NAME (Given is FIRST_NAME, Family the later parts);
// NAME_ORIGINAL_SCRIPT is a further name with its script; aliases of QUALITY
// "Low" are weak, "f.k.a." ones former names. Dates of birth are EXACT (DATE
// or YEAR), APPROXIMATELY (circa) or BETWEEN (FROM_YEAR to TO_YEAR), plus the
// dates stated with an alias. Nationalities and the countries of addresses
// and documents are mapped to alpha-2 codes; UN_LIST_TYPE is the programme.
func ParseUN(r io.Reader) ([]kycd.ListEntry, error) {
	x := newXMLReader(kycd.SourceUN, r)
	ls := &listings{idName: "the REFERENCE_NUMBER"}
	err := x.walk("CONSOLIDATED_LIST", "no CONSOLIDATED_LIST element (empty or not the UN list)", func(start xml.StartElement) error {
		switch name := start.Name.Local; {
		case x.depth == 2 && (name == "INDIVIDUALS" || name == "ENTITIES"):
			return nil
		case x.depth == 3 && (name == "INDIVIDUAL" || name == "ENTITY"):
			var l unListing
			if err := x.decode(&l, &start); err != nil {
				return err
			}
			e, err := l.entry(name == "INDIVIDUAL")
			return x.add(ls, name, e, err)
		default:
			return x.invalid(ErrMalformed, name, "an element the UN list does not have here")
		}
	})
	if err != nil {
		return nil, err
	}
	return ls.entries, nil
}

// entry maps a listing to a ListEntry.
func (l *unListing) entry(person bool) (kycd.ListEntry, error) {
	e := kycd.ListEntry{Source: kycd.SourceUN, ID: clean(l.Reference), Type: kycd.EntryOrganization}
	if e.ID == "" {
		return e, fmt.Errorf("no REFERENCE_NUMBER")
	}
	if person {
		e.Type = kycd.EntryPerson
	}
	var parts []string
	for _, p := range []string{l.First, l.Second, l.Third, l.Fourth} {
		if p = clean(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return e, fmt.Errorf("no FIRST_NAME to FOURTH_NAME")
	}
	primary := newName(strings.Join(parts, " "), kycd.NamePrimary, false)
	if person && len(parts) > 1 {
		primary.Given, primary.Family = clean(l.First), strings.Join(parts[1:], " ")
	}
	e.Names = append(e.Names, primary)
	if o := clean(l.Original); o != "" && o != primary.Full {
		e.Names = append(e.Names, newName(o, kycd.NameAlias, false))
	}
	for _, a := range append(l.Aliases, l.EntAliases...) {
		if clean(a.Name) == "" {
			continue
		}
		n := newName(a.Name, kycd.NameAlias, false)
		switch strings.ToLower(clean(a.Quality)) {
		case "low":
			n.Weak = true
		case "f.k.a.", "fka":
			n.Kind = kycd.NameFormer
		case "n.k.a.", "nka":
			n.Kind = kycd.NameNow
		case "good", "a.k.a.", "aka", "":
		default:
			return e, fmt.Errorf("alias QUALITY %q is not Good, Low, a.k.a. or f.k.a.", truncate(a.Quality))
		}
		e.Names = append(e.Names, n)
		if d := clean(a.BirthDate); d != "" {
			var bd kycd.ListDate
			var err error
			if len(d) == 4 {
				bd.Year, err = yearOf(d)
			} else {
				bd, err = isoDate(d)
			}
			if err != nil {
				return e, fmt.Errorf("alias DATE_OF_BIRTH: %w", err)
			}
			e.BirthDates = addDate(e.BirthDates, bd)
		}
	}
	for _, b := range l.Births {
		d, ok, err := b.date()
		if err != nil {
			return e, fmt.Errorf("INDIVIDUAL_DATE_OF_BIRTH: %w", err)
		}
		if ok {
			e.BirthDates = addDate(e.BirthDates, d)
		}
	}
	for _, p := range l.Places {
		if s := p.String(); s != "" {
			e.BirthPlaces = addUnique(e.BirthPlaces, s)
		}
	}
	for _, n := range l.Nationality {
		e.Nationalities = addUnique(e.Nationalities, Country(n))
	}
	for _, a := range append(l.Addresses, l.EntAddress...) {
		e.Countries = addUnique(e.Countries, Country(a.Country))
	}
	for _, d := range l.Documents {
		number := clean(d.Number)
		if number == "" {
			continue
		}
		country := Country(d.IssuingCountry)
		if country == "" {
			country = Country(d.CountryOfIssue)
		}
		e.Identifiers = append(e.Identifiers, kycd.ListIdentifier{Type: documentType(d.Type + " " + d.Type2), Number: number, Country: country})
	}
	e.Programmes = addUnique(nil, clean(l.ListType))
	e.Remarks = clean(l.Comments)
	if on := clean(l.ListedOn); on != "" {
		if _, err := isoDate(on); err != nil {
			return e, fmt.Errorf("LISTED_ON: %w", err)
		}
		e.ListedOn = on[:10]
	}
	return e, nil
}

// date reads a date of birth; ok is false when none is stated.
func (b unBirthDate) date() (d kycd.ListDate, ok bool, err error) {
	typ := strings.ToUpper(clean(b.Type))
	date, year, from, to := clean(b.Date), clean(b.Year), clean(b.FromYear), clean(b.ToYear)
	switch {
	case from != "" || to != "" || typ == "BETWEEN":
		if d.Year, err = yearOf(from); err == nil {
			d.ToYear, err = yearOf(to)
		}
		if err == nil && d.ToYear == d.Year {
			d.ToYear = 0
		}
	case date != "":
		d, err = isoDate(date)
	case year != "":
		d.Year, err = yearOf(year)
	default:
		return d, false, nil
	}
	switch typ {
	case "APPROXIMATELY":
		d.Circa = true
	case "EXACT", "BETWEEN", "":
	default:
		return d, false, fmt.Errorf("TYPE_OF_DATE %q is not EXACT, APPROXIMATELY or BETWEEN", truncate(typ))
	}
	return d, err == nil, err
}

// isoDate reads YYYY-MM-DD (a trailing time or zone is tolerated). Errors of
// dates do not quote them (a date of birth is personal data).
func isoDate(s string) (kycd.ListDate, error) {
	if len(s) > 10 && (s[10] == 'T' || s[10] == '+' || s[10] == 'Z' || s[10] == '-') {
		s = s[:10]
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || !datePattern.MatchString(s) {
		return kycd.ListDate{}, fmt.Errorf("not a date YYYY-MM-DD")
	}
	return kycd.ListDate{Year: t.Year(), Month: int(t.Month()), Day: t.Day()}, nil
}

// yearOf reads a four-digit year.
func yearOf(s string) (int, error) {
	y, err := strconv.Atoi(s)
	if err != nil || len(s) != 4 {
		return 0, fmt.Errorf("not a four-digit year")
	}
	return y, nil
}

// String writes the place as "city, state, country".
func (p unPlace) String() string {
	var parts []string
	for _, s := range []string{p.City, p.State, p.Country} {
		if s = clean(s); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

// documentType maps a publisher's document type to ListIdentifier.Type.
func documentType(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "id" || strings.HasPrefix(s, "id "): // the EU export's identificationTypeCode
		return "national-id"
	case strings.Contains(s, "passport"):
		return "passport"
	case strings.Contains(s, "tax") || strings.Contains(s, "fiscal"):
		return "tax-id"
	case strings.Contains(s, "regist") || strings.Contains(s, "company") || strings.Contains(s, "business"):
		return "registration"
	case strings.Contains(s, "national") || strings.Contains(s, "identi") || strings.Contains(s, "id card") ||
		strings.Contains(s, "civil") || strings.Contains(s, "personal"):
		return "national-id"
	case strings.Contains(s, "driv"):
		return "driving-licence"
	}
	return "other"
}
