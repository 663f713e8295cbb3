// Package geo answers kycd's questions about countries, subdivisions and
// phone numbers from maintained libraries: ISO 3166 from biter777/countries,
// phone numbering plans from nyaruka/phonenumbers (libphonenumber's data).
package geo

import (
	"embed"
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/biter777/countries"
	"github.com/nyaruka/phonenumbers"

	"github.com/kycd/kycd"
)

//go:embed data/postal-codes.json
var data embed.FS

// Geo implements kycd.Geography.
type Geo struct {
	byCode   map[string]*Country
	list     []*Country
	postal   map[string]*regexp.Regexp
	noPostal []string
}

// anyPostalCode is the shape of a postal code of a country without a known
// format: letters, digits, spaces and hyphens, not at the edges.
var anyPostalCode = regexp.MustCompile(`^[A-Z0-9](?:[A-Z0-9 -]{0,18}[A-Z0-9])?$`)

var _ kycd.Geography = (*Geo)(nil)

// Country is a country as the Core API shows it.
type Country struct {
	Code         string        `json:"code"`
	Name         string        `json:"name"`
	Asset        string        `json:"asset"`
	Restrictions []Restriction `json:"restrictions"`
	Subdivisions []Subdivision `json:"subdivisions"`
}

// Subdivision is an ISO 3166-2 subdivision.
type Subdivision struct {
	Code         string        `json:"code"`
	Name         string        `json:"name"`
	Restrictions []Restriction `json:"restrictions"`
}

// Restriction limits what a country may be used for (citizenship,
// geolocation, phone, residence). Restrictions come from policy; none by default.
type Restriction struct {
	Scope string `json:"scope"`
}

// subdivisionRequired are the countries whose addresses must name a
// subdivision (state, province): those where the subdivision decides the
// applicable regulation.
var subdivisionRequired = map[string]bool{"US": true, "CA": true, "AU": true}

// New returns the ISO 3166 data, loaded once per process: a Geo is never
// changed once loaded, so every caller shares it (each command of the CLI,
// and each kycd a test starts, would otherwise group every subdivision and
// compile every postal-code pattern again).
func New() *Geo { return loaded() }

var loaded = sync.OnceValue(func() *Geo {
	g := &Geo{byCode: map[string]*Country{}}
	// One pass over every subdivision: the library's per-country lookup
	// groups all of them again at each call.
	subdivisions := countries.AllSubdivisionsByCountryCode()
	for _, c := range countries.All() {
		code := c.Alpha2()
		if !c.IsValid() || len(code) != 2 {
			continue
		}
		ct := &Country{Code: code, Name: c.String(), Asset: c.Currency().Alpha(), Restrictions: []Restriction{}, Subdivisions: []Subdivision{}}
		if ct.Asset == "" || ct.Asset == countries.UnknownMsg {
			ct.Asset = ""
		}
		for _, s := range subdivisions[c] {
			if !s.IsValid() {
				continue
			}
			ct.Subdivisions = append(ct.Subdivisions, Subdivision{Code: string(s), Name: s.String(), Restrictions: []Restriction{}})
		}
		sort.Slice(ct.Subdivisions, func(i, j int) bool { return ct.Subdivisions[i].Code < ct.Subdivisions[j].Code })
		g.byCode[code] = ct
		g.list = append(g.list, ct)
	}
	sort.Slice(g.list, func(i, j int) bool { return g.list[i].Code < g.list[j].Code })
	raw, err := data.ReadFile("data/postal-codes.json")
	if err != nil {
		panic(err)
	}
	var pc struct {
		Patterns      map[string]string `json:"patterns"`
		NoPostalCodes []string          `json:"noPostalCodes"`
	}
	if err := json.Unmarshal(raw, &pc); err != nil {
		panic("geo: postal-codes.json: " + err.Error())
	}
	g.postal = map[string]*regexp.Regexp{}
	for c, p := range pc.Patterns {
		g.postal[c] = regexp.MustCompile(`^(?:` + p + `)$`)
	}
	g.noPostal = pc.NoPostalCodes
	return g
})

// UsesPostalCodes implements kycd.Geography.
func (g *Geo) UsesPostalCodes(country string) bool { return !slices.Contains(g.noPostal, country) }

// IsValidPostalCode implements kycd.Geography: the code has the country's
// format (letters compared in upper case).
func (g *Geo) IsValidPostalCode(code, country string) bool {
	code = strings.ToUpper(code)
	if re, ok := g.postal[country]; ok {
		return re.MatchString(code)
	}
	return anyPostalCode.MatchString(code)
}

// Codes lists every country's alpha-2 code, in order.
func (g *Geo) Codes() []string {
	out := make([]string, len(g.list))
	for i, c := range g.list {
		out[i] = c.Code
	}
	return out
}

// Countries lists every country, by code.
func (g *Geo) Countries() []*Country { return g.list }

// Country returns a country by its alpha-2 code.
func (g *Geo) Country(code string) (*Country, bool) {
	c, ok := g.byCode[code]
	return c, ok
}

// IsCountry implements kycd.Geography.
func (g *Geo) IsCountry(code string) bool {
	_, ok := g.byCode[code]
	return ok
}

// IsSubdivisionOf implements kycd.Geography.
func (g *Geo) IsSubdivisionOf(code, country string) bool {
	c, ok := g.byCode[country]
	if !ok {
		return false
	}
	i := sort.Search(len(c.Subdivisions), func(i int) bool { return c.Subdivisions[i].Code >= code })
	return i < len(c.Subdivisions) && c.Subdivisions[i].Code == code
}

// RequiresSubdivision implements kycd.Geography.
func (g *Geo) RequiresSubdivision(country string) bool { return subdivisionRequired[country] }

// PhoneRegion returns the country of an international number (E.164,
// "+4915112345678") when it is a valid number there.
func (g *Geo) PhoneRegion(number string) (string, bool) {
	if !strings.HasPrefix(number, "+") {
		return "", false
	}
	n, err := phonenumbers.Parse(number, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", false
	}
	return phonenumbers.GetRegionCodeForNumber(n), true
}

// IsValidPhone implements kycd.Geography.
func (g *Geo) IsValidPhone(number, country string) bool {
	n, err := phonenumbers.Parse(number, country)
	if err != nil {
		return false
	}
	return phonenumbers.IsValidNumberForRegion(n, country)
}
