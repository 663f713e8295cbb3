// Package levels holds the KYC levels of the STASIS-compatible surface:
// tiered levels a client upgrades through (basic → standard → enhanced),
// each a questionnaire of steps whose questions are bound to typed
// attributes, with the reference data and legal documents those
// attributes use. The defaults ship as a versioned data file
// (data/levels.v<N>.json); a tenant may replace them with its own catalog,
// which is checked the same way.
package levels

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Attribute types.
const (
	TypeText          = "text"
	TypeDate          = "date"
	TypeCountry       = "country"
	TypePhone         = "phone"
	TypeEmail         = "email"
	TypeReferenceData = "reference_data" // a choice from a list (GET /v1/attributes/{key}/definitions/)
	TypeLegalDocument = "legal_document" // the uuid of a legal document the client read
	TypeDocument      = "document"       // the uuid of a document made of uploaded files
	TypeLiveness      = "liveness"       // produced by kycd: a Sumsub liveness token or URL
)

// Types lists the attribute types.
var Types = []string{TypeText, TypeDate, TypeCountry, TypePhone, TypeEmail, TypeReferenceData, TypeLegalDocument, TypeDocument, TypeLiveness}

// Signature providers: how a client signs an attribute or a review.
const (
	SignSMS   = "sms"
	SignEmail = "email"
)

// DocumentKeys are the attribute keys a document may be made for.
var DocumentKeys = []string{"passport", "id_card_front_side", "id_card_back_side", "driver_license_front_side", "driver_license_back_side",
	"residence_permit_license_front_side", "residence_permit_license_back_side", "proof_of_address", "proof_of_funds"}

// Attribute is a typed piece of client data a question asks for.
type Attribute struct {
	Key   string `json:"-"`
	Type  string `json:"type"`
	Title string `json:"title"`
	// SignProviders are the signatures a change of the attribute needs
	// (one of them): a one-time code sent by SMS or email.
	SignProviders []string `json:"signProviders,omitempty"`
	// Text: the longest value (500 when 0).
	MaxLength int `json:"maxLength,omitempty"`
	// Date: bounds of the age the date gives (a birthdate).
	MinAgeYears int `json:"minAgeYears,omitempty"`
	MaxAgeYears int `json:"maxAgeYears,omitempty"`
	// ReferenceData names the list a reference data attribute chooses from.
	ReferenceData string `json:"referenceData,omitempty"`
	// LegalDocument is the key of the legal document a legal document
	// attribute confirms.
	LegalDocument string `json:"legalDocument,omitempty"`
	// Liveness is what a liveness attribute gives: "token" or "url"; and
	// SumsubLevel the Sumsub verification level it runs (default "liveness").
	Liveness    string `json:"liveness,omitempty"`
	SumsubLevel string `json:"sumsubLevel,omitempty"`
}

// Choice is one entry of a reference data list.
type Choice struct {
	Value string `json:"value"`
	Title string `json:"title"`
}

// LegalDocument is a text a client must read; a new version gets a new uuid.
type LegalDocument struct {
	UUID       string `json:"uuid"`
	Key        string `json:"key"`
	ClientType string `json:"clientType"`
	Version    int    `json:"version"`
	Title      string `json:"title"`
	Text       string `json:"text"`
}

// Question asks for one attribute.
type Question struct {
	Title     string `json:"title"`
	Attribute string `json:"attribute"`
	Required  bool   `json:"required"`
}

// Step is a titled group of questions.
type Step struct {
	Title     string     `json:"title"`
	Questions []Question `json:"questions"`
}

// Level is a KYC level: its questionnaire, the levels a client must hold to
// apply for it (none for an entry level) and the signatures sending its
// application to review needs.
type Level struct {
	UUID         string   `json:"uuid"`
	Name         string   `json:"name"`
	Order        int      `json:"order"`
	UpgradesFrom []string `json:"upgradesFrom"`
	SignToReview []string `json:"signToReview,omitempty"`
	Steps        []Step   `json:"steps"`
}

// Attributes returns the keys of the level's questions, in order.
func (l *Level) Attributes() []string {
	var out []string
	for _, s := range l.Steps {
		for _, q := range s.Questions {
			out = append(out, q.Attribute)
		}
	}
	return out
}

// Catalog is a set of levels with everything their questions use.
type Catalog struct {
	// Ref names this catalog where applications record it: "builtin:<N>"
	// for the built-in levels.v<N>.json, "tenant:<N>" for a tenant's N-th.
	Ref            string                    `json:"-"`
	Version        int                       `json:"version"`
	Attributes     map[string]*Attribute     `json:"attributes"`
	ReferenceData  map[string][]Choice       `json:"referenceData"`
	LegalDocuments []*LegalDocument          `json:"legalDocuments"`
	Levels         []*Level                  `json:"levels"`
	levels         map[string]*Level         // by uuid
	legal          map[string]*LegalDocument // by uuid
}

//go:embed data
var dataFS embed.FS

var fileName = regexp.MustCompile(`^levels\.v([0-9]+)\.json$`)

// Default returns the newest built-in catalog.
func Default() (*Catalog, error) {
	entries, err := fs.ReadDir(dataFS, "data")
	if err != nil {
		return nil, err
	}
	best := 0
	for _, e := range entries {
		if m := fileName.FindStringSubmatch(e.Name()); m != nil {
			if v, _ := strconv.Atoi(m[1]); v > best {
				best = v
			}
		}
	}
	if best == 0 {
		return nil, fmt.Errorf("levels: no built-in catalog")
	}
	return Builtin(best)
}

// Builtin returns a version of the built-in catalog (data/levels.v<N>.json):
// applications created under an older one are still judged against it.
func Builtin(version int) (*Catalog, error) {
	raw, err := fs.ReadFile(dataFS, path.Join("data", fmt.Sprintf("levels.v%d.json", version)))
	if err != nil {
		return nil, fmt.Errorf("levels: no built-in catalog version %d", version)
	}
	c, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	c.Ref = BuiltinRef(version)
	return c, nil
}

// BuiltinRef and TenantRef name catalogs where applications record them.
func BuiltinRef(version int) string { return "builtin:" + strconv.Itoa(version) }
func TenantRef(version int) string  { return "tenant:" + strconv.Itoa(version) }

// ParseRef reads a catalog reference: its kind ("builtin" or "tenant") and
// version.
func ParseRef(ref string) (kind string, version int, err error) {
	kind, v, ok := strings.Cut(ref, ":")
	if ok {
		version, err = strconv.Atoi(v)
	}
	if !ok || err != nil || version < 1 || (kind != "builtin" && kind != "tenant") {
		return "", 0, fmt.Errorf("levels: bad catalog reference %q", ref)
	}
	return kind, version, nil
}

// LoadFile reads a catalog from a file (an operator's or a tenant's).
func LoadFile(name string) (*Catalog, error) {
	raw, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return Parse(raw)
}

// Parse reads a catalog and checks that it holds together: known attribute
// types with what each needs, questions of known attributes, levels with
// unique uuids and orders that upgrade from known lower levels, reference
// data lists and legal documents that exist.
func Parse(raw []byte) (*Catalog, error) {
	var c Catalog
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, jsonProblem(err)
	}
	if c.Version < 1 {
		return nil, fmt.Errorf("levels: version must be at least 1")
	}
	// A null where an object belongs (an attribute, a legal document, a
	// level) is no catalog.
	if slices.Contains(c.LegalDocuments, nil) || slices.Contains(c.Levels, nil) {
		return nil, fmt.Errorf("levels: null in legalDocuments or levels")
	}
	for key, a := range c.Attributes {
		if a == nil {
			return nil, fmt.Errorf("levels: attribute %q is null", key)
		}
	}
	c.legal = map[string]*LegalDocument{}
	for _, d := range c.LegalDocuments {
		if _, err := uuid.Parse(d.UUID); err != nil || d.Key == "" || d.Title == "" {
			return nil, fmt.Errorf("levels: legal document %q needs a uuid, a key and a title", d.UUID)
		}
		if c.legal[d.UUID] != nil {
			return nil, fmt.Errorf("levels: legal document %s twice", d.UUID)
		}
		c.legal[d.UUID] = d
	}
	for key, a := range c.Attributes {
		a.Key = key
		if err := c.checkAttribute(a); err != nil {
			return nil, err
		}
	}
	c.levels = map[string]*Level{}
	orders := map[int]bool{}
	for _, l := range c.Levels {
		if _, err := uuid.Parse(l.UUID); err != nil || l.Name == "" {
			return nil, fmt.Errorf("levels: level %q needs a uuid and a name", l.UUID)
		}
		if c.levels[l.UUID] != nil || orders[l.Order] {
			return nil, fmt.Errorf("levels: level %s: uuids and orders must be unique", l.UUID)
		}
		c.levels[l.UUID], orders[l.Order] = l, true
		if len(l.Steps) == 0 {
			return nil, fmt.Errorf("levels: level %s has no step", l.Name)
		}
		seen := map[string]bool{}
		for _, key := range l.Attributes() {
			if c.Attributes[key] == nil {
				return nil, fmt.Errorf("levels: level %s asks for the unknown attribute %q", l.Name, key)
			}
			if seen[key] {
				return nil, fmt.Errorf("levels: level %s asks for %q twice", l.Name, key)
			}
			seen[key] = true
		}
		for _, p := range l.SignToReview {
			if p != SignSMS && p != SignEmail {
				return nil, fmt.Errorf("levels: level %s: unknown signature provider %q", l.Name, p)
			}
		}
	}
	for _, l := range c.Levels {
		for _, from := range l.UpgradesFrom {
			f := c.levels[from]
			if f == nil || f.Order >= l.Order {
				return nil, fmt.Errorf("levels: level %s upgrades from %q, which is not a lower level", l.Name, from)
			}
		}
	}
	slices.SortFunc(c.Levels, func(a, b *Level) int { return a.Order - b.Order })
	return &c, nil
}

func (c *Catalog) checkAttribute(a *Attribute) error {
	bad := func(why string) error { return fmt.Errorf("levels: attribute %q: %s", a.Key, why) }
	if !slices.Contains(Types, a.Type) {
		return bad("unknown type " + strconv.Quote(a.Type))
	}
	for _, p := range a.SignProviders {
		if p != SignSMS && p != SignEmail {
			return bad("unknown signature provider " + strconv.Quote(p))
		}
	}
	switch a.Type {
	case TypeReferenceData:
		if len(c.ReferenceData[a.ReferenceData]) == 0 {
			return bad("no reference data list " + strconv.Quote(a.ReferenceData))
		}
	case TypeLegalDocument:
		if c.LatestLegalDocument(a.LegalDocument, "") == nil {
			return bad("no legal document " + strconv.Quote(a.LegalDocument))
		}
	case TypeDocument:
		if !slices.Contains(DocumentKeys, a.Key) {
			return bad("documents are made for the keys " + fmt.Sprint(DocumentKeys))
		}
	case TypeLiveness:
		if a.Liveness != "token" && a.Liveness != "url" {
			return bad(`liveness gives "token" or "url"`)
		}
	}
	return nil
}

// Level returns a level by uuid.
func (c *Catalog) Level(id string) (*Level, bool) {
	l, ok := c.levels[id]
	return l, ok
}

// Attribute returns an attribute by key.
func (c *Catalog) Attribute(key string) (*Attribute, bool) {
	a, ok := c.Attributes[key]
	return a, ok
}

// LegalDocument returns a legal document by uuid.
func (c *Catalog) LegalDocument(id string) (*LegalDocument, bool) {
	d, ok := c.legal[id]
	return d, ok
}

// LatestLegalDocument returns the newest version of a legal document for a
// client type ("" for any), or nil.
func (c *Catalog) LatestLegalDocument(key, clientType string) *LegalDocument {
	var best *LegalDocument
	for _, d := range c.LegalDocuments {
		if d.Key == key && (clientType == "" || d.ClientType == clientType) && (best == nil || d.Version > best.Version) {
			best = d
		}
	}
	return best
}

// Upgrades returns the levels a client holding the given levels may apply
// for: levels it does not hold whose upgradesFrom it holds one of (entry
// levels, with none, only while it holds no level).
func (c *Catalog) Upgrades(held []string) []*Level {
	var out []*Level
	for _, l := range c.Levels {
		if slices.Contains(held, l.UUID) {
			continue
		}
		if len(l.UpgradesFrom) == 0 {
			if len(held) == 0 {
				out = append(out, l)
			}
			continue
		}
		for _, from := range l.UpgradesFrom {
			if slices.Contains(held, from) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// WithListsOf returns a copy of an application's catalog whose reference
// data lists and legal documents are those of the current catalog where it
// has them: the questions stay as the application was created, but the
// lists a client reads (GET /v1/attributes/{key}/definitions/, GET
// /v1/legal_documents/) are always the current ones, and a client consents
// to the legal documents in force.
func (c *Catalog) WithListsOf(current *Catalog) *Catalog {
	if current == nil || current == c {
		return c
	}
	out := *c
	out.ReferenceData = make(map[string][]Choice, len(c.ReferenceData))
	for name, list := range c.ReferenceData {
		out.ReferenceData[name] = list
	}
	for name, list := range current.ReferenceData {
		out.ReferenceData[name] = list
	}
	out.LegalDocuments = slices.Clone(current.LegalDocuments)
	for _, d := range c.LegalDocuments {
		if current.LatestLegalDocument(d.Key, "") == nil {
			out.LegalDocuments = append(out.LegalDocuments, d) // a key the current catalog dropped
		}
	}
	out.legal = make(map[string]*LegalDocument, len(out.LegalDocuments))
	for _, d := range out.LegalDocuments {
		out.legal[d.UUID] = d
	}
	return &out
}

// jsonProblem says what is wrong with a catalog that does not decode, in
// the catalog's terms (a property and the JSON type it needs), not Go's.
func jsonProblem(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("levels: the catalog is not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Errorf("levels: %s must be %s, not %s", typ.Field, jsonKind(typ.Type), typ.Value)
	}
	return errors.New("levels: the catalog must be a JSON object")
}

// jsonKind names the JSON type a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}
