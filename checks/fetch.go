package checks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/evidence"
	"github.com/kycd/kycd/netguard"
)

// refusal is a download or evidence problem retrying will not mend: the
// check fails with it.
type refusal struct{ reason kycd.CheckReason }

func (r *refusal) Error() string { return "checks: " + r.reason.Code + ": " + r.reason.Message }

func refuse(code, message string, details map[string]any) *refusal {
	return &refusal{kycd.CheckReason{Code: code, Message: message, Details: details}}
}

// errStalled is why a download that stopped moving was cut.
var errStalled = errors.New("checks: the transfer stalled")

// transient is a download failure worth retrying (network errors, a
// stalled transfer, 429 and 5xx answers); its message is safe to show.
type transient struct{ message string }

func (t *transient) Error() string { return "checks: " + t.message }

// idleReader cuts a transfer (through cancel) when a read waits longer
// than the idle timeout for data.
type idleReader struct {
	r     io.Reader
	timer *time.Timer
	idle  time.Duration
}

func (i *idleReader) Read(p []byte) (int, error) {
	n, err := i.r.Read(p)
	i.timer.Reset(i.idle)
	return n, err
}

// fetch downloads a check's evidence into a scratch file, streaming, with
// a hard cap, and checks that it is a safe zip. The caller closes the
// scratch file (which removes it); nothing is kept on any error.
func (s *Service) fetch(ctx context.Context, link string) (*evidence.Scratch, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// Waiting for the answer counts as idle too.
	timer := time.AfterFunc(s.IdleTimeout, func() { cancel(errStalled) })
	defer timer.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, refuse(kycd.ReasonEvidenceDownloadRefused, "The download link is not a URL kycd can fetch", nil)
	}
	req.Header.Set("Accept", "application/zip, application/octet-stream;q=0.9, */*;q=0.1")
	res, err := s.HTTP.Do(req)
	if err != nil {
		return nil, s.classify(ctx, err)
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		return nil, &transient{fmt.Sprintf("the evidence host answered %d", res.StatusCode)}
	case res.StatusCode != http.StatusOK:
		return nil, refuse(kycd.ReasonEvidenceDownloadFailed, fmt.Sprintf("The evidence host answered %d", res.StatusCode),
			map[string]any{"status": res.StatusCode})
	case res.ContentLength > s.MaxSize:
		return nil, tooLarge(s.MaxSize)
	}
	sc, err := evidence.NewScratch(s.ScratchDir)
	if err != nil {
		return nil, err
	}
	keep := false
	defer func() {
		if !keep {
			sc.Close()
		}
	}()
	n, err := io.Copy(sc, io.LimitReader(&idleReader{r: res.Body, timer: timer, idle: s.IdleTimeout}, s.MaxSize+1))
	switch {
	case n > s.MaxSize:
		return nil, tooLarge(s.MaxSize)
	case err != nil:
		return nil, s.classify(ctx, err)
	case res.ContentLength >= 0 && n != res.ContentLength:
		return nil, &transient{"the transfer ended before the announced length"}
	}
	if err := evidence.CheckZip(sc, sc.Size(), s.Limits); err != nil {
		return nil, refuse(kycd.ReasonEvidenceInvalid, "The evidence is not a safe, valid zip", map[string]any{
			"problem": evidence.Problem(err), "limits": map[string]any{"maxEntries": s.Limits.MaxEntries,
				"maxUncompressedBytes": s.Limits.MaxUncompressed, "maxRatio": s.Limits.MaxRatio}})
	}
	keep = true
	return sc, nil
}

func tooLarge(limit int64) *refusal {
	return refuse(kycd.ReasonEvidenceTooLarge, fmt.Sprintf("The evidence is larger than %d bytes", limit),
		map[string]any{"threshold": map[string]any{"limit": limit, "unit": "bytes"}})
}

// classify tells a refused destination (private or metadata addresses,
// redirects kycd does not follow) from a failure worth retrying.
func (s *Service) classify(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, netguard.ErrBlocked):
		return refuse(kycd.ReasonEvidenceDownloadRefused, "The download link leads to an address kycd does not connect to (private, loopback, link-local or metadata)", nil)
	case errors.Is(err, netguard.ErrRedirect):
		return refuse(kycd.ReasonEvidenceDownloadRefused, "The download link redirects where kycd does not follow (another scheme, https to http, or more than 5 redirects)", nil)
	case errors.Is(context.Cause(ctx), errStalled):
		return &transient{fmt.Sprintf("the transfer stalled: nothing arrived for %s", s.IdleTimeout)}
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return &transient{"the evidence host could not be reached or the transfer broke off"}
}
