package levels

import (
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
)

// Geography is what checking values needs to know of countries and phones.
type Geography interface {
	IsCountry(code string) bool
	PhoneRegion(number string) (string, bool)
}

// defaultMaxLength bounds text values without their own limit.
const defaultMaxLength = 500

// Check checks a value given for an attribute by its type and returns it
// normalized (trimmed text, upper-case country codes, lower-case email
// domains), or a violation naming the attribute's key and the rule.
// Document values (a document of the client) and liveness values (made by
// kycd) need state a catalog does not have: Check only checks their shape
// (a uuid; liveness values are refused as read-only).
func (c *Catalog) Check(a *Attribute, value any, now time.Time, g Geography) (any, *kycd.Violation) {
	refuse := func(rule string, params map[string]any) (any, *kycd.Violation) {
		return nil, &kycd.Violation{Property: a.Key, Rule: rule, RuleParams: params}
	}
	if a.Type == TypeLiveness {
		return refuse("read_only", map[string]any{"reason": "kycd issues liveness tokens and URLs: read the attribute instead"})
	}
	s, ok := value.(string)
	if !ok {
		return refuse("type", map[string]any{"type": "string"})
	}
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) {
		return refuse("invalid_characters", nil)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return refuse("required", nil)
	}
	switch a.Type {
	case TypeText:
		limit := a.MaxLength
		if limit == 0 {
			limit = defaultMaxLength
		}
		if utf8.RuneCountInString(s) > limit {
			return refuse("maxLength", map[string]any{"limit": limit})
		}
		return s, nil
	case TypeDate:
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return refuse("format", map[string]any{"format": "date", "pattern": "YYYY-MM-DD"})
		}
		today := now.UTC().Truncate(24 * time.Hour)
		if a.MinAgeYears > 0 && d.After(today.AddDate(-a.MinAgeYears, 0, 0)) {
			return refuse("min_age", map[string]any{"limit": a.MinAgeYears, "unit": "years"})
		}
		if a.MaxAgeYears > 0 && d.Before(today.AddDate(-a.MaxAgeYears, 0, 0)) {
			return refuse("max_age", map[string]any{"limit": a.MaxAgeYears, "unit": "years"})
		}
		return s, nil
	case TypeCountry:
		code := strings.ToUpper(s)
		if len(code) != 2 || !g.IsCountry(code) {
			return refuse("country_code", map[string]any{"format": "ISO 3166-1 alpha-2"})
		}
		return code, nil
	case TypePhone:
		number := strings.Map(func(r rune) rune {
			if r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' {
				return -1
			}
			return r
		}, s)
		if _, ok := g.PhoneRegion(number); !ok {
			return refuse("phone", map[string]any{"format": "E.164", "example": "+4915123456789"})
		}
		return number, nil
	case TypeEmail:
		addr, err := mail.ParseAddress(s)
		at := strings.LastIndexByte(s, '@')
		if err != nil || addr.Address != s || addr.Name != "" || at < 1 || !strings.Contains(s[at:], ".") {
			return refuse("format", map[string]any{"format": "email"})
		}
		return s[:at] + strings.ToLower(s[at:]), nil
	case TypeReferenceData:
		list := c.ReferenceData[a.ReferenceData]
		if !slices.ContainsFunc(list, func(ch Choice) bool { return ch.Value == s }) {
			values := make([]string, 0, len(list))
			for _, ch := range list {
				values = append(values, ch.Value)
			}
			return refuse("enum", map[string]any{"allowedValues": values, "definitions": "/v1/attributes/" + a.Key + "/definitions/"})
		}
		return s, nil
	case TypeLegalDocument:
		d, ok := c.legal[strings.ToLower(s)]
		if !ok || d.Key != a.LegalDocument {
			return refuse("legal_document", map[string]any{"key": a.LegalDocument})
		}
		if latest := c.LatestLegalDocument(d.Key, d.ClientType); latest != d {
			return refuse("legal_document_outdated", map[string]any{"key": a.LegalDocument, "current": latest.UUID})
		}
		return d.UUID, nil
	case TypeDocument:
		id, err := uuid.Parse(s)
		if err != nil {
			return refuse("format", map[string]any{"format": "uuid"})
		}
		return id.String(), nil
	}
	return refuse("type", nil)
}
