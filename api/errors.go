package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/kycd/kycd"
)

// statusOf maps error codes to HTTP status, for every surface. Codes not in
// the table are business rule refusals: 409, as Uphold answers them.
var statusOf = map[string]int{
	kycd.ERequestInvalid:         http.StatusBadRequest,
	kycd.ENotFound:               http.StatusNotFound,
	kycd.EOperationNotAllowed:    http.StatusConflict,
	kycd.ETokenInvalid:           http.StatusUnauthorized,
	kycd.ETokenExpired:           http.StatusUnauthorized,
	kycd.ETokenRevoked:           http.StatusUnauthorized,
	kycd.ETokenInsufficientScope: http.StatusForbidden,
	kycd.EUploadURLInvalid:       http.StatusForbidden,
	kycd.ETooManyRequests:        http.StatusTooManyRequests,
	kycd.EContentTooLarge:        http.StatusRequestEntityTooLarge,
	kycd.ERequestTimeout:         http.StatusRequestTimeout,
	kycd.EFileTooLarge:           http.StatusRequestEntityTooLarge,
	kycd.EUnsupportedMediaType:   http.StatusUnsupportedMediaType,
	kycd.EMethodNotAllowed:       http.StatusMethodNotAllowed,
	kycd.EInternal:               http.StatusInternalServerError,
	"route_not_found":            http.StatusNotFound,
	"signature_invalid":          http.StatusUnauthorized,
	kycd.EServiceUnavailable:     http.StatusServiceUnavailable,
	kycd.EPreconditionFailed:     http.StatusPreconditionFailed,
	kycd.EJSONPatchFailed:        http.StatusUnprocessableEntity,
}

func statusFor(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusConflict
}

// statusError answers its error with a status other than its code's, for an
// operation whose document lists no response for that code: Uphold's delete
// user documents 204, 401, 403, 409 and 429, so an invalid review answers 409.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// invalidAs answers an invalid request (code request_invalid) with status
// instead of 400; any other error is returned as it is.
func invalidAs(status int, err error) error {
	if e, ok := kycd.AsError(err); ok && e.Code == kycd.ERequestInvalid {
		return &statusError{status: status, err: err}
	}
	return err
}

// statusOfError is the status an error answers with: its override, else its
// code's.
func statusOfError(err error, e *kycd.Error) int {
	if se, ok := errors.AsType[*statusError](err); ok {
		return se.status
	}
	return statusFor(e.Code)
}

// appError turns any error into an application error safe to show: an
// *kycd.Error as it is, anything else as an internal error (logged in full
// under the request id, shown as nothing but the id).
func (s *Server) appError(r *http.Request, err error) *kycd.Error {
	if bodyTimedOut(r) {
		return errSlowBody
	}
	if e, ok := kycd.AsError(err); ok {
		return e
	}
	if r.Context().Err() != nil {
		s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request canceled", slog.String("request_id", requestID(r)))
	} else {
		s.logger.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("request_id", requestID(r)), slog.String("route", r.Pattern), slog.String("error", err.Error()))
	}
	return &kycd.Error{Code: kycd.EInternal, Message: "An internal error occurred; quote the request id when reporting it",
		Details: map[string]any{"requestId": requestID(r)}}
}

// renderCore writes an error in Uphold's envelope {code, message, details}.
func (s *Server) renderCore(w http.ResponseWriter, r *http.Request, err error) {
	e := s.appError(r, err)
	body := map[string]any{"code": e.Code, "message": e.Message}
	details := map[string]any{}
	for k, v := range e.Details {
		details[k] = v
	}
	if len(e.Violations) > 0 {
		details["violations"] = e.Violations
	}
	if e.Context != "" {
		details["context"] = e.Context
	}
	if len(details) > 0 {
		body["details"] = details
	}
	setRetryAfter(w, err)
	encode(w, statusOfError(err, e), body)
}

// renderProblem writes an error as RFC 9457 problem+json, for the surfaces
// that are not Uphold's.
func (s *Server) renderProblem(w http.ResponseWriter, r *http.Request, err error) {
	e := s.appError(r, err)
	status := statusOfError(err, e)
	body := map[string]any{
		"type":      "urn:kycd:error:" + e.Code,
		"title":     http.StatusText(status),
		"status":    status,
		"detail":    e.Message,
		"code":      e.Code,
		"requestId": requestID(r),
	}
	if len(e.Violations) > 0 {
		body["violations"] = e.Violations
	}
	setRetryAfter(w, err)
	for k, v := range e.Details {
		if _, taken := body[k]; !taken {
			body[k] = v
		}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = jsonEncoder(w).Encode(body)
}
