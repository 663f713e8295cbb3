package sumsub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/connector"
)

// Provider reads Sumsub applicants for the ingestion worker (it implements
// connector.Provider) with each tenant's credentials.
type Provider struct {
	// HTTP should be netguard's client.
	HTTP *http.Client
	// Retries and Backoff tune the retries of failed requests (0: defaults).
	Retries int
	Backoff time.Duration
	// MaxImageBytes caps a downloaded image (0: the client's default).
	MaxImageBytes int64
	// Now is the signatures' clock (nil: time.Now).
	Now func() time.Time
}

var _ connector.Provider = (*Provider)(nil)

func (p *Provider) client(cfg *kycd.ConnectorConfig) *Client {
	c := NewClient(cfg.BaseURL, cfg.AppToken, cfg.Secret, p.HTTP)
	if p.Retries > 0 || p.Backoff > 0 {
		c.SetBackoff(p.Retries, p.Backoff)
	}
	if p.MaxImageBytes > 0 {
		c.MaxImageBytes = p.MaxImageBytes
	}
	if p.Now != nil {
		c.Now = p.Now
	}
	return c
}

// failure turns Sumsub's refusal into the ingestion's error.
func failure(err error) error {
	var ce *ClientError
	if errors.As(err, &ce) {
		msg := ce.Description
		if msg == "" {
			msg = http.StatusText(ce.Status)
		}
		return &connector.Failure{Code: kycd.ESumsubClient, Message: "Sumsub refused the request: " + msg,
			Details: map[string]any{"status": ce.Status, "errorCode": ce.ErrorCode}}
	}
	return err
}

// Liveness issues a liveness access token ("token") or WebSDK link ("url")
// for a user of the tenant's Sumsub account.
func (p *Provider) Liveness(ctx context.Context, cfg *kycd.ConnectorConfig, kind, userID, levelName string, ttl time.Duration) (string, error) {
	c := p.client(cfg)
	if kind == "url" {
		return c.WebSDKLink(ctx, userID, levelName, ttl)
	}
	return c.AccessToken(ctx, userID, levelName, ttl)
}

// DocumentReviews reads Sumsub's review of each active document image of
// an applicant (its selfie aside): GREEN approved, RED rejected, no answer
// ignored, with the review's clientComment.
func (p *Provider) DocumentReviews(ctx context.Context, cfg *kycd.ConnectorConfig, applicantID string) ([]kycd.DocumentReview, error) {
	images, err := p.client(cfg).Images(ctx, applicantID)
	if err != nil {
		return nil, err
	}
	var out []kycd.DocumentReview
	for _, im := range images {
		if im.Deactivated || im.IDDocDef.IDDocType == "SELFIE" || im.IDDocDef.IDDocType == "" {
			continue
		}
		status := "ignored"
		switch im.ReviewResult.ReviewAnswer {
		case "GREEN":
			status = kycd.OutcomeApproved
		case "RED":
			status = kycd.OutcomeRejected
		}
		out = append(out, kycd.DocumentReview{Type: im.IDDocDef.IDDocType, Side: im.IDDocDef.IDDocSubType, Status: status, Note: im.ReviewResult.ClientComment})
	}
	return out, nil
}

// Fetch implements connector.Provider: it imports a share token (once) or
// reads the applicant, and its images' metadata.
func (p *Provider) Fetch(ctx context.Context, cfg *kycd.ConnectorConfig, src *kycd.IngestionSource) (*connector.Verification, error) {
	c := p.client(cfg)
	var (
		a   *Applicant
		err error
	)
	if src.Resolved == "" {
		if a, err = c.ImportShareToken(ctx, src.Ref); err == nil {
			src.Resolved = a.ID
		}
	} else {
		a, err = c.Applicant(ctx, src.Resolved)
	}
	if err != nil {
		return nil, failure(err)
	}
	if a.Review.ReviewStatus != "completed" || a.Review.ReviewResult.ReviewAnswer != "GREEN" {
		return &connector.Verification{Refusal: &connector.Failure{Code: kycd.ESumsubReviewState,
			Message: fmt.Sprintf("The Sumsub applicant is not approved (review status %q, answer %q)", a.Review.ReviewStatus, a.Review.ReviewResult.ReviewAnswer),
			Details: map[string]any{"reviewStatus": a.Review.ReviewStatus, "reviewAnswer": a.Review.ReviewResult.ReviewAnswer}}}, nil
	}
	images, err := c.Images(ctx, a.ID)
	if err != nil {
		return nil, failure(err)
	}
	return verification(a, images), nil
}

// Download implements connector.Provider.
func (p *Provider) Download(ctx context.Context, cfg *kycd.ConnectorConfig, _ *kycd.IngestionSource, m connector.Media) (io.ReadCloser, string, error) {
	body, ct, err := p.client(cfg).DownloadImage(ctx, m.Locator, m.ID)
	return body, ct, failure(err)
}

var isoSubdivision = regexp.MustCompile(`^[A-Z]{2}-[A-Z0-9]{1,3}$`)

// verification maps an approved applicant to kycd's vocabulary: what
// Sumsub recognised (info) first, what it was told (fixedInfo) after.
func verification(a *Applicant, images []Image) *connector.Verification {
	info, fixed := a.Info, a.FixedInfo
	first := connector.Name(pick(info.FirstName, fixed.FirstName))
	last := connector.Name(pick(info.LastName, fixed.LastName))
	dob, _ := connector.Date(pick(info.Dob, fixed.Dob))
	v := &connector.Verification{}
	var doc *IDDoc
	for i := range info.IDDocs {
		if connector.DocumentType(connector.Sumsub, info.IDDocs[i].IDDocType) != connector.DocUnsupported {
			doc = &info.IDDocs[i]
			break
		}
	}
	citizenship, _ := connector.Country(pick(fixed.Nationality, info.Nationality))
	if citizenship == "" && doc != nil && doc.IDDocType == "PASSPORT" {
		citizenship, _ = connector.Country(doc.Country)
	}
	if first != "" || last != "" || dob != "" {
		v.Profile = &connector.ProfileData{FullName: strings.TrimSpace(first + " " + last), Birthdate: dob, PrimaryCitizenship: citizenship}
		town, country := pick(info.PlaceOfBirth, fixed.PlaceOfBirth), pick(info.CountryOfBirth, fixed.CountryOfBirth)
		if c, ok := connector.Country(country); ok {
			v.Profile.Birthplace = &connector.Birthplace{Town: town, Country: c}
		}
	}
	addrs := info.Addresses
	if len(addrs) == 0 {
		addrs = fixed.Addresses
	}
	if len(addrs) > 0 {
		v.Address = address(addrs[0])
	}
	verifiedAt := reviewTime(pick(a.Review.ReviewDate, a.CreatedAt))
	if doc != nil {
		country, _ := connector.Country(doc.Country)
		expires, _ := connector.Date(doc.ValidUntil)
		birth, ok := connector.Date(doc.Dob)
		if !ok {
			birth = dob
		}
		v.Identity = &connector.IdentityData{
			Document: connector.Document{Type: connector.DocumentType(connector.Sumsub, doc.IDDocType), Number: doc.Number, Country: country, ExpiresAt: expires},
			Person: connector.Person{GivenName: pick(connector.Name(doc.FirstName), first), FamilyName: pick(connector.Name(doc.LastName), last),
				Birthdate: birth, Gender: map[string]string{"M": "male", "F": "female"}[strings.ToUpper(pick(info.Gender, fixed.Gender))]},
			VerifiedAt: verifiedAt,
		}
	}
	for _, img := range images {
		if img.Deactivated || img.ReviewResult.ReviewAnswer == "RED" {
			continue
		}
		ctx := connector.SumsubMediaContext(img.IDDocDef.IDDocType, img.IDDocDef.IDDocSubType)
		if ctx == "" {
			continue
		}
		process := kycd.ProcessIdentity
		if ctx == connector.MediaAddressProof {
			process = kycd.ProcessProofOfAddress
		}
		v.Media = append(v.Media, connector.Media{ID: img.ID.String(), Locator: a.InspectionID, Process: process, Context: ctx,
			Video:           ctx == connector.MediaVideo,
			ProviderDetails: map[string]any{"fileId": img.ID.String(), "idDocType": img.IDDocDef.IDDocType}})
	}
	if v.Address != nil {
		v.ProofOfAddress = &connector.ProofOfAddressData{Person: connector.Person{GivenName: first, FamilyName: last, Address: v.Address}, VerifiedAt: verifiedAt}
	}
	return v
}

func address(a Address) *kycd.Address {
	country, _ := connector.Country(a.Country)
	out := &kycd.Address{Country: country, City: connector.Name(a.Town), Line1: a.Street, Line2: a.SubStreet, PostalCode: a.PostCode}
	if s := strings.ToUpper(pick(a.StateEn, a.State)); isoSubdivision.MatchString(s) {
		out.Subdivision = s
	}
	return out
}

// reviewTime turns Sumsub's "2020-06-24 05:12:58+0000" (or without the
// zone) into RFC 3339; "" stays "".
func reviewTime(s string) string {
	for _, layout := range []string{"2006-01-02 15:04:05-0700", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format("2006-01-02T15:04:05.000Z")
		}
	}
	return ""
}

func pick(values ...string) string {
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// Webhook implements connector.Provider: X-Payload-Digest with the
// algorithm X-Payload-Digest-Alg names, keyed with the webhook secret.
func (p *Provider) Webhook(cfg *kycd.ConnectorConfig, h http.Header, body []byte) (*kycd.ProviderEvent, error) {
	if cfg.WebhookSecret == "" || VerifyWebhook(cfg.WebhookSecret, h.Get(HeaderDigestAlg), h.Get(HeaderDigest), body) != nil {
		return nil, connector.ErrBadSignature
	}
	w, err := ParseWebhook(body)
	if err != nil {
		return nil, err
	}
	return w.Event(), nil
}
