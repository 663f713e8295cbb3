package levels

import (
	"time"

	"github.com/kycd/kycd"
)

// LevelRef names a level.
type LevelRef struct {
	UUID  string `json:"uuid"`
	Name  string `json:"name"`
	Order int    `json:"order"`
}

// Ref returns the level's reference.
func (l *Level) Ref() LevelRef { return LevelRef{UUID: l.UUID, Name: l.Name, Order: l.Order} }

// AttributeView is an attribute of an application as the API shows it.
type AttributeView struct {
	Key           string   `json:"key"`
	Type          string   `json:"type"`
	Title         string   `json:"title"`
	Value         any      `json:"value"`
	SignProviders []string `json:"sign_providers,omitempty"`
	// DefinitionsURL lists the choices of a reference data attribute.
	DefinitionsURL string `json:"definitions_url,omitempty"`
	// LegalDocument is the document a legal document attribute confirms.
	LegalDocument *LegalDocumentView `json:"legal_document,omitempty"`
	// Correction is what a reviewer asked to correct.
	Correction   string         `json:"correction,omitempty"`
	Verification map[string]any `json:"verification,omitempty"`
	// AdditionalInfo, for a liveness check, is the contact it is for.
	AdditionalInfo map[string]any `json:"additional_info,omitempty"`
	// ExpiresAt ends a liveness token or link.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// LegalDocumentView is a legal document as the API shows it.
type LegalDocumentView struct {
	UUID       string `json:"uuid"`
	Key        string `json:"key"`
	ClientType string `json:"client_type"`
	Version    int    `json:"version"`
	Title      string `json:"title"`
	Text       string `json:"text,omitempty"`
}

// View returns the legal document's view.
func (d *LegalDocument) View(withText bool) *LegalDocumentView {
	v := &LegalDocumentView{UUID: d.UUID, Key: d.Key, ClientType: d.ClientType, Version: d.Version, Title: d.Title}
	if withText {
		v.Text = d.Text
	}
	return v
}

// QuestionView is a question with its attribute.
type QuestionView struct {
	Title     string        `json:"title"`
	Required  bool          `json:"required"`
	Attribute AttributeView `json:"attribute"`
}

// StepView is a step of the questionnaire.
type StepView struct {
	Title     string         `json:"title"`
	Questions []QuestionView `json:"questions"`
}

// ReviewView is a reviewer's decision (the admin view shows them).
type ReviewView struct {
	Decision    string            `json:"decision"`
	Reviewer    string            `json:"reviewer"`
	Reason      string            `json:"reason"`
	Corrections map[string]string `json:"corrections,omitempty"`
	At          time.Time         `json:"at"`
	// FourEyes is the review's four-eyes step: proposed, confirmed or
	// disputed (absent for a decision one reviewer made alone).
	FourEyes string `json:"four_eyes,omitempty"`
}

// reviewView is a review as the admin view shows it.
func reviewView(r kycd.Review) ReviewView {
	return ReviewView{Decision: r.Decision, Reviewer: r.Reviewer, Reason: r.Reason, Corrections: r.Corrections, At: r.At, FourEyes: r.FourEyes}
}

// ApplicationView is an application as the /v1 surface shows it: the
// questionnaire of its level with the values given.
type ApplicationView struct {
	UUID            string       `json:"uuid"`
	Status          string       `json:"status"`
	LegalEntityUUID string       `json:"legal_entity_uuid"`
	ClientUUID      string       `json:"client_uuid"`
	KYCLevel        LevelRef     `json:"kyc_level"`
	KYCSteps        []StepView   `json:"kyc_steps"`
	Reviews         []ReviewView `json:"reviews,omitempty"`
	// Proposal is a decision awaiting its second reviewer under four eyes
	// (reviewers' view).
	Proposal *ReviewView `json:"proposal,omitempty"`
	// CoreProcesses is what an approved application's submission into the
	// Core KYC processes came to (reviewers' view).
	CoreProcesses map[string]string `json:"core_processes,omitempty"`
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
	SubmittedAt   *time.Time        `json:"submitted_at,omitempty"`
	DecidedAt     *time.Time        `json:"decided_at,omitempty"`
}

// AttributeView returns the view of one attribute of an application.
func (c *Catalog) AttributeView(a *kycd.Application, key string) AttributeView {
	attr := c.Attributes[key]
	v := AttributeView{Key: key, Type: attr.Type, Title: attr.Title, SignProviders: attr.SignProviders, Correction: a.Data.Corrections[key]}
	switch attr.Type {
	case TypeReferenceData:
		v.DefinitionsURL = "/v1/attributes/" + key + "/definitions/"
	case TypeLegalDocument:
		if d := c.LatestLegalDocument(attr.LegalDocument, ""); d != nil {
			v.LegalDocument = d.View(false)
		}
	}
	if val, ok := a.Data.Attributes[key]; ok {
		v.Value, v.Verification, v.ExpiresAt, v.AdditionalInfo = val.Value, val.Verification, val.ExpiresAt, val.Info
		if attr.Type == TypeDocument && val.Verification != nil {
			// Sumsub's diagnostics of the document, where seed 003 reads them.
			v.Value = map[string]any{"uuid": val.Value, "verification": val.Verification}
		}
		at := val.UpdatedAt
		v.UpdatedAt = &at
	}
	return v
}

// View returns an application as the API shows it; reviews only for
// reviewers.
func (c *Catalog) View(a *kycd.Application, reviews bool) *ApplicationView {
	v := &ApplicationView{UUID: a.ID, Status: a.Status, LegalEntityUUID: a.TenantID, ClientUUID: a.UserID, KYCSteps: []StepView{},
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, SubmittedAt: a.SubmittedAt, DecidedAt: a.DecidedAt}
	l, ok := c.Level(a.LevelID)
	if !ok {
		v.KYCLevel = LevelRef{UUID: a.LevelID}
		return v
	}
	v.KYCLevel = l.Ref()
	for _, st := range l.Steps {
		sv := StepView{Title: st.Title, Questions: []QuestionView{}}
		for _, q := range st.Questions {
			sv.Questions = append(sv.Questions, QuestionView{Title: q.Title, Required: q.Required, Attribute: c.AttributeView(a, q.Attribute)})
		}
		v.KYCSteps = append(v.KYCSteps, sv)
	}
	if reviews {
		v.CoreProcesses = a.Data.Core
		for _, r := range a.Data.Reviews {
			v.Reviews = append(v.Reviews, reviewView(r))
		}
		if p := a.Data.Proposal; p != nil {
			pv := reviewView(*p)
			v.Proposal = &pv
		}
	}
	return v
}
