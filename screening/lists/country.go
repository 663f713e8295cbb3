package lists

import (
	"strings"
	"sync"

	"github.com/biter777/countries"
)

// countryNames maps the lists' country names and demonyms (lower case, as
// the publishers write them) to ISO 3166-1 alpha-2 codes, beyond the names
// biter777/countries knows. A name found in neither is left out of
// nationalities and countries (it stays in the remarks), never guessed.
var countryNames = map[string]string{
	"korea, north": "KP", "north korea": "KP", "democratic people's republic of korea": "KP",
	"korea, south": "KR", "south korea": "KR", "republic of korea": "KR",
	"congo, democratic republic of the": "CD", "democratic republic of the congo": "CD",
	"congo, republic of the": "CG", "republic of the congo": "CG", "congo": "CG",
	"burma": "MM", "myanmar": "MM", "libya": "LY", "libyan arab jamahiriya": "LY", "russia": "RU", "russian federation": "RU",
	"iran": "IR", "iran (islamic republic of)": "IR", "syria": "SY", "syrian arab republic": "SY",
	"the gambia": "GM", "gambia": "GM", "bahamas, the": "BS", "the bahamas": "BS",
	"tanzania": "TZ", "united republic of tanzania": "TZ",
	"palestinian": "PS", "palestinian authority": "PS", "state of palestine": "PS", "palestine": "PS",
	"west bank": "PS", "gaza": "PS", "region: gaza": "PS",
	"kosovo": "XK", "taiwan": "TW", "cabo verde": "CV", "cape verde": "CV",
	"macedonia, the former yugoslav republic of": "MK", "north macedonia": "MK",
	"the former yugoslav republic of macedonia": "MK",
	"cote d ivoire": "CI", "cote d'ivoire": "CI", "côte d'ivoire": "CI", "ivory coast": "CI",
	"viet nam": "VN", "vietnam": "VN", "laos": "LA", "lao people's democratic republic": "LA",
	"turkey": "TR", "türkiye": "TR", "turkiye": "TR",
	"united states": "US", "united states of america": "US", "usa": "US",
	"united kingdom": "GB", "united kingdom of great britain and northern ireland": "GB",
	"czech republic": "CZ", "czechia": "CZ", "macau": "MO", "macao": "MO", "brunei": "BN",
	"moldova": "MD", "republic of moldova": "MD", "bolivia": "BO", "venezuela": "VE",
	"virgin islands, british": "VG", "british virgin islands": "VG", "hong kong": "HK",
	"guinea-bissau": "GW", "eswatini": "SZ", "swaziland": "SZ", "holy see": "VA",
	"eritrean": "ER", "sudanese": "SD", "syrian": "SY", "iraqi": "IQ", "iranian": "IR", "afghan": "AF",
	"pakistani": "PK", "saudi": "SA", "yemeni": "YE", "libyan": "LY", "egyptian": "EG", "somali": "SO",
	"lebanese": "LB", "jordanian": "JO", "russian": "RU", "chinese": "CN", "north korean": "KP",
}

var (
	countryOnce   sync.Once
	countryByName map[string]string
	countryCodes  map[string]bool
)

func loadCountries() {
	countryByName = map[string]string{}
	countryCodes = map[string]bool{"XK": true}
	for _, c := range countries.All() {
		code := c.Alpha2()
		if !c.IsValid() || len(code) != 2 {
			continue
		}
		countryCodes[code] = true
		countryByName[strings.ToLower(c.String())] = code
		countryByName[strings.ToLower(c.Info().Name)] = code
	}
	for name, code := range countryNames {
		countryByName[name] = code
	}
}

// Country returns the ISO 3166-1 alpha-2 code of a country name or demonym
// as the lists write it ("Korea, North", "Iran (Islamic Republic of)",
// "Palestinian"), or "" when it is not one.
func Country(name string) string {
	countryOnce.Do(loadCountries)
	name = strings.ToLower(clean(name))
	name = strings.TrimSuffix(name, ".")
	return countryByName[name]
}

// ValidCountry reports whether code is an assigned ISO 3166-1 alpha-2 code
// (or XK, Kosovo's user-assigned code the lists use).
func ValidCountry(code string) bool {
	countryOnce.Do(loadCountries)
	return countryCodes[code]
}
