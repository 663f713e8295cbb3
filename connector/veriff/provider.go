package veriff

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/connector"
)

// Provider reads Veriff sessions for the ingestion worker (it implements
// connector.Provider) with each tenant's integrations.
type Provider struct {
	// HTTP should be netguard's client.
	HTTP *http.Client
	// Retries and Backoff tune the retries of failed requests (0: defaults).
	Retries int
	Backoff time.Duration
	// MaxMediaBytes caps a downloaded file (0: the client's default).
	MaxMediaBytes int64
}

var _ connector.Provider = (*Provider)(nil)

func (p *Provider) client(cfg *kycd.ConnectorConfig, src *kycd.IngestionSource) (*Client, error) {
	integ := cfg.FindIntegration(src.Integration)
	if integ == nil {
		return nil, &connector.Failure{Code: kycd.EWorkflow, Message: fmt.Sprintf("The integration %q is no longer in the Veriff configuration", src.Integration)}
	}
	c := NewClient(cfg.BaseURL, integ.APIKey, integ.SharedSecretKey, p.HTTP)
	if p.Retries > 0 || p.Backoff > 0 {
		c.Retries, c.Backoff = p.Retries, p.Backoff
	}
	if p.MaxMediaBytes > 0 {
		c.MaxMediaBytes = p.MaxMediaBytes
	}
	return c, nil
}

// failure turns Veriff's refusal into the ingestion's error.
func failure(err error) error {
	var ce *ClientError
	if errors.As(err, &ce) {
		msg := ce.Message
		if msg == "" {
			msg = http.StatusText(ce.Status)
		}
		return &connector.Failure{Code: kycd.EVeriffClient, Message: "Veriff refused the request: " + msg,
			Details: map[string]any{"status": ce.Status, "code": ce.Code}}
	}
	return err
}

// Fetch implements connector.Provider: the session's decision and media.
func (p *Provider) Fetch(ctx context.Context, cfg *kycd.ConnectorConfig, src *kycd.IngestionSource) (*connector.Verification, error) {
	c, err := p.client(cfg, src)
	if err != nil {
		return nil, err
	}
	d, err := c.Decision(ctx, src.Ref)
	if err != nil {
		return nil, failure(err)
	}
	if d.Verification == nil || d.Verification.Status != "approved" {
		status := "none"
		if d.Verification != nil {
			status = d.Verification.Status
		}
		return &connector.Verification{Refusal: &connector.Failure{Code: kycd.EVeriffNotApproved,
			Message: fmt.Sprintf("The Veriff session is not approved (decision %q)", status), Details: map[string]any{"decision": status}}}, nil
	}
	media, err := c.Media(ctx, src.Ref)
	if err != nil {
		return nil, failure(err)
	}
	v := verification(d.Verification, media)
	if v.Profile != nil && v.Profile.PrimaryCitizenship == "" && slices.Contains(src.Processes, kycd.ProcessProfile) {
		// The decision did not say: the person record may.
		p, err := c.Person(ctx, src.Ref)
		var ce *ClientError
		switch {
		case errors.As(err, &ce) && ce.Status == http.StatusNotFound:
		case err != nil:
			return nil, failure(err)
		default:
			v.Profile.PrimaryCitizenship, _ = connector.Country(str(p.Nationality))
		}
	}
	return v, nil
}

// Download implements connector.Provider.
func (p *Provider) Download(ctx context.Context, cfg *kycd.ConnectorConfig, src *kycd.IngestionSource, m connector.Media) (io.ReadCloser, string, error) {
	c, err := p.client(cfg, src)
	if err != nil {
		return nil, "", err
	}
	body, ct, err := c.Download(ctx, m.ID)
	return body, ct, failure(err)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(*p)
}

// verification maps an approved session to kycd's vocabulary.
func verification(vr *Verification, media *MediaList) *connector.Verification {
	v := &connector.Verification{}
	verifiedAt := ""
	if t, err := time.Parse(time.RFC3339Nano, vr.DecisionTime); err == nil {
		verifiedAt = t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	var first, last, dob string
	if pr := vr.Person; pr != nil {
		first, last = connector.Name(str(pr.FirstName)), connector.Name(str(pr.LastName))
		dob, _ = connector.Date(str(pr.DateOfBirth))
		citizenship, _ := connector.Country(str(pr.Nationality))
		if first != "" || last != "" || dob != "" {
			v.Profile = &connector.ProfileData{FullName: strings.TrimSpace(first + " " + last), Birthdate: dob, PrimaryCitizenship: citizenship}
		}
		if len(pr.Addresses) > 0 {
			v.Address = address(pr.Addresses[0])
		}
	}
	if doc := vr.Document; doc != nil && vr.Person != nil {
		country, _ := connector.Country(str(doc.Country))
		expires, _ := connector.Date(str(doc.ValidUntil))
		v.Identity = &connector.IdentityData{
			Document:   connector.Document{Type: connector.DocumentType(connector.Veriff, str(doc.Type)), Number: str(doc.Number), Country: country, ExpiresAt: expires},
			Person:     connector.Person{GivenName: first, FamilyName: last, Birthdate: dob, Gender: map[string]string{"M": "male", "F": "female"}[strings.ToUpper(str(vr.Person.Gender))]},
			VerifiedAt: verifiedAt,
		}
	}
	if v.Address != nil {
		v.ProofOfAddress = &connector.ProofOfAddressData{Person: connector.Person{GivenName: first, FamilyName: last, Address: v.Address}, VerifiedAt: verifiedAt}
	}
	add := func(list []Media, video bool) {
		final := map[string]bool{}
		for _, m := range list {
			final[m.Context] = true
		}
		for _, m := range list {
			ctx := connector.VeriffMediaContext(m.Context, video)
			if ctx == "" || (strings.HasSuffix(m.Context, "-pre") && final[strings.TrimSuffix(m.Context, "-pre")]) {
				continue // a first capture the final one replaces
			}
			process := kycd.ProcessIdentity
			if ctx == connector.MediaAddressProof {
				process = kycd.ProcessProofOfAddress
			}
			v.Media = append(v.Media, connector.Media{ID: m.ID, Process: process, Context: ctx, Video: video,
				ProviderDetails: map[string]any{"mediaId": m.ID, "context": m.Context}})
		}
	}
	add(media.Images, false)
	add(media.Videos, true)
	return v
}

func address(a Address) *kycd.Address {
	pa := a.ParsedAddress
	country, _ := connector.Country(str(pa.Country))
	line1 := str(pa.Street)
	if n := str(pa.HouseNumber); n != "" && !strings.HasPrefix(line1, n+" ") && !strings.HasSuffix(line1, " "+n) {
		line1 = n + " " + line1
	}
	return &kycd.Address{Country: country, City: connector.Name(str(pa.City)), Line1: line1, Line2: str(pa.Unit), PostalCode: str(pa.Postcode)}
}

// Webhook implements connector.Provider: X-AUTH-CLIENT names the
// integration whose shared secret signed X-HMAC-SIGNATURE over the body.
func (p *Provider) Webhook(cfg *kycd.ConnectorConfig, h http.Header, body []byte) (*kycd.ProviderEvent, error) {
	key := AuthClient(h)
	var integ *kycd.VeriffIntegration
	for i := range cfg.Integrations {
		if cfg.Integrations[i].APIKey == key {
			integ = &cfg.Integrations[i]
		}
	}
	if integ == nil || VerifyWebhook(h, body, integ.SharedSecretKey) != nil {
		return nil, connector.ErrBadSignature
	}
	w, err := ParseWebhook(body)
	if err != nil {
		return nil, err
	}
	return w.Event(integ.Name), nil
}
