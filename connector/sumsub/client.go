package sumsub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/kycd/kycd/connector"
)

// DefaultBaseURL is Sumsub's API host.
const DefaultBaseURL = "https://api.sumsub.com"

// Client reads applicants from a tenant's Sumsub account. Every request is
// signed (X-App-Token, X-App-Access-Ts, X-App-Access-Sig) over the exact
// request URI and body.
type Client struct {
	base, appToken, secret string
	fetch                  connector.Fetcher
	// MaxImageBytes caps a downloaded image.
	MaxImageBytes int64
	// Now is the clock of the signatures' timestamps.
	Now func() time.Time
}

// NewClient returns a client of an app token; hc should be netguard's.
func NewClient(baseURL, appToken, secret string, hc *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: baseURL, appToken: appToken, secret: secret,
		fetch:         connector.Fetcher{Name: "sumsub", HTTP: hc, Retries: 2, Backoff: 500 * time.Millisecond, ClientError: clientError},
		MaxImageBytes: 50 << 20, Now: time.Now}
}

// SetBackoff sets how often and how soon failed requests are retried.
func (c *Client) SetBackoff(retries int, first time.Duration) {
	c.fetch.Retries, c.fetch.Backoff = retries, first
}

// ClientError is a 4xx answer other than 429, with Sumsub's error body.
type ClientError struct {
	Status      int
	ErrorCode   int
	ErrorName   string
	Description string
}

func (e *ClientError) Error() string {
	return fmt.Sprintf("sumsub: %d (errorCode %d %s): %s", e.Status, e.ErrorCode, e.ErrorName, e.Description)
}

// RateLimited is a 429 answer: try again after RetryAfter.
type RateLimited = connector.RateLimited

// ErrDataInvalid is a response kycd cannot read as Sumsub's documented JSON.
var ErrDataInvalid = connector.ErrDataInvalid

// Applicant is an applicant as GET /resources/applicants/{id}/one shows it
// (the fields the connector reads; unknown ones are ignored).
type Applicant struct {
	ID             string `json:"id"`
	InspectionID   string `json:"inspectionId"`
	ExternalUserID string `json:"externalUserId"`
	Type           string `json:"type"`
	Info           Info   `json:"info"`
	FixedInfo      Info   `json:"fixedInfo"`
	CreatedAt      string `json:"createdAt"`
	Review         struct {
		ReviewStatus string `json:"reviewStatus"`
		LevelName    string `json:"levelName"`
		ReviewDate   string `json:"reviewDate"`
		ReviewResult struct {
			ReviewAnswer     string   `json:"reviewAnswer"`
			ReviewRejectType string   `json:"reviewRejectType"`
			RejectLabels     []string `json:"rejectLabels"`
		} `json:"reviewResult"`
	} `json:"review"`
}

// Info is what Sumsub recognised (info) or was told (fixedInfo).
type Info struct {
	FirstName   string `json:"firstName"`
	FirstNameEn string `json:"firstNameEn"`
	LastName    string `json:"lastName"`
	LastNameEn  string `json:"lastNameEn"`
	Dob         string `json:"dob"`
	Gender      string `json:"gender"`
	Country     string `json:"country"`
	Nationality string `json:"nationality"`
	// PlaceOfBirth is a town; CountryOfBirth an alpha-3 code.
	PlaceOfBirth   string    `json:"placeOfBirth"`
	CountryOfBirth string    `json:"countryOfBirth"`
	Addresses      []Address `json:"addresses"`
	IDDocs         []IDDoc   `json:"idDocs"`
}

// Address is an address Sumsub holds.
type Address struct {
	SubStreet string `json:"subStreet"`
	Street    string `json:"street"`
	State     string `json:"state"`
	StateEn   string `json:"stateEn"`
	Town      string `json:"town"`
	PostCode  string `json:"postCode"`
	Country   string `json:"country"`
}

// IDDoc is an identity document Sumsub read.
type IDDoc struct {
	IDDocType  string `json:"idDocType"`
	Country    string `json:"country"`
	Number     string `json:"number"`
	FirstName  string `json:"firstName"`
	LastName   string `json:"lastName"`
	Dob        string `json:"dob"`
	ValidUntil string `json:"validUntil"`
	Termless   bool   `json:"termless"`
}

// Image is one document image's metadata (GET …/metadata/resources).
type Image struct {
	ID       json.Number `json:"id"` // a string here, a number elsewhere
	IDDocDef struct {
		Country      string `json:"country"`
		IDDocType    string `json:"idDocType"`
		IDDocSubType string `json:"idDocSubType"`
	} `json:"idDocDef"`
	ReviewResult struct {
		ReviewAnswer  string `json:"reviewAnswer"`
		ClientComment string `json:"clientComment"`
	} `json:"reviewResult"`
	Deactivated bool `json:"deactivated"`
}

// Applicant reads an applicant of the account.
func (c *Client) Applicant(ctx context.Context, applicantID string) (*Applicant, error) {
	var a Applicant
	if err := c.json(ctx, http.MethodGet, "/resources/applicants/"+url.PathEscape(applicantID)+"/one", &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// ImportShareToken imports another Sumsub client's applicant, shared with
// a single-use token, into the account, and returns the new applicant.
func (c *Client) ImportShareToken(ctx context.Context, shareToken string) (*Applicant, error) {
	var a Applicant
	if err := c.json(ctx, http.MethodPost, "/resources/applicants/-/import?shareToken="+url.QueryEscape(shareToken), &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// AccessToken issues a WebSDK access token for the applicant of a user of
// the account (created on first use) at a verification level, valid ttl.
func (c *Client) AccessToken(ctx context.Context, userID, levelName string, ttl time.Duration) (string, error) {
	var r struct {
		Token  string `json:"token"`
		UserID string `json:"userId"`
	}
	q := url.Values{"userId": {userID}, "levelName": {levelName}, "ttlInSecs": {fmt.Sprint(int(ttl.Seconds()))}}
	if err := c.json(ctx, http.MethodPost, "/resources/accessTokens?"+q.Encode(), &r); err != nil {
		return "", err
	}
	if r.Token == "" {
		return "", connector.ErrDataInvalid
	}
	return r.Token, nil
}

// WebSDKLink returns a link to Sumsub's hosted WebSDK for a user of the
// account at a verification level, valid ttl.
func (c *Client) WebSDKLink(ctx context.Context, userID, levelName string, ttl time.Duration) (string, error) {
	var r struct {
		URL string `json:"url"`
	}
	q := url.Values{"externalUserId": {userID}, "ttlInSecs": {fmt.Sprint(int(ttl.Seconds()))}}
	if err := c.json(ctx, http.MethodPost, "/resources/sdkIntegrations/levels/"+url.PathEscape(levelName)+"/websdkLink?"+q.Encode(), &r); err != nil {
		return "", err
	}
	if r.URL == "" {
		return "", connector.ErrDataInvalid
	}
	return r.URL, nil
}

// Images lists the metadata of an applicant's document images.
func (c *Client) Images(ctx context.Context, applicantID string) ([]Image, error) {
	var r struct {
		Items []Image `json:"items"`
	}
	if err := c.json(ctx, http.MethodGet, "/resources/applicants/"+url.PathEscape(applicantID)+"/metadata/resources", &r); err != nil {
		return nil, err
	}
	return r.Items, nil
}

// DownloadImage opens an image: a stream that fails past MaxImageBytes,
// with the content type read from its first bytes.
func (c *Client) DownloadImage(ctx context.Context, inspectionID, imageID string) (io.ReadCloser, string, error) {
	return c.fetch.Stream(ctx, c.request(ctx, http.MethodGet, "/resources/inspections/"+url.PathEscape(inspectionID)+"/resources/"+url.PathEscape(imageID)), c.MaxImageBytes)
}

func (c *Client) json(ctx context.Context, method, uri string, v any) error {
	return c.fetch.JSON(ctx, c.request(ctx, method, uri), v)
}

func (c *Client) request(ctx context.Context, method, uri string) func() (*http.Request, error) {
	return func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, method, c.base+uri, nil)
		if err == nil {
			req.Header.Set("Accept", "application/json")
			SignRequest(req, c.appToken, c.secret, c.Now().Unix(), nil)
		}
		return req, err
	}
}

// clientError reads Sumsub's error body.
func clientError(status int, body []byte) error {
	var e struct {
		Description string `json:"description"`
		ErrorCode   int    `json:"errorCode"`
		ErrorName   string `json:"errorName"`
	}
	_ = json.Unmarshal(body, &e)
	return &ClientError{Status: status, ErrorCode: e.ErrorCode, ErrorName: e.ErrorName, Description: e.Description}
}
