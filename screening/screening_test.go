package screening

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kycd/kycd"
)

func TestParts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, want string }{
		{"KIM, Jong Un", "jong un kim"},
		{"Kim Jong-un", "kim jong un"},
		{"José María Aznar-López", "jose maria aznar lopez"},
		{"Dr. Ayman AL-ZAWAHIRI", "ayman al zawahiri"},
		{"Sheikh Haji Mohammed", "mohammed"},
		{"O'Brien, Seán", "sean obrien"},
		{"Abdulrahman", "abd rahman"},
		{"Abd al-Rahman", "abd al rahman"},
		{"Abdurrahman", "abd rahman"},
		{"ESSABAR, Zakarya", "zakarya essabar"},
		{"Zia-ur-Rahman", "zia ur rahman"},
		{"CIMEX, S.A.", "cimex s a"},
		{"Straße Łódź Øresund", "strasse lodz oresund"},
		{"Умаров Доку Хаматович", "umarov doku khamatovich"},
		{"Евгений Пригожин", "yevgeniy prigozhin"},
		{"Αλέξης Τσίπρας", "alexis tsipras"},
		{"صدام حسين التكريتي", "sdam hsyn al tkryty"},
		{"نورالدين", "nwr al dyn"},
		{"ﺻﺍﻠﺡ", "salh"},
		{"김정은", "gim jeongeun"},
		{"习近平", "xi jinping"},
	} {
		var got []string
		for _, p := range splitParts(tc.name) {
			got = append(got, p.fold)
		}
		if s := strings.Join(got, " "); s != tc.want {
			t.Errorf("parts of %q: %q, want %q", tc.name, s, tc.want)
		}
	}
}

func TestCanonical(t *testing.T) {
	t.Parallel()
	// Each group is one name in several romanisations: their canonical
	// spellings agree.
	for _, group := range [][]string{
		{"Mohammed", "Muhammad", "Mohamad", "Mehmet"},
		{"Qaddafi", "Gaddafi", "Kadhafi"},
		{"Yevgeny", "Evgeniy", "Evgenii"},
		{"Osama", "Usama"},
		{"Hossein", "Husain", "Hussein"},
		{"Javad", "Jawad"},
		{"Zhang", "Chang"},
		{"Xi", "Hsi"},
		{"Park", "Pak"},
	} {
		want := canonical(strings.ToLower(group[0]))
		for _, n := range group[1:] {
			if got := canonical(strings.ToLower(n)); got != want {
				t.Errorf("canonical(%s) = %q, canonical(%s) = %q", group[0], want, n, got)
			}
		}
	}
}

func TestCompareSpellings(t *testing.T) {
	t.Parallel()
	sp := func(s string) spelling {
		p := splitParts(s)
		if len(p) != 1 {
			t.Fatalf("%q is %d parts", s, len(p))
		}
		return p[0].spelling
	}
	for _, tc := range []struct {
		a, b string
		kind string
		min  float64
	}{
		{"MOHAMMED", "Mohammed", pairExact, 1},
		{"Mohammed", "Muhammad", pairTransliteration, 0.9},
		{"Kyong", "Gyeong", pairTransliteration, 0.9},
		{"Bak", "Pak", pairTransliteration, 0.9},
		{"Ivanov", "Ivanoff", pairTypo, 0.85},
		{"Aleksandr", "Alexander", pairTypo, 0.9},
		{"حسين", "Hussein", pairPhonetic, 0.95},
		{"ثاقب", "Saqib", pairPhonetic, 0.95}, // tha read as s
		{"كاظم", "Kathim", pairPhonetic, 0.95},
		{"عكاشة", "Akkacha", pairPhonetic, 0.95}, // shin read as the French ch
		{"صبار", "Essabar", pairPhonetic, 0.95},  // the article assimilated in Latin
		{"Mughniyeh", "Mguhniyeh", pairTypo, 0.9},
	} {
		a, b := sp(tc.a), sp(tc.b)
		s, kind := compareSpellings(&a, &b)
		if kind != tc.kind || s < tc.min {
			t.Errorf("%s ~ %s: %.2f (%s), want at least %.2f (%s)", tc.a, tc.b, s, kind, tc.min, tc.kind)
		}
	}
	// Different names stay apart.
	for _, tc := range [][2]string{{"Karl", "Carol"}, {"Hassan", "Hossein"}, {"Jabir", "Jabi"}, {"Qing", "Guoying"}} {
		a, b := sp(tc[0]), sp(tc[1])
		if s, kind := compareSpellings(&a, &b); s >= 0.85 {
			t.Errorf("%s ~ %s: %.2f (%s), want below 0.85", tc[0], tc[1], s, kind)
		}
	}
}

// handEntries are listings written for the tests.
var handEntries = []kycd.ListEntry{
	{Source: "test", ID: "kim", Type: kycd.EntryPerson, Names: []kycd.ListName{{Full: "KIM, Jong Un", Kind: kycd.NamePrimary}, {Full: "김정은", Kind: kycd.NameAlias, Script: "Hang"}},
		BirthDates: []kycd.ListDate{{Year: 1984, Month: 1, Day: 8}}, Nationalities: []string{"KP"}},
	{Source: "test", ID: "xi", Type: kycd.EntryPerson, Names: []kycd.ListName{{Full: "XI, Jinping", Kind: kycd.NamePrimary}}, BirthDates: []kycd.ListDate{{Year: 1953}}},
	{Source: "test", ID: "saddam", Type: kycd.EntryPerson, Names: []kycd.ListName{{Full: "AL-TIKRITI, Saddam Hussein", Kind: kycd.NamePrimary}}, BirthDates: []kycd.ListDate{{Year: 1937, Month: 4, Day: 28}}, Nationalities: []string{"IQ"}},
	{Source: "test", ID: "qaddafi", Type: kycd.EntryPerson, Names: []kycd.ListName{{Full: "QADHAFI, Muammar Muhammed Abu Minyar", Kind: kycd.NamePrimary}}, BirthDates: []kycd.ListDate{{Year: 1942, Circa: true}}},
	{Source: "test", ID: "prigozhin", Type: kycd.EntryPerson, Names: []kycd.ListName{{Full: "PRIGOZHIN, Yevgeniy Viktorovich", Kind: kycd.NamePrimary}}, BirthDates: []kycd.ListDate{{Year: 1961, Month: 6, Day: 1}}, Nationalities: []string{"RU"}},
	{Source: "test", ID: "bin-laden", Type: kycd.EntryPerson, Names: []kycd.ListName{{Full: "BIN LADIN, Usama bin Muhammad bin Awad", Kind: kycd.NamePrimary}, {Full: "Abu Abdallah", Kind: kycd.NameAlias, Weak: true}}, BirthDates: []kycd.ListDate{{Year: 1957, ToYear: 1958}}},
	{Source: "test", ID: "zawahiri", Type: kycd.EntryPerson, Names: []kycd.ListName{{Full: "AL-ZAWAHIRI, Ayman", Kind: kycd.NamePrimary}, {Full: "أيمن الظواهري", Kind: kycd.NameAlias, Script: "Arab"}}},
	{Source: "test", ID: "javad", Type: kycd.EntryPerson, Names: []kycd.ListName{{Full: "ZARIF, Mohammad Javad", Kind: kycd.NamePrimary}}},
	{Source: "test", ID: "hossein", Type: kycd.EntryPerson, Names: []kycd.ListName{{Full: "SALAMI, Hossein", Kind: kycd.NamePrimary}}},
	{Source: "test", ID: "zhang", Type: kycd.EntryPerson, Names: []kycd.ListName{{Full: "ZHANG, Qingwei", Kind: kycd.NamePrimary}}},
	{Source: "test", ID: "aleksandr", Type: kycd.EntryPerson, Names: []kycd.ListName{{Full: "LUKASHENKO, Aleksandr Grigoryevich", Kind: kycd.NamePrimary}}, Nationalities: []string{"BY"}},
	{Source: "test", ID: "bank", Type: kycd.EntryOrganization, Names: []kycd.ListName{{Full: "BANCO NACIONAL DE CUBA", Kind: kycd.NamePrimary}}},
	{Source: "test", ID: "greek", Type: kycd.EntryPerson, Names: []kycd.ListName{{Full: "PAPADOPOULOS, Georgios", Kind: kycd.NamePrimary}}},
}

func TestSearchFindsVariants(t *testing.T) {
	t.Parallel()
	x := NewIndex(handEntries)
	for _, tc := range []struct{ query, id string }{
		{"Kim Jong Un", "kim"},          // word order
		{"Kim Jong-un", "kim"},          // hyphen
		{"Kimjongun", "kim"},            // spacing
		{"KIM JONG UN", "kim"},          // case
		{"김정은", "kim"},                  // Hangul
		{"Gim Jeong-eun", "kim"},        // Revised Romanization
		{"Chong-un Kim", "kim"},         // McCune-Reischauer
		{"习近平", "xi"},                   // Han
		{"Hsi Chin-p'ing", "xi"},        // Wade-Giles
		{"Saddam al-Tikriti", "saddam"}, // missing middle name
		{"Saddam Husain al-Takriti", "saddam"},
		{"صدام حسين التكريتي", "saddam"}, // Arabic script
		{"Muammar Gaddafi", "qaddafi"},   // Qaddafi / Gaddafi, middle names missing
		{"Muammar Kadhafi", "qaddafi"},   // Kadhafi
		{"Евгений Викторович Пригожин", "prigozhin"}, // Cyrillic
		{"Evgenii Prigozhin", "prigozhin"},
		{"Yevgeny Prigojine", "prigozhin"},     // French romanisation, a typo of sorts
		{"Osama bin Laden", "bin-laden"},       // Osama / Usama, Laden / Ladin
		{"Sheikh Usama Binladin", "bin-laden"}, // honorific, joined
		{"Dr. Ayman al-Zawahiri", "zawahiri"},  // honorific
		{"Ayman el-Zawahri", "zawahiri"},       // al / el, a letter missing
		{"أيمن الظواهري", "zawahiri"},          // Arabic script, with the alias
		{"Mohammed Jawad Zarif", "javad"},      // Javad / Jawad, Mohammad / Mohammed
		{"Husain Salami", "hossein"},           // Hossein / Husain
		{"Chang Qingwei", "zhang"},             // Zhang / Chang
		{"Alexander Lukashenko", "aleksandr"},  // Aleksandr / Alexander
		{"Александр Лукашенко", "aleksandr"},   // Cyrillic
		{"Γεώργιος Παπαδόπουλος", "greek"},     // Greek
		{"Banco Nacional de Kuba", "bank"},     // typo
	} {
		ms := x.Search(Query{Name: tc.query})
		if !found(ms, "test", tc.id) {
			got := "nothing"
			if len(ms) > 0 {
				got = fmt.Sprintf("%s %.3f: %s", ms[0].EntryID, ms[0].Score, ms[0].Explanation.Text)
			}
			t.Errorf("%q does not raise %s; best: %s", tc.query, tc.id, got)
		}
	}
	// Ordinary names that merely share a part stay below review.
	for _, q := range []string{"Mohammed Ali", "Kim Min-jun", "Ali Hassan", "John Smith", "Maria Garcia", "Saddam Ahmed", "Ivan Petrov", "Wei Zhang"} {
		if ms := x.Search(Query{Name: q}); anyReview(ms) {
			t.Errorf("%q raises %s at %.3f: %s", q, ms[0].EntryID, ms[0].Score, ms[0].Explanation.Text)
		}
	}
}

func TestQualifiers(t *testing.T) {
	t.Parallel()
	x := NewIndex(handEntries)
	score := func(q Query) Match {
		t.Helper()
		for _, m := range x.Search(q) {
			if m.EntryID == "prigozhin" {
				return m
			}
		}
		t.Fatalf("%+v does not match", q)
		return Match{}
	}
	base := score(Query{Name: "Yevgeniy Prigozhin"})
	exact := score(Query{Name: "Yevgeniy Prigozhin", BirthDate: "1961-06-01"})
	year := score(Query{Name: "Yevgeniy Prigozhin", BirthDate: "1961"})
	decades := score(Query{Name: "Yevgeniy Prigozhin", BirthDate: "1969-03-02"})
	for _, m := range x.Search(Query{Name: "Yevgeniy Prigozhin", BirthDate: "1991-03-02"}) {
		if m.Review {
			t.Errorf("a birth date 30 years apart raises %s", m.EntryID)
		}
	}
	nat := score(Query{Name: "Yevgeniy Prigozhin", Nationality: "fr"})
	org := score(Query{Name: "Yevgeniy Prigozhin", Type: kycd.EntryOrganization})
	if !(exact.Score > base.Score || exact.Score == 1) || year.Score < base.Score {
		t.Errorf("an agreeing birth date does not raise: %.3f, %.3f (year), name alone %.3f", exact.Score, year.Score, base.Score)
	}
	if decades.Review || decades.Score > base.Score-0.19 {
		t.Errorf("a birth date 8 years apart leaves %.3f (review %v) of %.3f", decades.Score, decades.Review, base.Score)
	}
	if nat.Score >= base.Score || org.Score >= base.Score {
		t.Errorf("nationality %.3f or type %.3f conflicts do not lower %.3f", nat.Score, org.Score, base.Score)
	}
	for _, m := range []Match{exact, decades, nat, org} {
		t.Log(m.Explanation.Text)
	}
	for m, want := range map[*Match]string{
		&exact:   "birth date agrees with the listed 1961-06-01",
		&decades: "8 year(s) from the listed 1961-06-01",
		&nat:     "nationality FR contradicts the listed RU",
		&org:     "the query is of type organization, the listing of type person",
	} {
		if !strings.Contains(strings.ToLower(m.Explanation.Text), strings.ToLower(want)) {
			t.Errorf("explanation %q lacks %q", m.Explanation.Text, want)
		}
	}
	// A circa year and a range of years tolerate their spread.
	for _, tc := range []struct {
		id, name, bd string
	}{{"qaddafi", "Muammar Qadhafi", "1941"}, {"bin-laden", "Usama bin Ladin", "1958-03-10"}} {
		var m *Match
		ms := x.Search(Query{Name: tc.name, BirthDate: tc.bd})
		for i := range ms {
			if ms[i].EntryID == tc.id {
				m = &ms[i]
			}
		}
		if m == nil || !strings.Contains(m.Explanation.Text, "agrees") {
			t.Errorf("%s born %s: %+v", tc.name, tc.bd, m)
		}
	}
}

func TestExplanation(t *testing.T) {
	t.Parallel()
	x := NewIndex(handEntries)
	ms := x.Search(Query{Name: "Mohammed Jawad Zarif", BirthDate: "1960"})
	if len(ms) == 0 {
		t.Fatal("no match")
	}
	m := ms[0]
	if m.EntryID != "javad" || m.ListedName != "ZARIF, Mohammad Javad" || m.MatchedName != m.ListedName || !m.Review {
		t.Fatalf("match %+v", m)
	}
	var kinds []string
	for _, p := range m.Explanation.Pairs {
		kinds = append(kinds, p.Query+"~"+p.Listed+":"+p.Kind)
	}
	slices.Sort(kinds)
	want := []string{"jawad~javad:transliteration", "mohammed~mohammad:transliteration", "zarif~zarif:exact"}
	if !slices.Equal(kinds, want) {
		t.Errorf("pairs %v, want %v", kinds, want)
	}
	if !strings.Contains(m.Explanation.Text, `"jawad" ~ "javad" 0.95 (transliteration)`) {
		t.Errorf("text %q", m.Explanation.Text)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"entryId":`, `"listedName":`, `"matchedName":`, `"review":true`, `"explanation":{"nameScore":`, `"pairs":[`, `"features":[{"name":"name"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON %s lacks %s", b, key)
		}
	}
}

func TestSubset(t *testing.T) {
	t.Parallel()
	full := NewIndex(handEntries)
	sub := full.Subset("test", []string{"kim", "saddam", "absent"})
	if e, _ := sub.Len(); e != 2 {
		t.Fatalf("subset of %d entries", e)
	}
	// Ids are a source's own: another source's listing of the same id is
	// not in the subset.
	if e, _ := full.Subset("other", []string{"kim", "saddam"}).Len(); e != 0 {
		t.Fatalf("another source's subset holds %d entries", e)
	}
	for _, q := range []string{"Kim Jong Un", "Saddam Hussein", "Kim Saddam", "Muammar Gaddafi"} {
		var want []Match
		for _, m := range full.Search(Query{Name: q}) {
			if m.EntryID == "kim" || m.EntryID == "saddam" {
				want = append(want, m)
			}
		}
		got := sub.Search(Query{Name: q})
		if len(got) != len(want) {
			t.Fatalf("%q: subset %d matches, full index %d", q, len(got), len(want))
		}
		for i := range got {
			if got[i].EntryID != want[i].EntryID || got[i].Score != want[i].Score {
				t.Errorf("%q: subset %s %.3f, full index %s %.3f", q, got[i].EntryID, got[i].Score, want[i].EntryID, want[i].Score)
			}
		}
	}
}

func TestSearchAgreesWithBruteForce(t *testing.T) {
	t.Parallel()
	x := NewIndex(handEntries)
	for _, q := range []string{"Kim Jong Un", "Kimjongun", "Saddam al-Tikriti", "أيمن الظواهري", "Banco Nacional", "Ali"} {
		s, b := x.Search(Query{Name: q}), x.BruteForce(Query{Name: q})
		for _, m := range b {
			if m.Review && !found(s, m.Source, m.EntryID) {
				t.Errorf("%q: BruteForce raises %s, Search does not", q, m.EntryID)
			}
		}
	}
	if ms := BruteForce(handEntries, Query{Name: "Kim Jong Un"}); !found(ms, "test", "kim") {
		t.Error("BruteForce of entries does not find Kim Jong Un")
	}
}

// TestSearchConcurrent searches one index from many goroutines (run with
// -race): each gets the results a lone search gets.
func TestSearchConcurrent(t *testing.T) {
	t.Parallel()
	x := NewIndex(handEntries)
	queries := []string{"Kim Jong Un", "Saddam Hussein", "Osama bin Laden", "习近平", "Mohammed Ali", "Евгений Пригожин"}
	want := make([][]Match, len(queries))
	for i, q := range queries {
		want[i] = x.Search(Query{Name: q})
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 50; r++ {
				i := (g + r) % len(queries)
				got := x.Search(Query{Name: queries[i]})
				if len(got) != len(want[i]) || len(got) > 0 && (got[0].EntryID != want[i][0].EntryID || got[0].Score != want[i][0].Score) {
					t.Errorf("%q: concurrent search differs", queries[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestSearchLimitAndOrder(t *testing.T) {
	t.Parallel()
	x := NewIndex(handEntries)
	ms := x.Search(Query{Name: "Mohammed", Limit: 2})
	if len(ms) > 2 {
		t.Errorf("limit 2: %d matches", len(ms))
	}
	all := x.Search(Query{Name: "Kim Saddam Usama Ayman"})
	for i := 1; i < len(all); i++ {
		if all[i].Score > all[i-1].Score {
			t.Errorf("not sorted: %.3f after %.3f", all[i].Score, all[i-1].Score)
		}
	}
	if ms := x.Search(Query{Name: "  ,, -- "}); len(ms) != 0 {
		t.Errorf("a name of punctuation matches %d", len(ms))
	}
}

// FuzzSearch screens arbitrary names: no panic, scores within 0..1, sorted,
// Review as the threshold says.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{"Kim Jong-un", "صدام حسين", "习近平", "김정은", "Ά Ω ЁЖ", strings.Repeat("a ", 80), strings.Repeat("x", 200), "\xff\xfe", "abdulabdulabdul"} {
		f.Add(s, "1960-01-02")
	}
	x := NewIndex(handEntries)
	f.Fuzz(func(t *testing.T, name, bd string) {
		ms := x.Search(Query{Name: name, BirthDate: bd, Nationality: "IQ", Type: kycd.EntryPerson})
		for i, m := range ms {
			if m.Score < 0 || m.Score > 1 || math.IsNaN(m.Score) || m.Review != (m.Score >= ReviewThreshold) {
				t.Fatalf("%q: match %+v", name, m)
			}
			if i > 0 && m.Score > ms[i-1].Score {
				t.Fatalf("%q: not sorted", name)
			}
		}
		x.BruteForce(Query{Name: name})
	})
}
