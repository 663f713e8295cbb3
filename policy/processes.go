package policy

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/kycd/kycd"
)

// ProcessPolicy is how one KYC process is run: how it is verified, what it
// depends on, which form it asks, how often it may be retried, how long its
// result holds, and under which general terms it applies at all.
type ProcessPolicy struct {
	Code string `json:"-"`
	// Method is Uphold's verification method: automatic or manual.
	Method string `json:"method"`
	// Dependencies must be ok (or exempt) before the process may be updated.
	Dependencies []string `json:"dependencies"`
	// Triggers are the processes whose change calls for this one again.
	Triggers []string `json:"triggers,omitempty"`
	// Form is the form definition code of a form-based process.
	Form string `json:"form,omitempty"`
	// Attempts limits the evaluations of a form (0: unlimited); Cooldown is
	// the wait after a rejection before the next attempt.
	Attempts int      `json:"attempts,omitempty"`
	Cooldown Duration `json:"cooldown,omitempty"`
	// ValidFor is how long a verified result holds (0: indefinitely).
	ValidFor Duration `json:"validFor,omitempty"`
	// AppliesUnder lists the general terms under which the process applies;
	// everywhere when empty. Elsewhere it is exempt.
	AppliesUnder []string `json:"appliesUnder,omitempty"`
}

// Duration is a time.Duration written as "24h" in the data files.
type Duration time.Duration

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Std returns the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

type processesFile struct {
	Version   int                       `json:"version"`
	Processes map[string]*ProcessPolicy `json:"processes"`
	Profile   struct {
		DetailsForms               map[string]string `json:"detailsForms"`
		BirthplaceRequiredIn       []string          `json:"birthplaceRequiredIn"`
		OtherCitizenshipsAllowedIn []string          `json:"otherCitizenshipsAllowedIn"`
		SubdivisionFixedIn         []string          `json:"subdivisionFixedIn"`
	} `json:"profile"`
}

func (p *Policy) loadProcesses() error {
	raw, err := data.ReadFile("data/processes.v1.json")
	if err != nil {
		return err
	}
	var f processesFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return fmt.Errorf("policy data processes: %w", err)
	}
	for _, code := range kycd.ProcessCodes {
		pp, ok := f.Processes[code]
		if !ok {
			return fmt.Errorf("policy data processes: %s is missing", code)
		}
		pp.Code = code
		for _, d := range pp.Dependencies {
			if !slices.Contains(kycd.ProcessCodes, d) || d == code {
				return fmt.Errorf("policy data processes: %s depends on unknown process %q", code, d)
			}
		}
	}
	if len(f.Processes) != len(kycd.ProcessCodes) {
		return fmt.Errorf("policy data processes: %d processes, want %d", len(f.Processes), len(kycd.ProcessCodes))
	}
	p.processes = f.Processes
	p.birthplaceIn = f.Profile.BirthplaceRequiredIn
	p.detailsForms = f.Profile.DetailsForms
	p.otherCitizenshipsIn = f.Profile.OtherCitizenshipsAllowedIn
	p.subdivisionFixedIn = f.Profile.SubdivisionFixedIn
	return nil
}

// Process returns the policy of a process code (every code of
// kycd.ProcessCodes has one).
func (p *Policy) Process(code string) *ProcessPolicy { return p.processes[code] }

// Applies reports whether a process applies to a user: a process limited to
// some general terms is exempt for users who accepted others.
func (p *Policy) Applies(code string, u *kycd.User) bool {
	pp := p.processes[code]
	return pp != nil && (len(pp.AppliesUnder) == 0 || slices.Contains(pp.AppliesUnder, u.TermsOfService))
}

// ProfileDetailsForm returns the form of the profile details residents of a
// country must give ("" when the country needs none).
func (p *Policy) ProfileDetailsForm(country string) string { return p.detailsForms[country] }

// Presence values of verification rules.
const (
	Required   = "required"
	Optional   = "optional"
	Disallowed = "disallowed"
)

// FieldRule says whether a profile field must, may or must not be given,
// and whether it may still change; Rules holds the rules of its parts.
type FieldRule struct {
	Presence string               `json:"presence"`
	Editable bool                 `json:"editable"`
	Rules    map[string]FieldRule `json:"rules,omitempty"`
}

// ProfileFacts are what the profile's rules depend on besides the country.
type ProfileFacts struct {
	// IdentityVerified: a verified identity freezes the name and birthdate.
	IdentityVerified bool
	// SubdivisionLocked: a declared subdivision changes only with a
	// partner-verified proof of address (it decides which rules apply).
	SubdivisionLocked bool
	// SubdivisionDeclared: the user has declared a subdivision (in a
	// country where it is fixed, it then never changes).
	SubdivisionDeclared bool
}

// SubdivisionFixed reports whether a resident's declared subdivision never
// changes through the API in a country (in the US the state decides which
// licences and rules apply: a move is handled by the operator, not by the
// user), whatever proof of address the user has.
func (p *Policy) SubdivisionFixed(country string) bool {
	return slices.Contains(p.subdivisionFixedIn, country)
}

// BirthplaceRequired reports whether residents of a country must declare
// their birthplace (the profile's rule, without building all of them).
func (p *Policy) BirthplaceRequired(country string) bool {
	return slices.Contains(p.birthplaceIn, country)
}

// ProfileRules are the profile's verification rules for a resident of a
// country.
func (p *Policy) ProfileRules(country string, f ProfileFacts, g kycd.Geography) map[string]FieldRule {
	rule := func(presence string, editable bool) FieldRule {
		return FieldRule{Presence: presence, Editable: editable && presence != Disallowed}
	}
	birthplace := Disallowed
	if p.BirthplaceRequired(country) {
		birthplace = Required
	}
	others := Disallowed
	if slices.Contains(p.otherCitizenshipsIn, country) {
		others = Optional
	}
	subdivision, postal := Optional, Optional
	if g.RequiresSubdivision(country) {
		subdivision = Required
	}
	if g.UsesPostalCodes(country) {
		postal = Required
	}
	bp := rule(birthplace, true)
	bp.Rules = map[string]FieldRule{"country": rule(Required, bp.Editable), "town": rule(Required, bp.Editable)}
	addr := rule(Required, true)
	addr.Rules = map[string]FieldRule{
		"subdivision": rule(subdivision, !f.SubdivisionLocked && !(f.SubdivisionDeclared && p.SubdivisionFixed(country))), "city": rule(Required, true), "line1": rule(Required, true),
		"line2": rule(Optional, true), "postalCode": rule(postal, true),
	}
	return map[string]FieldRule{
		"fullName":           rule(Required, !f.IdentityVerified),
		"birthdate":          rule(Required, !f.IdentityVerified),
		"birthplace":         bp,
		"primaryCitizenship": rule(Required, true),
		"otherCitizenships":  rule(others, true),
		"address":            addr,
	}
}

// CapabilityPolicy is a capability and the processes it requires.
type CapabilityPolicy struct {
	Code     string   `json:"code"`
	Name     string   `json:"name"`
	Requires []string `json:"requires"`
}

func (p *Policy) loadCapabilities() error {
	raw, err := data.ReadFile("data/capabilities.v1.json")
	if err != nil {
		return err
	}
	var f struct {
		Capabilities []CapabilityPolicy `json:"capabilities"`
		Unavailable  []CapabilityPolicy `json:"unavailable"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return fmt.Errorf("policy data capabilities: %w", err)
	}
	for _, c := range f.Capabilities {
		for _, r := range c.Requires {
			if !slices.Contains(kycd.ProcessCodes, r) {
				return fmt.Errorf("policy data capabilities: %s requires unknown process %q", c.Code, r)
			}
		}
	}
	p.capabilities, p.unavailable = f.Capabilities, f.Unavailable
	return nil
}

// Unavailable returns a capability Uphold documents that kycd has no
// product for (cards, wallets, vIBANs): asked about, it is disabled.
func (p *Policy) Unavailable(code string) (CapabilityPolicy, bool) {
	i := slices.IndexFunc(p.unavailable, func(c CapabilityPolicy) bool { return c.Code == code })
	if i < 0 {
		return CapabilityPolicy{}, false
	}
	return p.unavailable[i], true
}

// Capabilities lists the capabilities, by code.
func (p *Policy) Capabilities() []CapabilityPolicy { return slices.Clone(p.capabilities) }
