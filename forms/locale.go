package forms

import (
	"bytes"
	"encoding/json"

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
	t := d.translated(lang)
	h := map[string]any{"type": "form", "schema": t.schemaJSON, "uiSchema": t.uiJSON}
	if formID != "" {
		h["formId"] = formID
	}
	return h
}

// HintSchema returns a new copy of the translated schema, for a caller that
// adapts the form to one user (the tax details form's countries).
func (d *Definition) HintSchema(lang language.Tag) map[string]any {
	base, _ := lang.Base()
	s, _ := translate(d.Schema, d.Translations[base.String()]).(map[string]any)
	return s
}

// translation is a definition in one language, encoded once.
type translation struct {
	schemaJSON, uiJSON json.RawMessage
}

// translated returns the schema and UI schema in a language, translated
// and encoded once per language and shared afterwards (a large schema costs
// more to encode than the rest of a response).
func (d *Definition) translated(lang language.Tag) *translation {
	base, _ := lang.Base()
	key := base.String()
	if v, ok := d.hints.Load(key); ok {
		return v.(*translation)
	}
	tr := d.Translations[key]
	t := &translation{schemaJSON: rawJSON(translate(d.Schema, tr)), uiJSON: rawJSON(translate(d.UISchema, tr))}
	d.hints.Store(key, t)
	return t
}

// rawJSON encodes v as the API encodes responses (no HTML escaping).
func rawJSON(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // a definition decoded from JSON always encodes
	}
	return bytes.TrimRight(b.Bytes(), "\n")
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
