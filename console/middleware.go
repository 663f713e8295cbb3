package console

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/time/rate"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/reviewers"
)

// contentSecurityPolicy allows the console's own stylesheet and nothing
// else: no script at all, no frames, forms posting only to kycd.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// headers sets the security headers of every console response. Pages hold
// personal data: no cache keeps them.
func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// sameOrigin refuses cross-origin form posts (Go's CrossOriginProtection:
// Sec-Fetch-Site, else Origin against Host) and, stricter, any post that
// carries neither header: every browser sends one, so a post without is
// not a reviewer's form.
func (s *Server) sameOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, errCrossOrigin)
	}))
	protected := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if r.Header.Get("Sec-Fetch-Site") == "" && r.Header.Get("Origin") == "" {
				s.render(w, r, errCrossOrigin)
				return
			}
		}
		protected.ServeHTTP(w, r)
	})
}

var errCrossOrigin = &kycd.Error{Code: "cross_origin", Message: "This form was not sent from the console's own page"}

// handlerFunc is a console handler: it returns an error the renderer shows.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a handlerFunc, rendering its error.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.render(w, r, err)
		}
	})
}

type ctxKey int

const reviewerKey ctxKey = iota

// reviewerOf is the signed-in reviewer of a request (signedIn set it).
func reviewerOf(r *http.Request) *kycd.Reviewer {
	rv, _ := r.Context().Value(reviewerKey).(*kycd.Reviewer)
	return rv
}

// signedIn runs h for a reviewer with a live session, whose changes the
// audit trail records as the reviewer's; others are sent to sign in.
func (s *Server) signedIn(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var token string
		if c, err := r.Cookie(s.cookie); err == nil {
			token = c.Value
		}
		rv, err := s.reviewers.Authenticate(r.Context(), token)
		if errors.Is(err, reviewers.ErrNoSession) {
			if token != "" {
				s.clearCookie(w)
			}
			target := "/console/login"
			if r.Method == http.MethodGet {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return nil
		} else if err != nil {
			return err
		}
		ctx := context.WithValue(r.Context(), reviewerKey, rv)
		ctx = kycd.NewContextWithActor(ctx, reviewers.Actor(rv))
		return h(w, r.WithContext(ctx))
	}
}

// allowSignIn limits sign-in attempts per client address.
func (s *Server) allowSignIn(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.limiters[host]
	if !ok {
		if len(s.limiters) > 10000 {
			clear(s.limiters) // bounded: an attacker with many addresses resets everyone's budget, never grows memory
		}
		l = rate.NewLimiter(s.signInRate, s.signInBurst)
		s.limiters[host] = l
	}
	return l.AllowN(s.clock.Now(), 1)
}

// statusOf maps an error to its HTTP status.
func statusOf(err error) int {
	switch kycd.ErrorCode(err) {
	case kycd.ENotFound:
		return http.StatusNotFound
	case kycd.ERequestInvalid:
		return http.StatusUnprocessableEntity
	case kycd.ESignInFailed:
		return http.StatusUnauthorized
	case kycd.ETooManyRequests:
		return http.StatusTooManyRequests
	case errForbidden.Code, errCrossOrigin.Code:
		return http.StatusForbidden
	case kycd.EOperationNotAllowed, kycd.EStale, kycd.EConflict:
		return http.StatusConflict
	case kycd.EServiceUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

var errForbidden = &kycd.Error{Code: "forbidden", Message: "Your role does not allow this"}

// render writes an error as a page: the application error's safe message,
// or for anything else a generic one with the request id (the error itself
// is logged).
func (s *Server) render(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	title, message := http.StatusText(status), "Something went wrong. Quote this request id to your operator: "+kycd.RequestIDFromContext(r.Context())
	if e, ok := kycd.AsError(err); ok && status != http.StatusInternalServerError {
		message = e.Message
		if status == http.StatusNotFound {
			message = "There is no such page, or it is not yours to see."
		}
	} else {
		s.logger.LogAttrs(r.Context(), slog.LevelError, "console request failed", slog.String("request_id", kycd.RequestIDFromContext(r.Context())),
			slog.String("route", r.Pattern), slog.String("error", err.Error()))
	}
	s.page(w, r, status, "error.html", &pageData{Title: title, Error: message})
}

// safeNext is where to go after signing in: a console path, never another
// site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/console/cases"
	}
	return next
}
