package veriff

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

// DefaultBaseURL is Veriff's production API host.
const DefaultBaseURL = "https://stationapi.veriff.com"

// Client reads finished Veriff sessions. Every request is signed with the
// integration's shared secret over the id in its path. Server errors and
// timeouts are retried with backoff; 429 becomes a RateLimited error that
// carries Retry-After (the job snoozes instead of spinning); other 4xx are
// ClientErrors; malformed JSON is ErrDataInvalid.
type Client struct {
	base         string
	apiKey       string
	sharedSecret string
	http         *http.Client
	// Retries is how many times a failed request is retried (server errors,
	// timeouts); Backoff is the first wait, doubled each time.
	Retries int
	Backoff time.Duration
	// MaxMediaBytes caps a downloaded media file.
	MaxMediaBytes int64
}

// NewClient returns a client of an integration; hc should be netguard's.
func NewClient(baseURL, apiKey, sharedSecret string, hc *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: baseURL, apiKey: apiKey, sharedSecret: sharedSecret, http: hc,
		Retries: 2, Backoff: 500 * time.Millisecond, MaxMediaBytes: 50 << 20}
}

// ClientError is a 4xx answer other than 429: retrying will not help.
type ClientError struct {
	Status  int
	Code    string
	Message string
}

func (e *ClientError) Error() string {
	return fmt.Sprintf("veriff: %d (code %s): %s", e.Status, e.Code, e.Message)
}

// RateLimited is a 429 answer: try again after RetryAfter.
type RateLimited = connector.RateLimited

// ErrDataInvalid is a response kycd cannot read as Veriff's documented JSON.
var ErrDataInvalid = connector.ErrDataInvalid

// ErrMediaTooLarge is a media file over MaxMediaBytes.
var ErrMediaTooLarge = connector.ErrTooLarge

// Decision is the decision of a session (GET /v1/sessions/{id}/decision);
// Verification is nil while there is none. Unknown fields are ignored:
// Veriff adds fields without notice.
type Decision struct {
	Status       string        `json:"status"`
	Verification *Verification `json:"verification"`
}

// Verification is a session's verification result.
type Verification struct {
	ID           string    `json:"id"`
	AttemptID    string    `json:"attemptId"`
	Code         int       `json:"code"`
	Status       string    `json:"status"`
	Reason       *string   `json:"reason"`
	ReasonCode   *int      `json:"reasonCode"`
	Person       *Person   `json:"person"`
	Document     *Document `json:"document"`
	VendorData   *string   `json:"vendorData"`
	DecisionTime string    `json:"decisionTime"`
}

// Person is who a verification found.
type Person struct {
	FirstName   *string   `json:"firstName"`
	LastName    *string   `json:"lastName"`
	DateOfBirth *string   `json:"dateOfBirth"`
	Gender      *string   `json:"gender"`
	Nationality *string   `json:"nationality"`
	IDNumber    *string   `json:"idNumber"`
	Addresses   []Address `json:"addresses"`
}

// Address is an address a verification read.
type Address struct {
	FullAddress   string `json:"fullAddress"`
	ParsedAddress struct {
		City        *string `json:"city"`
		Unit        *string `json:"unit"`
		State       *string `json:"state"`
		Street      *string `json:"street"`
		Country     *string `json:"country"`
		Postcode    *string `json:"postcode"`
		HouseNumber *string `json:"houseNumber"`
	} `json:"parsedAddress"`
}

// Document is the identity document a verification read.
type Document struct {
	Type       *string `json:"type"`
	Number     *string `json:"number"`
	Country    *string `json:"country"`
	ValidFrom  *string `json:"validFrom"`
	ValidUntil *string `json:"validUntil"`
}

// Media is one media file of a session.
type Media struct {
	ID       string      `json:"id"`
	Context  string      `json:"context"`
	Mimetype string      `json:"mimetype"`
	Name     string      `json:"name"`
	Size     json.Number `json:"size"` // a number in the docs, a string in one client
}

// MediaList is a session's media (latest attempt).
type MediaList struct {
	Status string  `json:"status"`
	Images []Media `json:"images"`
	Videos []Media `json:"videos"`
}

// PersonDetails is the person a session verified (GET /v1/sessions/{id}/person).
type PersonDetails struct {
	FirstName    *string  `json:"firstName"`
	LastName     *string  `json:"lastName"`
	DateOfBirth  *string  `json:"dateOfBirth"`
	Nationality  *string  `json:"nationality"`
	PlaceOfBirth *string  `json:"placeOfBirth"`
	Citizenships []string `json:"citizenships"`
}

// Person reads the person of a session.
func (c *Client) Person(ctx context.Context, sessionID string) (*PersonDetails, error) {
	var r struct {
		Person *PersonDetails `json:"person"`
	}
	if err := c.getJSON(ctx, "/v1/sessions/"+url.PathEscape(sessionID)+"/person", sessionID, &r); err != nil {
		return nil, err
	}
	if r.Person == nil {
		return nil, fmt.Errorf("%w: veriff: no person", ErrDataInvalid)
	}
	return r.Person, nil
}

// Decision reads a session's decision.
func (c *Client) Decision(ctx context.Context, sessionID string) (*Decision, error) {
	var d Decision
	if err := c.getJSON(ctx, "/v1/sessions/"+url.PathEscape(sessionID)+"/decision", sessionID, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Media lists a session's media.
func (c *Client) Media(ctx context.Context, sessionID string) (*MediaList, error) {
	var m MediaList
	if err := c.getJSON(ctx, "/v1/sessions/"+url.PathEscape(sessionID)+"/media", sessionID, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// Download opens a media file: a stream that fails past MaxMediaBytes,
// with the content type read from its first bytes (not the header).
func (c *Client) Download(ctx context.Context, mediaID string) (io.ReadCloser, string, error) {
	return c.fetcher().Stream(ctx, c.request(ctx, "/v1/media/"+url.PathEscape(mediaID), mediaID), c.MaxMediaBytes)
}

func (c *Client) getJSON(ctx context.Context, path, signed string, v any) error {
	return c.fetcher().JSON(ctx, c.request(ctx, path, signed), v)
}

func (c *Client) request(ctx context.Context, path, signed string) func() (*http.Request, error) {
	return func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
		if err == nil {
			SignRequest(req, c.apiKey, c.sharedSecret, []byte(signed))
		}
		return req, err
	}
}

func (c *Client) fetcher() *connector.Fetcher {
	return &connector.Fetcher{Name: "veriff", HTTP: c.http, Retries: c.Retries, Backoff: c.Backoff,
		ClientError: func(status int, body []byte) error {
			var e struct {
				Code    json.Number `json:"code"`
				Message string      `json:"message"`
			}
			_ = json.Unmarshal(body, &e)
			return &ClientError{Status: status, Code: e.Code.String(), Message: e.Message}
		}}
}
