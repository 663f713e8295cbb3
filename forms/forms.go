// Package forms is kycd's forms engine: the server-driven questionnaires of
// the form-based KYC processes (customer due diligence, crypto risk
// assessment, ...). A form definition is data: a JSON Schema 2020-12, a JSON
// Forms UI schema whose Categories are the form's steps (one root property
// each), translations keyed by the English text, and evaluation rules. The
// definitions are embedded, versioned (<code>.v<N>.json), compiled once at
// load, and may be overridden or extended from a folder.
//
// Answers arrive one step per call: partial answers within a step are kept,
// answering a question of an earlier step resets the form from that step,
// and the form is complete (ready for evaluation) once every step validates.
package forms

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed definitions/*.json
var embedded embed.FS

// Definition is one version of a form.
type Definition struct {
	Code    string `json:"code"`
	Version int    `json:"version"`
	// FormID is the id Uphold publishes for the form, which a client may
	// name to start it ("" when there is none): any other id that names no
	// instance of the user's is unknown.
	FormID       string                       `json:"formId,omitempty"`
	Schema       map[string]any               `json:"schema"`
	UISchema     map[string]any               `json:"uiSchema"`
	Translations map[string]map[string]string `json:"translations"`
	Evaluation   Evaluation                   `json:"evaluation"`

	hints   sync.Map                      // language -> *translation
	steps   []string                      // root properties, in the UI schema's Category order
	labels  []string                      // each step's Category label
	compile map[string]*jsonschema.Schema // step property -> its compiled schema
}

// Evaluation holds a definition's scoring rules: each rule matching the
// answers adds its points; Levels name score bands; RejectFrom, when set,
// rejects a score at or above it. Checks name validations that data alone
// cannot express and the process runs in code ("tax-identification-numbers").
type Evaluation struct {
	Rules      []Rule   `json:"rules"`
	Levels     []Level  `json:"levels,omitempty"`
	RejectFrom int      `json:"rejectFrom,omitempty"`
	Checks     []string `json:"checks,omitempty"`
}

// Rule adds Points when the answer at Property (a dotted path) is one of In,
// or, for a list answer, holds one of In.
type Rule struct {
	Property string   `json:"property"`
	In       []string `json:"in"`
	Points   int      `json:"points"`
}

// Level names the scores from From up to the next level's From.
type Level struct {
	Level string `json:"level"`
	From  int    `json:"from"`
}

// Registry holds every loaded definition.
type Registry struct {
	byCode map[string][]*Definition // ascending versions
}

var fileName = regexp.MustCompile(`^([a-z0-9-]+)\.v([0-9]+)\.json$`)

// Load reads the embedded definitions and then, when dir is not empty, the
// definitions in dir, which replace embedded ones of the same code and
// version and may add versions or forms.
func Load(dir string) (*Registry, error) {
	builtIn, err := parsedEmbedded()
	if err != nil {
		return nil, err
	}
	defs := maps.Clone(builtIn)
	if dir != "" {
		files := map[string][]byte{}
		if err := readDefinitions(os.DirFS(dir), ".", files); err != nil {
			return nil, fmt.Errorf("forms folder %s: %w", dir, err)
		}
		for name, raw := range files {
			if defs[name], err = parse(name, raw); err != nil {
				return nil, err
			}
		}
	}
	r := &Registry{byCode: map[string][]*Definition{}}
	for _, d := range defs {
		r.byCode[d.Code] = append(r.byCode[d.Code], d)
	}
	for _, ds := range r.byCode {
		sort.Slice(ds, func(i, j int) bool { return ds[i].Version < ds[j].Version })
	}
	return r, nil
}

// parsedEmbedded is the embedded definitions by file name, parsed and
// compiled once per process: a definition is never changed once parsed, so
// every registry shares them (each command of the CLI, and each kycd a test
// starts, would otherwise compile every schema again).
var parsedEmbedded = sync.OnceValues(func() (map[string]*Definition, error) {
	files := map[string][]byte{}
	if err := readDefinitions(embedded, "definitions", files); err != nil {
		return nil, err
	}
	defs := make(map[string]*Definition, len(files))
	for name, raw := range files {
		d, err := parse(name, raw)
		if err != nil {
			return nil, err
		}
		defs[name] = d
	}
	return defs, nil
})

func readDefinitions(fsys fs.FS, dir string, into map[string][]byte) error {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		if !fileName.MatchString(e.Name()) {
			return fmt.Errorf("form definition %s: name must be <code>.v<version>.json", e.Name())
		}
		raw, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		into[e.Name()] = raw
	}
	return nil
}

// parse decodes a definition, checks it against its file name, derives its
// steps from the UI schema and compiles each step's schema.
func parse(name string, raw []byte) (*Definition, error) {
	m := fileName.FindStringSubmatch(name)
	var d Definition
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("form definition %s: %w", name, err)
	}
	if v, _ := strconv.Atoi(m[2]); d.Code != m[1] || d.Version != v {
		return nil, fmt.Errorf("form definition %s declares %s v%d", name, d.Code, d.Version)
	}
	props, _ := d.Schema["properties"].(map[string]any)
	cats, _ := d.UISchema["elements"].([]any)
	if d.UISchema["type"] != "Categorization" || len(cats) == 0 {
		return nil, fmt.Errorf("form definition %s: the UI schema must be a Categorization", name)
	}
	for _, c := range cats {
		cat, _ := c.(map[string]any)
		step := ""
		for _, scope := range scopes(cat) {
			root, ok := rootProperty(scope)
			if !ok {
				return nil, fmt.Errorf("form definition %s: scope %q does not start with #/properties/", name, scope)
			}
			if step != "" && root != step {
				return nil, fmt.Errorf("form definition %s: category %v spans %s and %s", name, cat["label"], step, root)
			}
			step = root
		}
		if _, ok := props[step]; !ok {
			return nil, fmt.Errorf("form definition %s: category %v has no schema property", name, cat["label"])
		}
		label, _ := cat["label"].(string)
		d.steps, d.labels = append(d.steps, step), append(d.labels, label)
	}
	if len(d.steps) != len(props) {
		return nil, fmt.Errorf("form definition %s: %d steps for %d root properties", name, len(d.steps), len(props))
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	url := "urn:kycd:forms:" + name
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(mustJSON(d.Schema)))
	if err != nil {
		return nil, err
	}
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("form definition %s: %w", name, err)
	}
	d.compile = map[string]*jsonschema.Schema{}
	for _, step := range d.steps {
		sch, err := c.Compile(url + "#/properties/" + step)
		if err != nil {
			return nil, fmt.Errorf("form definition %s, step %s: %w", name, step, err)
		}
		d.compile[step] = sch
	}
	return &d, nil
}

// scopes lists every Control scope under a UI schema element, including
// those of rule conditions.
func scopes(el map[string]any) []string {
	var out []string
	if s, ok := el["scope"].(string); ok {
		out = append(out, s)
	}
	if rule, ok := el["rule"].(map[string]any); ok {
		if cond, ok := rule["condition"].(map[string]any); ok {
			out = append(out, scopes(cond)...)
		}
	}
	if kids, ok := el["elements"].([]any); ok {
		for _, k := range kids {
			if km, ok := k.(map[string]any); ok {
				out = append(out, scopes(km)...)
			}
		}
	}
	return out
}

// rootProperty returns the root property a "#/properties/a/properties/b" scope names.
func rootProperty(scope string) (string, bool) {
	parts := strings.Split(strings.TrimPrefix(scope, "#/"), "/")
	if !strings.HasPrefix(scope, "#/") || len(parts) < 2 || parts[0] != "properties" {
		return "", false
	}
	return parts[1], true
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Latest returns the newest version of a form.
func (r *Registry) Latest(code string) (*Definition, bool) {
	ds := r.byCode[code]
	if len(ds) == 0 {
		return nil, false
	}
	return ds[len(ds)-1], true
}

// Version returns a given version of a form (a form instance keeps the
// version it was started with).
func (r *Registry) Version(code string, v int) (*Definition, bool) {
	for _, d := range r.byCode[code] {
		if d.Version == v {
			return d, true
		}
	}
	return nil, false
}

// Starting returns the version a new instance of a form runs on: the
// newest whose steps hold every step the first answers name, or the
// newest when none does (its own refusal then names the steps it has).
// The versions of a form share its published formId: a client answering
// the questions of an older version Uphold still documents (seed 004's
// crypto risk assessment, beside the one of Uphold's OpenAPI document)
// starts that version, and keeps it, as an instance keeps its version.
func (r *Registry) Starting(code string, answers map[string]any) (*Definition, bool) {
	ds := r.byCode[code]
	for i := len(ds) - 1; i >= 0 && len(answers) > 0; i-- {
		holds := true
		for step := range answers {
			holds = holds && index(ds[i].steps, step) >= 0
		}
		if holds {
			return ds[i], true
		}
	}
	return r.Latest(code)
}

// All lists every definition, by code then version.
func (r *Registry) All() []*Definition {
	var out []*Definition
	codes := make([]string, 0, len(r.byCode))
	for c := range r.byCode {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		out = append(out, r.byCode[c]...)
	}
	return out
}
