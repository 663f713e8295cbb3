package levels

import (
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd/geo"
)

func catalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The built-in catalog holds together and is the ladder basic → standard
// → enhanced, every attribute type used, every document key it asks for
// one of seed 003's.
func TestDefault(t *testing.T) {
	c := catalog(t)
	if len(c.Levels) != 3 || c.Levels[0].Name != "Basic" || c.Levels[2].Name != "Enhanced" {
		t.Fatalf("levels: %+v", c.Levels)
	}
	used := map[string]bool{}
	for _, l := range c.Levels {
		for _, key := range l.Attributes() {
			used[c.Attributes[key].Type] = true
		}
	}
	for _, typ := range Types {
		if !used[typ] {
			t.Errorf("no default level asks for a %s attribute", typ)
		}
	}
	if got := c.Upgrades(nil); len(got) != 1 || got[0].Name != "Basic" {
		t.Errorf("upgrades from nothing: %v", got)
	}
	if got := c.Upgrades([]string{c.Levels[0].UUID}); len(got) != 1 || got[0].Name != "Standard" {
		t.Errorf("upgrades from basic: %v", got)
	}
	if got := c.Upgrades([]string{c.Levels[0].UUID, c.Levels[1].UUID, c.Levels[2].UUID}); len(got) != 0 {
		t.Errorf("upgrades from the top: %v", got)
	}
}

// Catalogs that do not hold together are refused with what is wrong.
func TestParseRefuses(t *testing.T) {
	base := `{"version": 1, "attributes": {"a": {"type": "text", "title": "A"}}, "referenceData": {}, "legalDocuments": [],
		"levels": [{"uuid": "0e5c6f1a-8d2b-4c3e-9f10-2a3b4c5d6e01", "name": "L", "order": 1, "upgradesFrom": [],
		"steps": [{"title": "S", "questions": [{"title": "Q", "attribute": "a", "required": true}]}]}]}`
	if _, err := Parse([]byte(base)); err != nil {
		t.Fatalf("base: %v", err)
	}
	for want, raw := range map[string]string{
		"unknown type":          strings.Replace(base, `"type": "text"`, `"type": "colour"`, 1),
		"unknown attribute":     strings.Replace(base, `"attribute": "a"`, `"attribute": "b"`, 1),
		"no reference data":     strings.Replace(base, `"type": "text"`, `"type": "reference_data", "referenceData": "x"`, 1),
		"no legal document":     strings.Replace(base, `"type": "text"`, `"type": "legal_document", "legalDocument": "x"`, 1),
		"documents are made":    strings.Replace(base, `"type": "text"`, `"type": "document"`, 1),
		"not a lower level":     strings.Replace(base, `"upgradesFrom": []`, `"upgradesFrom": ["0e5c6f1a-8d2b-4c3e-9f10-2a3b4c5d6e01"]`, 1),
		"has no step":           strings.Replace(base, `"steps": [{"title": "S", "questions": [{"title": "Q", "attribute": "a", "required": true}]}]`, `"steps": []`, 1),
		"signature provider":    strings.Replace(base, `"title": "A"`, `"title": "A", "signProviders": ["pigeon"]`, 1),
		"version must be":       strings.Replace(base, `"version": 1`, `"version": 0`, 1),
		"needs a uuid and name": strings.Replace(base, `"uuid": "0e5c6f1a-8d2b-4c3e-9f10-2a3b4c5d6e01"`, `"uuid": "x"`, 1),
	} {
		_, err := Parse([]byte(raw))
		if err == nil || !strings.Contains(err.Error(), strings.Fields(want)[0]) {
			t.Errorf("%s: %v", want, err)
		}
	}
	// What does not decode is said in the catalog's terms, not Go's.
	for want, raw := range map[string]string{
		"levels: version must be an integer, not string":      strings.Replace(base, `"version": 1`, `"version": "1"`, 1),
		"levels: levels.order must be an integer, not string": strings.Replace(base, `"order": 1`, `"order": "first"`, 1),
		"levels: the catalog is not valid JSON (at byte 2)":   `{x`,
		"levels: the catalog must be a JSON object":           `[]`,
	} {
		if _, err := Parse([]byte(raw)); err == nil || err.Error() != want {
			t.Errorf("want %q, got %v", want, err)
		}
	}
}

// Each attribute type checks its values and normalizes them.
func TestCheck(t *testing.T) {
	c := catalog(t)
	g := geo.New()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	terms := c.LatestLegalDocument("terms_and_conditions", "individual").UUID
	for _, tc := range []struct {
		key   string
		value any
		want  any    // the normalized value, when accepted
		rule  string // the violation's rule, when refused
	}{
		{"first_name", "  Hans Peter ", "Hans Peter", ""},
		{"first_name", "", nil, "required"},
		{"first_name", strings.Repeat("x", 101), nil, "maxLength"},
		{"first_name", 42, nil, "type"},
		{"first_name", "Hans\x00", nil, "invalid_characters"},
		{"birth_date", "1980-05-17", "1980-05-17", ""},
		{"birth_date", "17.05.1980", nil, "format"},
		{"birth_date", "2010-01-01", nil, "min_age"},
		{"birth_date", "1890-01-01", nil, "max_age"},
		{"citizenship", "de", "DE", ""},
		{"citizenship", "XX", nil, "country_code"},
		{"citizenship", "DEU", nil, "country_code"},
		{"phone", "+49 151 23456789", "+4915123456789", ""},
		{"phone", "015123456789", nil, "phone"},
		{"phone", "+49 1", nil, "phone"},
		{"email", "Hans@Example.COM", "Hans@example.com", ""},
		{"email", "Hans <hans@example.com>", nil, "format"},
		{"email", "hans@localhost", nil, "format"},
		{"source_of_funds", "salary", "salary", ""},
		{"source_of_funds", "lottery", nil, "enum"},
		{"terms_and_conditions", terms, terms, ""},
		{"terms_and_conditions", c.LatestLegalDocument("privacy_policy", "individual").UUID, nil, "legal_document"},
		{"terms_and_conditions", "not-a-uuid", nil, "legal_document"},
		{"passport", "3FA85F64-5717-4562-B3FC-2C963F66AFA6", "3fa85f64-5717-4562-b3fc-2c963f66afa6", ""},
		{"passport", "scan.png", nil, "format"},
		{"sumsub_liveness_check_token", "abc", nil, "read_only"},
	} {
		a, ok := c.Attribute(tc.key)
		if !ok {
			t.Fatalf("no attribute %s", tc.key)
		}
		got, v := c.Check(a, tc.value, now, g)
		switch {
		case tc.rule == "" && (v != nil || got != tc.want):
			t.Errorf("%s = %#v: %v %+v", tc.key, tc.value, got, v)
		case tc.rule != "" && (v == nil || v.Rule != tc.rule || v.Property != tc.key):
			t.Errorf("%s = %#v: %+v, want rule %s", tc.key, tc.value, v, tc.rule)
		}
	}
}

// FuzzCheck: no value makes an attribute check panic, and an accepted
// value is accepted again as it was normalized (normalizing is stable).
func FuzzCheck(f *testing.F) {
	c := catalog(f)
	g := geo.New()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	keys := []string{"first_name", "birth_date", "citizenship", "phone", "email", "source_of_funds", "terms_and_conditions", "passport"}
	for _, s := range []string{"Hans", "1980-05-17", "de", "+4915123456789", "a@b.co", "salary", "", "\xff", "+"} {
		f.Add(uint8(0), s)
	}
	f.Fuzz(func(t *testing.T, k uint8, value string) {
		a, _ := c.Attribute(keys[int(k)%len(keys)])
		got, v := c.Check(a, value, now, g)
		if v != nil {
			if v.Property != a.Key || v.Rule == "" {
				t.Fatalf("violation %+v", v)
			}
			return
		}
		again, v := c.Check(a, got, now, g)
		if v != nil || again != got {
			t.Fatalf("%s: %q normalized to %q, then %v %+v", a.Key, value, got, again, v)
		}
	})
}

// Catalog references name built-in and tenant versions; malformed ones are
// refused. The built-in catalog is found again by its reference.
func TestCatalogRefs(t *testing.T) {
	c := catalog(t)
	kind, v, err := ParseRef(c.Ref)
	if err != nil || kind != "builtin" || v < 1 {
		t.Fatalf("the default's reference %q: %s %d %v", c.Ref, kind, v, err)
	}
	again, err := Builtin(v)
	if err != nil || again.Ref != c.Ref || len(again.Levels) != len(c.Levels) {
		t.Fatalf("built-in %d: %v", v, err)
	}
	if _, err := Builtin(v + 1000); err == nil {
		t.Error("an unknown built-in version was found")
	}
	if kind, v, err := ParseRef(TenantRef(3)); err != nil || kind != "tenant" || v != 3 {
		t.Errorf("tenant ref: %s %d %v", kind, v, err)
	}
	for _, bad := range []string{"", "builtin", "builtin:0", "builtin:x", "other:1", "tenant:-1"} {
		if _, _, err := ParseRef(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// An application's catalog takes the current lists: a new version of a
// legal document replaces the old one (the old is outdated), a changed
// reference data list applies, and what the current catalog dropped stays.
func TestWithListsOf(t *testing.T) {
	old, cur := catalog(t), catalog(t)
	terms := old.LatestLegalDocument("terms_and_conditions", "individual")
	newer := *terms
	newer.UUID, newer.Version = "6b7e2a8e-3c1f-4f0e-9a51-1f2c3d4e5aff", terms.Version+1
	cur.LegalDocuments = append(cur.LegalDocuments, &newer)
	cur.legal[newer.UUID] = &newer
	cur.ReferenceData["yes_no"] = []Choice{{Value: "yes", Title: "Yes"}, {Value: "no", Title: "No"}, {Value: "unsure", Title: "Unsure"}}
	delete(cur.ReferenceData, "annual_income")
	var kept []*LegalDocument
	for _, d := range cur.LegalDocuments {
		if d.Key != "privacy_policy" {
			kept = append(kept, d)
		}
	}
	cur.LegalDocuments = kept
	merged := old.WithListsOf(cur)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	g := geo.New()
	check := func(key string, value any) string {
		a, _ := merged.Attribute(key)
		_, bad := merged.Check(a, value, now, g)
		if bad == nil {
			return ""
		}
		return bad.Rule
	}
	if r := check("terms_and_conditions", terms.UUID); r != "legal_document_outdated" {
		t.Errorf("the old terms: %q", r)
	}
	if r := check("terms_and_conditions", newer.UUID); r != "" {
		t.Errorf("the new terms: %q", r)
	}
	if r := check("politically_exposed", "unsure"); r != "" {
		t.Errorf("the current list: %q", r)
	}
	if r := check("annual_income", old.ReferenceData["annual_income"][0].Value); r != "" {
		t.Errorf("a list the current catalog dropped: %q", r)
	}
	if merged.LatestLegalDocument("privacy_policy", "individual") == nil {
		t.Error("a legal document the current catalog dropped is gone")
	}
	if old.LatestLegalDocument("terms_and_conditions", "individual") != terms || old.ReferenceData["yes_no"][0].Value != "yes" || len(old.ReferenceData["yes_no"]) != 2 {
		t.Error("the application's catalog itself changed")
	}
	if old.WithListsOf(old) != old {
		t.Error("the current catalog is not returned as is")
	}
}

// FuzzParse: no catalog a tenant sends (PUT /admin/kyc-levels) makes Parse
// panic: it is a catalog or an error.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"version":1,"attributes":{},"levels":[]}`, `{"version":1,"attributes":{},"levels":[null]}`,
		`{"version":1,"attributes":{"x":null},"levels":[]}`, `{"version":1,"legalDocuments":[null]}`, `{}`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := Parse(raw)
		if (c == nil) == (err == nil) {
			t.Fatalf("catalog %v, error %v", c, err)
		}
	})
}
