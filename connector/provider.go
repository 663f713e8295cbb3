package connector

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/kycd/kycd"
)

// Provider reads verifications from one provider for the ingestion worker.
// connector/sumsub and connector/veriff implement it.
type Provider interface {
	// Fetch reads the verification a source names. A source that must be
	// resolved first (a Sumsub share token, imported once) gets
	// src.Resolved set, which the worker saves before going on. A
	// verification that is not approved is returned with Refusal set.
	Fetch(ctx context.Context, cfg *kycd.ConnectorConfig, src *kycd.IngestionSource) (*Verification, error)
	// Download opens one media file: a stream of its bytes (failing with
	// ErrTooLarge past the provider's cap), which the caller closes, and the
	// content type read from its first bytes.
	Download(ctx context.Context, cfg *kycd.ConnectorConfig, src *kycd.IngestionSource, m Media) (io.ReadCloser, string, error)
	// Webhook verifies a webhook the provider sent a tenant (ErrBadSignature)
	// and reads it (ErrDataInvalid) as an event.
	Webhook(cfg *kycd.ConnectorConfig, h http.Header, body []byte) (*kycd.ProviderEvent, error)
}

// ErrBadSignature is a webhook whose signature does not verify.
var ErrBadSignature = errors.New("connector: the webhook signature does not verify")

// Verification is what a provider verified, in kycd's vocabulary
// (normalize.go; docs/design.md, KYC Connector). A nil part is data the
// provider does not have.
type Verification struct {
	// Refusal is why the verification cannot be ingested (not approved).
	Refusal        *Failure
	Profile        *ProfileData
	Address        *kycd.Address
	Identity       *IdentityData
	ProofOfAddress *ProofOfAddressData
	Media          []Media
}

// ProfileData is the profile a verification establishes.
type ProfileData struct {
	FullName           string      `json:"fullName,omitempty"`
	Birthdate          string      `json:"birthdate,omitempty"`
	Birthplace         *Birthplace `json:"birthplace,omitempty"`
	PrimaryCitizenship string      `json:"primaryCitizenship,omitempty"`
}

// Birthplace is where a person was born.
type Birthplace struct {
	Town    string `json:"town,omitempty"`
	Country string `json:"country,omitempty"`
}

// Document is an identity document a verification read, as the identity
// process takes it.
type Document = kycd.VerifiedDocument

// Person is who a verification found, as the identity and proof-of-address
// processes take it.
type Person = kycd.VerifiedPerson

// IdentityData is a verified identity document and its holder.
type IdentityData struct {
	Document   Document `json:"document"`
	Person     Person   `json:"person"`
	VerifiedAt string   `json:"verifiedAt"`
}

// ProofOfAddressData is a verified proof of address.
type ProofOfAddressData struct {
	Person     Person `json:"person"`
	VerifiedAt string `json:"verifiedAt"`
}

// Media is one file of a verification, for a process.
type Media struct {
	// ID is the provider's id of the file; Locator what else the provider
	// needs to download it (Sumsub's inspection id).
	ID      string
	Locator string
	Process string
	Context string
	// Video marks a video (category "video"); images and PDFs are told
	// apart by their content.
	Video           bool
	ProviderDetails map[string]any
}

// Failure is a permanent failure of a provider read: retrying it will not
// help. Code is the ingestion error code it gives the processes.
type Failure struct {
	Code    string
	Message string
	Details map[string]any
}

func (f *Failure) Error() string { return f.Code + ": " + f.Message }

// asMap turns a data struct into the generic map results and process
// updates carry.
func asMap(v any) map[string]any {
	m, _ := kycd.DataMap(v) // the connector's data structs always encode
	return m
}
