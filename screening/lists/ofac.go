package lists

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/kycd/kycd"
)

// The files of OFAC's legacy CSV set; each may also be gzip-compressed
// ("sdn.csv.gz"). sdn_comments.csv is optional (older sets lack it).
const (
	ofacSDN      = "sdn.csv"
	ofacAlt      = "alt.csv"
	ofacAdd      = "add.csv"
	ofacComments = "sdn_comments.csv"
)

// ofacEmpty is the legacy CSV's empty value.
const ofacEmpty = "-0-"

// ofacListing is a listing being read, its remarks parsed once complete.
type ofacListing struct {
	entry   kycd.ListEntry
	remarks string          // from sdn.csv
	more    strings.Builder // the continuation from sdn_comments.csv
	line    int
}

// ParseOFAC reads OFAC's legacy SDN CSV set from fsys: sdn.csv (ent_num,
// SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT,
// Vess_flag, Vess_owner, Remarks), alt.csv (ent_num, alt_num, alt_type,
// alt_name, alt_remarks), add.csv (ent_num, add_num, address,
// city/state/postal, country, add_remarks) and sdn_comments.csv (ent_num,
// the remarks' continuation). No header; "-0- " is empty.
//
// The id is the ent_num; SDN_Type individual, vessel, aircraft or empty
// (organization) the type; Program's "[SDGT] [IRGC]" the programmes. Names:
// SDN_Name, each alt.csv alias (aka, fka, nka), and the remarks' weak
// a.k.a.s in single quotes. From the remarks: DOB (exact, year, month and
// year, ranges, circa), POB, nationality and citizen, and identifiers
// (passports, national ids, tax ids, registrations, IMO, ...). Countries are
// the addresses' countries; a vessel's flag is its nationality.
func ParseOFAC(fsys fs.FS) ([]kycd.ListEntry, error) {
	var listings []*ofacListing
	byID := map[string]*ofacListing{}
	err := readOFAC(fsys, ofacSDN, 12, true, func(rec []string, line int) error {
		l, err := ofacEntry(rec)
		if err != nil {
			return err
		}
		if byID[l.entry.ID] != nil {
			return fmt.Errorf("%w: ent_num %s is already listed", ErrDuplicate, l.entry.ID)
		}
		if len(listings) >= MaxEntries {
			return fmt.Errorf("%w: more than %d listings", ErrLimit, MaxEntries)
		}
		l.line = line
		byID[l.entry.ID] = l
		listings = append(listings, l)
		return nil
	})
	if err != nil {
		return nil, err
	}
	listing := func(rec []string) (*ofacListing, error) {
		l := byID[strings.TrimSpace(rec[0])]
		if l == nil {
			return nil, fmt.Errorf("%w: ent_num %q is not in sdn.csv", ErrInvalid, truncate(strings.TrimSpace(rec[0])))
		}
		return l, nil
	}
	err = readOFAC(fsys, ofacComments, 2, false, func(rec []string, _ int) error {
		l, err := listing(rec)
		if err != nil {
			return err
		}
		if c := ofacValue(rec[1]); c != "" {
			if len(l.remarks)+l.more.Len()+len(c) > MaxRemarksBytes {
				return fmt.Errorf("%w: remarks of ent_num %s longer than %d bytes", ErrLimit, l.entry.ID, MaxRemarksBytes)
			}
			l.more.WriteString(c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = readOFAC(fsys, ofacAlt, 5, true, func(rec []string, _ int) error {
		l, err := listing(rec)
		if err != nil {
			return err
		}
		name := clean(ofacValue(rec[3]))
		if name == "" {
			return nil
		}
		kind := strings.ToLower(ofacValue(rec[2]))
		switch kind {
		case "aka", "a.k.a.":
			kind = kycd.NameAlias
		case "fka", "f.k.a.":
			kind = kycd.NameFormer
		case "nka", "n.k.a.":
			kind = kycd.NameNow
		default:
			return fmt.Errorf("%w: alt_type %q is not aka, fka or nka", ErrInvalid, truncate(kind))
		}
		if len(l.entry.Names) >= MaxItems {
			return fmt.Errorf("%w: more than %d names for ent_num %s", ErrLimit, MaxItems, l.entry.ID)
		}
		l.entry.Names = append(l.entry.Names, ofacName(l.entry.Type, name, kind, false))
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = readOFAC(fsys, ofacAdd, 6, true, func(rec []string, _ int) error {
		l, err := listing(rec)
		if err != nil {
			return err
		}
		l.entry.Countries = addUnique(l.entry.Countries, Country(ofacValue(rec[4])))
		return nil
	})
	if err != nil {
		return nil, err
	}
	entries := make([]kycd.ListEntry, 0, len(listings))
	for _, l := range listings {
		l.parseRemarks()
		if err := Validate(l.entry); err != nil {
			return nil, &Error{Format: kycd.SourceOFACSDN, File: ofacSDN, Line: l.line, Element: "ent_num " + l.entry.ID, Kind: ErrInvalid, Msg: err.Error()}
		}
		entries = append(entries, l.entry)
	}
	return entries, nil
}

// readOFAC reads one CSV file of the set, record by record, with fields
// fields each; a missing optional file is no error.
func readOFAC(fsys fs.FS, name string, fields int, required bool, fn func(rec []string, line int) error) error {
	fail := func(line int, kind error, msg string) error {
		return &Error{Format: kycd.SourceOFACSDN, File: name, Line: line, Kind: kind, Msg: msg}
	}
	open := name
	f, err := fsys.Open(open)
	if errors.Is(err, fs.ErrNotExist) {
		open += ".gz"
		f, err = fsys.Open(open)
	}
	if errors.Is(err, fs.ErrNotExist) {
		if required {
			return fail(0, ErrMalformed, "the file is missing from the set")
		}
		return nil
	}
	if err != nil {
		return fail(0, ErrMalformed, err.Error())
	}
	defer f.Close()
	r, err := maybeGunzip(f, open)
	if err != nil {
		return fail(0, ErrMalformed, err.Error())
	}
	lim := newLimitReader(r, MaxRecordBytes+64<<10)
	cr := csv.NewReader(lim)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	eof := false
	line := 0
	for {
		lim.reset()
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			line++ // about: the line after the last record read
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
				if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
					return fail(line, ErrMalformed, pe.Err.Error()+" (malformed or truncated)")
				}
				err = pe.Err
			}
			return fail(line, limitKind(err), err.Error())
		}
		line, _ = cr.FieldPos(0)
		// The legacy files end with a DOS end-of-file mark (0x1A).
		if eof || strings.HasPrefix(rec[0], "\x1a") {
			if eof || len(rec) != 1 || strings.TrimSpace(rec[0]) != "\x1a" {
				return fail(line, ErrMalformed, "data after the end-of-file mark (0x1A)")
			}
			eof = true
			continue
		}
		if len(rec) != fields {
			return fail(line, ErrMalformed, fmt.Sprintf("%d fields instead of %d (malformed or truncated)", len(rec), fields))
		}
		if err := fn(rec, line); err != nil {
			var kind error = ErrInvalid
			for _, k := range []error{ErrDuplicate, ErrLimit, ErrInvalid} {
				if errors.Is(err, k) {
					kind = k
					break
				}
			}
			return fail(line, kind, strings.TrimPrefix(err.Error(), kind.Error()+": "))
		}
	}
}

// ofacValue is a field without the "-0-" empty marker, trimmed.
func ofacValue(s string) string {
	s = strings.TrimSpace(s)
	if s == ofacEmpty {
		return ""
	}
	return s
}

// ofacEntry reads one sdn.csv record.
func ofacEntry(rec []string) (*ofacListing, error) {
	id := ofacValue(rec[0])
	if _, err := strconv.ParseUint(id, 10, 63); err != nil {
		return nil, fmt.Errorf("%w: ent_num %q is not a number", ErrInvalid, truncate(id))
	}
	e := kycd.ListEntry{Source: kycd.SourceOFACSDN, ID: id}
	switch t := strings.ToLower(ofacValue(rec[2])); t {
	case "individual":
		e.Type = kycd.EntryPerson
	case "vessel":
		e.Type = kycd.EntryVessel
	case "aircraft":
		e.Type = kycd.EntryAircraft
	case "":
		e.Type = kycd.EntryOrganization
	default:
		return nil, fmt.Errorf("%w: SDN_Type %q is not individual, vessel, aircraft or empty", ErrInvalid, truncate(t))
	}
	name := clean(ofacValue(rec[1]))
	if name == "" {
		return nil, fmt.Errorf("%w: ent_num %s has no SDN_Name", ErrInvalid, id)
	}
	e.Names = []kycd.ListName{ofacName(e.Type, name, kycd.NamePrimary, false)}
	for p := range strings.SplitSeq(ofacValue(rec[3]), "] [") {
		e.Programmes = addUnique(e.Programmes, clean(strings.Trim(p, "[] ")))
	}
	if cs := clean(ofacValue(rec[5])); cs != "" {
		e.Identifiers = append(e.Identifiers, kycd.ListIdentifier{Type: "call-sign", Number: cs})
	}
	e.Nationalities = addUnique(e.Nationalities, Country(ofacValue(rec[9])))
	return &ofacListing{entry: e, remarks: ofacValue(rec[11])}, nil
}

// ofacName makes a name; a person's "LAST, First" gives its family and given
// names.
func ofacName(typ, full, kind string, weak bool) kycd.ListName {
	n := newName(full, kind, weak)
	if typ == kycd.EntryPerson {
		if last, first, ok := strings.Cut(n.Full, ", "); ok && last != "" && first != "" {
			n.Family, n.Given = last, first
		}
	}
	return n
}

// parseRemarks reads the remarks' parts ("DOB 14 Jun 1975; POB Cairo,
// Egypt; a.k.a. 'X'; Passport 123 (Egypt)") into the entry; the remarks are
// kept whole.
func (l *ofacListing) parseRemarks() {
	e := &l.entry
	e.Remarks = clean(l.remarks + l.more.String())
	if len(e.Remarks) > MaxRemarksBytes {
		return // Validate refuses it
	}
	for _, part := range splitRemarks(e.Remarks) {
		part = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(part, "alt. "), "Alt. "))
		switch {
		case strings.HasPrefix(part, "DOB "):
			if d, ok := ofacDate(part[4:]); ok {
				e.BirthDates = addDate(e.BirthDates, d)
			}
		case strings.HasPrefix(part, "POB "):
			e.BirthPlaces = addUnique(e.BirthPlaces, clean(strings.TrimSuffix(part[4:], ".")))
		case strings.HasPrefix(part, "nationality ") || strings.HasPrefix(part, "nationality: ") ||
			strings.HasPrefix(part, "citizen "):
			_, c, _ := strings.Cut(part, " ")
			c = strings.TrimPrefix(strings.TrimSpace(c), "possibly ")
			e.Nationalities = addUnique(e.Nationalities, Country(c))
		case strings.HasPrefix(part, "a.k.a. "), strings.HasPrefix(part, "f.k.a. "), strings.HasPrefix(part, "n.k.a. "):
			kind := map[byte]string{'a': kycd.NameAlias, 'f': kycd.NameFormer, 'n': kycd.NameNow}[part[0]]
			name := strings.TrimSpace(part[7:])
			if len(name) >= 2 && name[0] == '\'' {
				if end := strings.LastIndexByte(name, '\''); end > 0 {
					name = name[1:end]
				}
			}
			if name = clean(name); name != "" && hasLetterOrDigit(name) && len(e.Names) <= MaxItems {
				e.Names = append(e.Names, ofacName(e.Type, name, kind, true))
			}
		default:
			if id, ok := ofacIdentifier(part); ok && len(e.Identifiers) <= MaxItems {
				e.Identifiers = append(e.Identifiers, id)
			}
		}
	}
}

// splitRemarks splits remarks at "; " (and ";" not inside a quoted name),
// dropping the final period.
func splitRemarks(s string) []string {
	s = strings.TrimSuffix(s, ".")
	var parts []string
	for p := range strings.SplitSeq(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, strings.TrimSuffix(p, "."))
		}
	}
	return parts
}

var months = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}

// ofacDay reads "14 Jun 1975", "Jun 1975" or "1975".
func ofacDay(s string) (kycd.ListDate, bool) {
	var d kycd.ListDate
	f := strings.Fields(s)
	if len(f) == 0 || len(f) > 3 {
		return d, false
	}
	y, err := yearOf(f[len(f)-1])
	if err != nil {
		return d, false
	}
	d.Year = y
	if len(f) >= 2 {
		m, ok := months[strings.ToLower(f[len(f)-2])]
		if !ok {
			return d, false
		}
		d.Month = m
	}
	if len(f) == 3 {
		day, err := strconv.Atoi(f[0])
		if err != nil || day < 1 || day > 31 {
			return d, false
		}
		d.Day = day
	}
	return d, true
}

// ofacDate reads a DOB: "14 Jun 1975", "Jun 1975", "1975", "1958 to 1963",
// "01 Jan 1958 to 31 Dec 1963", "circa 1955", "circa 1955-1957". A date that
// cannot be read is left to the remarks.
func ofacDate(s string) (kycd.ListDate, bool) {
	s = strings.TrimSpace(s)
	circa := false
	if rest, ok := strings.CutPrefix(s, "circa "); ok {
		s, circa = strings.TrimSpace(rest), true
	}
	from, to, isRange := strings.Cut(s, " to ")
	if !isRange && len(s) == 9 && s[4] == '-' {
		from, to, isRange = s[:4], s[5:], true
	}
	d, ok := ofacDay(from)
	if !ok {
		return d, false
	}
	d.Circa = circa
	if !isRange {
		return d, true
	}
	t, ok := ofacDay(to)
	if !ok || t.Year < d.Year {
		return d, false
	}
	switch {
	case t.Year > d.Year:
		return kycd.ListDate{Year: d.Year, ToYear: t.Year, Circa: circa}, true
	case t == d:
		return d, true
	case t.Month == d.Month:
		return kycd.ListDate{Year: d.Year, Month: d.Month, Circa: circa}, true
	}
	return kycd.ListDate{Year: d.Year, Circa: circa}, true
}

// ofacIDLabels maps the remarks' identifier labels to identifier types,
// longest first where one is a prefix of another.
var ofacIDLabels = []struct{ label, typ string }{
	{"British National Overseas Passport", "passport"},
	{"Diplomatic Passport", "passport"},
	{"Passport Booklet:", "passport"},
	{"Passport Booklet", "passport"},
	{"Passport", "passport"},
	{"Travel Document Number", "passport"},
	{"National Foreign ID Number", "national-id"},
	{"National ID No.", "national-id"},
	{"Tazkira National ID Card", "national-id"},
	{"Cedula No.", "national-id"},
	{"D.N.I.", "national-id"},
	{"N.I.E.", "national-id"},
	{"C.U.R.P. #", "national-id"},
	{"C.U.R.P.", "national-id"},
	{"C.U.I.P.", "national-id"},
	{"Identification Number IMO", "imo"},
	{"Identification Number", "national-id"},
	{"Personal ID Card", "national-id"},
	{"Turkish Identification Number", "national-id"},
	{"Citizen's Card Number", "national-id"},
	{"Kenyan ID No.", "national-id"},
	{"Moroccan Personal ID No.", "national-id"},
	{"Bosnian Personal ID No.", "national-id"},
	{"Numero de Identidad", "national-id"},
	{"Electoral Registry No.", "national-id"},
	{"Credencial electoral", "national-id"},
	{"I.F.E.", "national-id"},
	{"LE Number", "national-id"},
	{"SSN", "national-id"},
	{"Residency Number", "national-id"},
	{"Birth Certificate Number", "national-id"},
	{"Public Security and Immigration No.", "national-id"},
	{"Immigration No.", "national-id"},
	{"Cartilla de Servicio Militar Nacional", "national-id"},
	{"C.U.I.", "national-id"},
	{"VisaNumberID", "national-id"},
	{"Driver's License No.", "driving-licence"},
	{"Pilot License Number", "licence"},
	{"Tax ID No.", "tax-id"},
	{"R.F.C. #", "tax-id"},
	{"R.F.C.", "tax-id"},
	{"RFC", "tax-id"},
	{"NIT #", "tax-id"},
	{"RUC #", "tax-id"},
	{"RIF #", "tax-id"},
	{"RTN", "tax-id"},
	{"C.U.I.T.", "tax-id"},
	{"C.I.F.", "tax-id"},
	{"V.A.T. Number", "tax-id"},
	{"US FEIN", "tax-id"},
	{"Italian Fiscal Code:", "tax-id"},
	{"Italian Fiscal Code", "tax-id"},
	{"Paraguayan tax identification number", "tax-id"},
	{"Numero Unico de Identificacao Tributaria (NUIT)", "tax-id"},
	{"Vessel Registration Identification IMO", "imo"},
	{"Company Number IMO", "imo"},
	{"MMSI", "mmsi"},
	{"Registration Number", "registration"},
	{"Registration ID", "registration"},
	{"Public Registration Number", "registration"},
	{"Business Registration Number", "registration"},
	{"Business Registration Document #", "registration"},
	{"Business Number", "registration"},
	{"Government Gazette Number", "registration"},
	{"UK Company Number", "registration"},
	{"Company Number", "registration"},
	{"Commercial Registry Number", "registration"},
	{"Folio Mercantil No.", "registration"},
	{"Matricula Mercantil No", "registration"},
	{"C.R. No.", "registration"},
	{"Trade License No.", "registration"},
	{"Chamber of Commerce Number", "registration"},
	{"Dubai Chamber of Commerce Membership No.", "registration"},
	{"Certificate of Incorporation Number", "registration"},
	{"Legal Entity Number", "registration"},
	{"Enterprise Number", "registration"},
	{"Branch Unit Number", "registration"},
	{"Registered Charity No.", "registration"},
	{"United Social Credit Code Certificate (USCCC)", "registration"},
	{"Unified Social Credit Code (USCC)", "registration"},
	{"Afghan Money Service Provider License Number", "licence"},
	{"D-U-N-S Number", "duns"},
	{"SWIFT/BIC", "swift-bic"},
	{"BIK (RU)", "bik"},
	{"Aircraft Manufacturer's Serial Number (MSN)", "aircraft-serial"},
	{"Aircraft Construction Number (also called L/N or S/N or F/N)", "aircraft-serial"},
	{"Aircraft Serial Identification", "aircraft-serial"},
	{"Aircraft Tail Number", "aircraft-tail"},
	{"Aircraft Mode S Transponder Code", "aircraft-mode-s"},
	{"Email Address", "email"},
	{"Website", "website"},
	{"Digital Currency Address -", "digital-currency-address"},
}

// ofacLabelsByWord indexes ofacIDLabels by their first word, in order.
var ofacLabelsByWord = sync.OnceValue(func() map[string][]struct{ label, typ string } {
	m := map[string][]struct{ label, typ string }{}
	for _, l := range ofacIDLabels {
		first, _, _ := strings.Cut(l.label, " ")
		m[first] = append(m[first], l)
	}
	return m
})

// ofacTrailer strips "issued ..." and "expires ..." from an identifier.
var ofacTrailer = regexp.MustCompile(`(^|\s+)(issued|expires)\b.*$`)

// ofacIdentifier reads an identifier remark: "LABEL NUMBER (Country)
// issued ... expires ...".
func ofacIdentifier(part string) (kycd.ListIdentifier, bool) {
	first, _, _ := strings.Cut(part, " ")
	for _, l := range ofacLabelsByWord()[first] {
		rest, ok := strings.CutPrefix(part, l.label)
		if !ok || (rest != "" && rest[0] != ' ' && !strings.HasSuffix(l.label, "-")) {
			continue
		}
		rest = strings.TrimSpace(rest)
		if strings.Contains(rest, "issued") || strings.Contains(rest, "expires") {
			rest = ofacTrailer.ReplaceAllString(rest, "")
		}
		id := kycd.ListIdentifier{Type: l.typ}
		if strings.HasSuffix(rest, ")") {
			if i := strings.LastIndex(rest, " ("); i > 0 {
				if c := Country(rest[i+2 : len(rest)-1]); c != "" {
					id.Country, rest = c, rest[:i]
				}
			}
		}
		if l.typ == "digital-currency-address" {
			// "XBT 1Kuf2..." : the currency, then the address.
			if _, addr, ok := strings.Cut(strings.TrimSpace(rest), " "); ok {
				rest = addr
			}
		}
		id.Number = clean(strings.TrimPrefix(strings.TrimSpace(rest), "# "))
		if id.Number == "" || !hasLetterOrDigit(id.Number) || len(id.Number) > MaxFieldBytes {
			return id, false
		}
		return id, true
	}
	return kycd.ListIdentifier{}, false
}
