package forms

import (
	"golang.org/x/text/language"

	"github.com/kycd/kycd"
)

// Languages are the languages every definition is translated into; English
// is the source language of the definitions' text.
var Languages = []language.Tag{language.English, language.Portuguese, language.German}

var matcher = language.NewMatcher(Languages)

// ParseLocale picks the best supported language for an Accept-Language
// header ("" means English). A malformed header is locale_invalid.
func ParseLocale(acceptLanguage string) (language.Tag, error) {
	if acceptLanguage == "" {
		return language.English, nil
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return language.English, &kycd.Error{Code: kycd.ELocaleInvalid, Message: "The Accept-Language header is not a valid locale",
			Details: map[string]any{"context": "headers", "property": "accept-language"}}
	}
	_, i, _ := matcher.Match(tags...)
	return Languages[i], nil
}

// Hint is what a client needs to render the form: Uphold's
// {type: form, formId, schema, uiSchema}, in the given language (formId only
// once an instance exists). The schema and UI schema are shared: read only.
func (d *Definition) Hint(formID string, lang language.Tag) map[string]any {
	schema, ui := d.translated(lang)
	h := map[string]any{"type": "form", "schema": schema, "uiSchema": ui}
	if formID != "" {
		h["formId"] = formID
	}
	return h
}

// translated returns the schema and UI schema in a language, translated
// once per language and shared afterwards: callers must not modify them
// (copy what they change, as the tax details hint does).
func (d *Definition) translated(lang language.Tag) (schema, ui any) {
	base, _ := lang.Base()
	key := base.String()
	if v, ok := d.hints.Load(key); ok {
		p := v.([2]any)
		return p[0], p[1]
	}
	tr := d.Translations[key]
	p := [2]any{translate(d.Schema, tr), translate(d.UISchema, tr)}
	d.hints.Store(key, p)
	return p[0], p[1]
}

// translatable are the keys whose string values are shown to people.
var translatable = map[string]bool{"title": true, "description": true, "label": true}

// translate returns a deep copy of v with its shown text translated (text
// without a translation, and every text when tr is nil, stays English).
func translate(v any, tr map[string]string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if s, ok := e.(string); ok && translatable[k] {
				if t, ok := tr[s]; ok {
					out[k] = t
					continue
				}
			}
			out[k] = translate(e, tr)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = translate(e, tr)
		}
		return out
	}
	return v
}

// texts lists every shown text of a definition (the translation keys).
func (d *Definition) texts() map[string]bool {
	out := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && translatable[k] {
					out[s] = true
				} else {
					walk(e)
				}
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(d.Schema)
	walk(d.UISchema)
	return out
}
