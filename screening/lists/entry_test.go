package lists

import (
	"testing"

	"github.com/kycd/kycd"
)

func TestOFACDate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want kycd.ListDate
		ok   bool
	}{
		{"14 Jun 1975", kycd.ListDate{Year: 1975, Month: 6, Day: 14}, true},
		{"1975", kycd.ListDate{Year: 1975}, true},
		{"Jun 1975", kycd.ListDate{Year: 1975, Month: 6}, true},
		{"1958 to 1963", kycd.ListDate{Year: 1958, ToYear: 1963}, true},
		{"01 Jan 1958 to 31 Dec 1963", kycd.ListDate{Year: 1958, ToYear: 1963}, true},
		{"01 Sep 1975 to 31 Dec 1975", kycd.ListDate{Year: 1975}, true},
		{"01 Mar 1975 to 31 Mar 1975", kycd.ListDate{Year: 1975, Month: 3}, true},
		{"12 Jan 1970 to 12 Jan 1970", kycd.ListDate{Year: 1970, Month: 1, Day: 12}, true},
		{"Mar 1964 to Feb 1965", kycd.ListDate{Year: 1964, ToYear: 1965}, true},
		{"circa 1955", kycd.ListDate{Year: 1955, Circa: true}, true},
		{"circa 01 Jan 1960", kycd.ListDate{Year: 1960, Month: 1, Day: 1, Circa: true}, true},
		{"circa 1979-1982", kycd.ListDate{Year: 1979, ToYear: 1982, Circa: true}, true},
		{"1963 to 1958", kycd.ListDate{}, false},
		{"32 Jan 1970", kycd.ListDate{}, false},
		{"14 Juin 1975", kycd.ListDate{}, false},
		{"75", kycd.ListDate{}, false},
		{"", kycd.ListDate{}, false},
	} {
		got, ok := ofacDate(c.in)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("ofacDate(%q) = %+v, %v; want %+v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestScript(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Vladimir PUTIN":        "",
		"José Muñoz":            "",
		"Владимир ПУТИН":        "Cyrl",
		"صدام حسين التكريتي":    "Arab",
		"朝鲜联合机械贸易会社":            "Hani",
		"김정은":                   "Hang",
		"金正恩 김정은":               "Kore",
		"やまだ 太郎":                "Jpan",
		"Αλέξης":                "Grek",
		"Tango Романов":         "Cyrl",
		"OOO Ромашка Trade LLC": "",
		"1234":                  "",
	} {
		if got := Script(in); got != want {
			t.Errorf("Script(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"  Abu \t Bakr\r\n":    "Abu Bakr",
		"Abu Bakr":             "Abu Bakr",
		"MU\xd1OZ":             "MUÑOZ",
		"a\u00a0b":             "a b",
		"":                     "",
		" \n ":                 "",
		"AL-QA'QA'":            "AL-QA'QA'",
		"Forces Démocratiques": "Forces Démocratiques",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
		if got := clean(in); !isClean(got) {
			t.Errorf("clean(%q) = %q is not clean", in, got)
		}
	}
}

func TestCountry(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Korea, North": "KP", "Democratic People's Republic of Korea": "KP", "Iran (Islamic Republic of)": "IR",
		"Congo, Democratic Republic of the": "CD", "Russian Federation": "RU", "Burma": "MM", "Libya": "LY",
		"United Kingdom of Great Britain and Northern Ireland": "GB", "Türkiye": "TR", "Palestinian": "PS",
		"Germany": "DE", "germany": "DE", "Mexico.": "MX", "Kosovo": "XK",
		"Mr": "", "na": "", "former Soviet Union": "", "": "", "Colonel": "",
	} {
		if got := Country(in); got != want {
			t.Errorf("Country(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOFACIdentifier(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]kycd.ListIdentifier{
		"Passport 1084010 (Egypt)":                                          {Type: "passport", Number: "1084010", Country: "EG"},
		"Passport L 191609 issued 28 Feb 1996 expires 27 Feb 2001":          {Type: "passport", Number: "L 191609"},
		"C.U.R.P. AIMM67125HCHRRG06 (Mexico) issued 1968":                   {Type: "national-id", Number: "AIMM67125HCHRRG06", Country: "MX"},
		"C.U.I.T. 30-68074603-2 (Argentina)":                                {Type: "tax-id", Number: "30-68074603-2", Country: "AR"},
		"C.U.I. 1995739560513 (Guatemala)":                                  {Type: "national-id", Number: "1995739560513", Country: "GT"},
		"Identification Number IMO 5342883":                                 {Type: "imo", Number: "5342883"},
		"Digital Currency Address - XBT 12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h": {Type: "digital-currency-address", Number: "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h"},
		"Business Registration Document # F01000003035 (United States)":     {Type: "registration", Number: "F01000003035", Country: "US"},
		"Registration Number 121398 (Manizales)":                            {Type: "registration", Number: "121398 (Manizales)"},
		"Passport issued in Sarajevo, Bosnia-Herzegovina":                   {},
		"Gender Male":      {},
		"Linked To: HAMAS": {},
	} {
		got, ok := ofacIdentifier(in)
		if ok != (want != kycd.ListIdentifier{}) || (ok && got != want) {
			t.Errorf("ofacIdentifier(%q) = %+v, %v; want %+v", in, got, ok, want)
		}
	}
}

func TestDocumentType(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Passport ": "passport", "National Identification Number FARDC ID": "national-id", "id ": "national-id",
		"id National identification card": "national-id", "passport Diplomatic passport": "passport",
		"Tax Identification Number": "tax-id", "Company registration": "registration", "Driving licence": "driving-licence",
		"Other": "other",
	} {
		if got := documentType(in); got != want {
			t.Errorf("documentType(%q) = %q, want %q", in, got, want)
		}
	}
}
