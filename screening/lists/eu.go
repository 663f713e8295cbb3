package lists

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kycd/kycd"
)

// euListing is a sanctionEntity of the EU Financial Sanctions Files export;
// elements and attributes not read are ignored.
type euListing struct {
	LogicalID  string         `xml:"logicalId,attr"`
	Reference  string         `xml:"euReferenceNumber,attr"`
	Designated string         `xml:"designationDate,attr"`
	Remark     []string       `xml:"remark"`
	Regulation []euRegulation `xml:"regulation"`
	Subject    struct {
		Code string `xml:"code,attr"`
	} `xml:"subjectType"`
	Names          []euName     `xml:"nameAlias"`
	Citizenships   []euCountry  `xml:"citizenship"`
	Births         []euBirth    `xml:"birthdate"`
	Identification []euIdentity `xml:"identification"`
	Addresses      []euCountry  `xml:"address"`
}

type euRegulation struct {
	Programme   string `xml:"programme,attr"`
	Publication string `xml:"publicationDate,attr"`
}

type euName struct {
	Whole  string `xml:"wholeName,attr"`
	First  string `xml:"firstName,attr"`
	Middle string `xml:"middleName,attr"`
	Last   string `xml:"lastName,attr"`
	Strong string `xml:"strong,attr"`
}

type euCountry struct {
	Code string `xml:"countryIso2Code,attr"`
}

type euBirth struct {
	Circa       string `xml:"circa,attr"`
	Date        string `xml:"birthdate,attr"`
	Day         string `xml:"dayOfMonth,attr"`
	Month       string `xml:"monthOfYear,attr"`
	Year        string `xml:"year,attr"`
	YearFrom    string `xml:"yearRangeFrom,attr"`
	YearTo      string `xml:"yearRangeTo,attr"`
	City        string `xml:"city,attr"`
	Place       string `xml:"place,attr"`
	Region      string `xml:"region,attr"`
	Country     string `xml:"countryDescription,attr"`
	CountryCode string `xml:"countryIso2Code,attr"`
}

type euIdentity struct {
	Number      string `xml:"number,attr"`
	TypeCode    string `xml:"identificationTypeCode,attr"`
	TypeDesc    string `xml:"identificationTypeDescription,attr"`
	CountryCode string `xml:"countryIso2Code,attr"`
}

// ParseEU reads the EU Financial Sanctions Files XML export (export /
// sanctionEntity). A listing's id is its logicalId; subjectType "person" is a
// person, "enterprise" an organization; each nameAlias is a name (wholeName,
// or firstName middleName lastName; strong="false" is weak); birthdate gives
// an exact date, a year (with its month), a range of years, circa;
// citizenship the nationalities, address the countries, regulation the
// programmes, identification the identifiers, remark the remarks.
func ParseEU(r io.Reader) ([]kycd.ListEntry, error) {
	x := newXMLReader(kycd.SourceEUFSF, r)
	ls := &listings{idName: "the logicalId"}
	err := x.walk("export", "no export element (empty or not the EU list)", func(start xml.StartElement) error {
		switch name := start.Name.Local; {
		case x.depth == 2 && name == "sanctionEntity":
			var l euListing
			if err := x.decode(&l, &start); err != nil {
				return err
			}
			e, err := l.entry()
			return x.add(ls, name, e, err)
		case x.depth == 2:
			// Other top-level elements of the export carry no listing.
			if err := x.dec.Skip(); err != nil {
				return x.fail(err, name)
			}
			return nil
		default:
			return x.invalid(ErrMalformed, name, "an element the EU export does not have here")
		}
	})
	if err != nil {
		return nil, err
	}
	return ls.entries, nil
}

// entry maps a sanctionEntity to a ListEntry.
func (l *euListing) entry() (kycd.ListEntry, error) {
	e := kycd.ListEntry{Source: kycd.SourceEUFSF, ID: clean(l.LogicalID)}
	if e.ID == "" {
		return e, fmt.Errorf("no logicalId")
	}
	switch code := clean(l.Subject.Code); code {
	case "person":
		e.Type = kycd.EntryPerson
	case "enterprise":
		e.Type = kycd.EntryOrganization
	default:
		return e, fmt.Errorf("subjectType %q is not person or enterprise", truncate(code))
	}
	for _, n := range l.Names {
		first, middle, last := clean(n.First), clean(n.Middle), clean(n.Last)
		full := clean(n.Whole)
		if full == "" {
			full = clean(strings.Join([]string{first, middle, last}, " "))
		}
		if full == "" {
			continue
		}
		kind := kycd.NameAlias
		if len(e.Names) == 0 {
			kind = kycd.NamePrimary
		}
		name := newName(full, kind, strings.EqualFold(clean(n.Strong), "false"))
		if e.Type == kycd.EntryPerson && last != "" {
			name.Given, name.Family = clean(first+" "+middle), last
		}
		e.Names = append(e.Names, name)
	}
	for _, c := range l.Citizenships {
		e.Nationalities = addUnique(e.Nationalities, euCountryCode(c.Code))
	}
	for _, a := range l.Addresses {
		e.Countries = addUnique(e.Countries, euCountryCode(a.Code))
	}
	for _, b := range l.Births {
		d, ok, err := b.date()
		if err != nil {
			return e, fmt.Errorf("birthdate: %w", err)
		}
		if ok {
			e.BirthDates = addDate(e.BirthDates, d)
		}
		var place []string
		for _, s := range []string{b.City, b.Place, b.Region, b.Country} {
			if s = clean(s); s != "" && !strings.EqualFold(s, "unknown") {
				place = append(place, s)
			}
		}
		e.BirthPlaces = addUnique(e.BirthPlaces, strings.Join(place, ", "))
	}
	for _, id := range l.Identification {
		number := clean(id.Number)
		if number == "" {
			continue
		}
		e.Identifiers = append(e.Identifiers, kycd.ListIdentifier{
			Type: documentType(id.TypeCode + " " + id.TypeDesc), Number: number, Country: euCountryCode(id.CountryCode),
		})
	}
	for _, reg := range l.Regulation {
		e.Programmes = addUnique(e.Programmes, clean(reg.Programme))
		if pub := clean(reg.Publication); e.ListedOn == "" && pub != "" {
			if _, err := isoDate(pub); err != nil {
				return e, fmt.Errorf("regulation publicationDate: %w", err)
			}
			e.ListedOn = pub[:10]
		}
	}
	if d := clean(l.Designated); d != "" {
		if _, err := isoDate(d); err != nil {
			return e, fmt.Errorf("designationDate: %w", err)
		}
		e.ListedOn = d[:10]
	}
	var remarks []string
	for _, r := range l.Remark {
		if r = clean(r); r != "" {
			remarks = append(remarks, r)
		}
	}
	e.Remarks = strings.Join(remarks, " ")
	return e, nil
}

// euCountryCode is an ISO alpha-2 code of the export, "" for none ("00" is
// the export's unknown country).
func euCountryCode(code string) string {
	code = strings.ToUpper(clean(code))
	if !ValidCountry(code) {
		return ""
	}
	return code
}

// date reads a birthdate element; ok is false when none is stated.
func (b euBirth) date() (d kycd.ListDate, ok bool, err error) {
	num := func(s string) (int, error) {
		if s = clean(s); s == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || len(s) > 4 {
			return 0, fmt.Errorf("a day or month is not a number")
		}
		return n, nil
	}
	switch {
	case clean(b.Date) != "":
		d, err = isoDate(clean(b.Date))
	case clean(b.YearFrom) != "" || clean(b.YearTo) != "":
		if d.Year, err = yearOf(clean(b.YearFrom)); err == nil {
			d.ToYear, err = yearOf(clean(b.YearTo))
		}
		if err == nil && d.ToYear == d.Year {
			d.ToYear = 0
		}
	case clean(b.Year) != "":
		if d.Year, err = yearOf(clean(b.Year)); err == nil {
			if d.Month, err = num(b.Month); err == nil {
				d.Day, err = num(b.Day)
			}
		}
	default:
		return d, false, nil
	}
	if err != nil {
		return d, false, err
	}
	d.Circa = strings.EqualFold(clean(b.Circa), "true")
	return d, true, nil
}
