package kyc

// ProcessView is a process as the Core API shows it: its code and status,
// and (detailed) how it is verified, what was submitted, what the
// verification produced and, for forms, what to answer next.
type ProcessView struct {
	Code         string         `json:"code"`
	Status       string         `json:"status"`
	Type         string         `json:"type,omitempty"`
	Verification *Verification  `json:"verification,omitempty"`
	Input        map[string]any `json:"input,omitempty"`
	Output       map[string]any `json:"output,omitempty"`
	Hint         map[string]any `json:"hint,omitempty"`
}

// Verification is how a process is verified.
type Verification struct {
	Model        string   `json:"model"`
	Method       string   `json:"method"`
	Triggers     []string `json:"triggers,omitempty"`
	Dependencies []string `json:"dependencies"`
	// Submittable is given for identity and proof of address.
	Submittable *bool `json:"submittable,omitempty"`
	// Rules are the profile's per-field rules.
	Rules any `json:"rules,omitempty"`
}

// Overview is a user's KYC at a glance.
type Overview struct {
	Summary   Summary                 `json:"summary"`
	Processes map[string]*ProcessView `json:"processes"`
}

// Summary statuses.
const (
	SummaryOK         = "ok"
	SummaryPending    = "pending"
	SummaryBlocked    = "blocked"
	SummaryRestricted = "restricted"
)

// SummaryReasonNone is the summary's reason when no requirement or
// restriction explains its status (Uphold's examples show it for ok).
const SummaryReasonNone = "none"

// Summary is the overall KYC status with the reason that decides it.
type Summary struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// Warning is a part of a request that was ignored, with why.
type Warning struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// Capability is something a user may or may not do yet, with what the user
// must still do (requirements) and what stands in the way (restrictions).
type Capability struct {
	Code         string   `json:"code"`
	Name         string   `json:"name"`
	Enabled      bool     `json:"enabled"`
	Requirements []string `json:"requirements"`
	Restrictions []string `json:"restrictions"`
}
