// Package connector holds what the KYC Connector's provider clients share:
// how a provider request is sent, retried and its failures classified. The
// providers live in connector/sumsub and connector/veriff.
package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gabriel-vasile/mimetype"

	"github.com/kycd/kycd/netguard"
)

// Fetcher sends provider requests: server errors and network failures are
// retried with exponential backoff; 429 is a RateLimited error carrying
// Retry-After (the job snoozes instead of spinning); any other non-2xx is a
// StatusError for the provider to read.
type Fetcher struct {
	// Name prefixes the errors of failures that are not the provider's answer.
	Name    string
	HTTP    *http.Client
	Retries int
	Backoff time.Duration
	// ClientError turns a non-2xx answer (other than 429 and 5xx) into the
	// provider's typed error, read from its body; a StatusError when nil.
	ClientError func(status int, body []byte) error
}

// StatusError is a non-2xx answer that retrying will not change.
type StatusError struct {
	Status int
	Body   []byte
}

func (e *StatusError) Error() string { return "provider answered " + strconv.Itoa(e.Status) }

// RateLimited is a 429 answer: try again after RetryAfter.
type RateLimited struct{ RetryAfter time.Duration }

func (e *RateLimited) Error() string { return "rate limited; retry after " + e.RetryAfter.String() }

// ErrTooLarge is a response body over its cap.
var ErrTooLarge = errors.New("connector: the response is over the size limit")

// ErrDataInvalid is a response that is not the provider's documented JSON.
var ErrDataInvalid = errors.New("connector: the response is not valid provider data")

// maxJSON caps a provider's JSON answer.
const maxJSON = 10 << 20

// JSON sends the request and decodes its JSON answer into v (numbers kept
// as json.Number); a body that does not decode is ErrDataInvalid.
func (f *Fetcher) JSON(ctx context.Context, newReq func() (*http.Request, error), v any) error {
	res, err := f.Do(ctx, newReq)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := ReadCapped(res.Body, maxJSON)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrDataInvalid, f.Name, err)
	}
	return nil
}

// sniffLen is how much of a body is read to tell its type.
const sniffLen = 3072

// Stream sends the request and returns its body as a stream that fails with
// ErrTooLarge past max bytes, with the content type read from its first
// bytes (a provider's Content-Type header is not trusted). Nothing but those
// first bytes is held in memory; the caller closes the stream.
func (f *Fetcher) Stream(ctx context.Context, newReq func() (*http.Request, error), max int64) (io.ReadCloser, string, error) {
	res, err := f.Do(ctx, newReq)
	if err != nil {
		return nil, "", err
	}
	head := make([]byte, min(sniffLen, max+1))
	n, err := io.ReadFull(res.Body, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		res.Body.Close()
		return nil, "", fmt.Errorf("%s: %w", f.Name, withoutURL(err))
	}
	head = head[:n]
	if int64(n) > max {
		res.Body.Close()
		return nil, "", ErrTooLarge
	}
	body := &capped{r: io.MultiReader(bytes.NewReader(head), res.Body), max: max, Closer: res.Body}
	return body, mimetype.Detect(head).String(), nil
}

// capped reads at most max bytes, ErrTooLarge beyond.
type capped struct {
	r         io.Reader
	n, max    int64
	io.Closer // of the response body, for Stream
}

func (c *capped) Read(p []byte) (int, error) {
	if c.n > c.max {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > c.max-c.n+1 {
		p = p[:c.max-c.n+1] // one byte past the cap is enough to know
	}
	k, err := c.r.Read(p)
	c.n += int64(k)
	if c.n > c.max {
		return k - int(c.n-c.max), ErrTooLarge
	}
	return k, err
}

// Do sends the request newReq builds (once per attempt) and returns a 2xx
// response, whose body the caller closes, or a typed error.
func (f *Fetcher) Do(ctx context.Context, newReq func() (*http.Request, error)) (*http.Response, error) {
	wait := f.Backoff
	var last error
	for attempt := 0; attempt <= f.Retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(wait):
			}
			wait *= 2
		}
		req, err := newReq()
		if err != nil {
			return nil, err
		}
		res, err := f.HTTP.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			last = withoutURL(err)
			continue
		}
		switch {
		case res.StatusCode/100 == 2:
			return res, nil
		case res.StatusCode == http.StatusTooManyRequests:
			res.Body.Close()
			return nil, &RateLimited{RetryAfter: netguard.RetryAfter(res.Header.Get("Retry-After"), time.Now())}
		case res.StatusCode >= 500:
			res.Body.Close()
			last = fmt.Errorf("server error %d", res.StatusCode)
			continue
		default:
			body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
			res.Body.Close()
			if f.ClientError != nil {
				return nil, f.ClientError(res.StatusCode, body)
			}
			return nil, &StatusError{Status: res.StatusCode, Body: body}
		}
	}
	return nil, fmt.Errorf("%s: %w", f.Name, last)
}

// withoutURL drops the request URL from a transport error: it can carry a
// credential (a Sumsub share token is a query parameter), and these errors
// end up in job logs.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s request: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

// ReadCapped reads at most max bytes, ErrTooLarge beyond.
func ReadCapped(r io.Reader, max int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > max {
		return nil, ErrTooLarge
	}
	return body, nil
}
