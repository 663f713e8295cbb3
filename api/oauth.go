package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/auth"
)

// oauthError is an RFC 6749 error response, the token endpoint's own format.
type oauthError struct {
	status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

// handleToken is the OAuth2 token endpoint (client credentials grant).
func (s *Server) handleToken() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		err := s.issueToken(w, r)
		if err == nil {
			return nil
		}
		if oe, ok := err.(*oauthError); ok {
			if oe.status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Basic realm="kycd"`)
			}
			w.Header().Set("Cache-Control", "no-store")
			encode(w, oe.status, oe)
			return nil
		}
		return err // rate limits, body caps and internal errors: the Core API envelope
	}
}

func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) error {
	// Every token request, failed or not, draws on its address's bucket,
	// which failed access tokens draw on too (failedCredentials).
	if err := s.ipLimits.allow("ip:" + clientIP(r)); err != nil {
		return err
	}
	body, err := s.readBody(w, r, "application/x-www-form-urlencoded")
	if kycd.ErrorCode(err) == kycd.EUnsupportedMediaType {
		return &oauthError{http.StatusBadRequest, "invalid_request", "Body must be application/x-www-form-urlencoded"}
	} else if err != nil {
		return err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return &oauthError{http.StatusBadRequest, "invalid_request", "Body is not a valid form"}
	}
	for k, v := range form {
		if !kycd.ValidText(k) || !kycd.ValidText(v[0]) {
			return &oauthError{http.StatusBadRequest, "invalid_request", "Parameters must be UTF-8 text without NUL characters"}
		}
		if len(v) > 1 {
			return &oauthError{http.StatusBadRequest, "invalid_request", "Parameter '" + k + "' must not repeat"}
		}
	}
	gt := form.Get("grant_type")
	switch gt {
	case "":
		return &oauthError{http.StatusBadRequest, "invalid_request", "Body must have required property 'grant_type'"}
	case "client_credentials":
	case "refresh_token":
		// Uphold's second grant. kycd issues no refresh tokens, so none it
		// is given is valid: invalid_grant, once the client is known.
		if form.Get("refresh_token") == "" {
			return &oauthError{http.StatusBadRequest, "invalid_request", "Body must have required property 'refresh_token'"}
		}
	default:
		return &oauthError{http.StatusBadRequest, "unsupported_grant_type", "Grant type not supported"}
	}
	id, secret, basic := r.BasicAuth()
	if fid, fsecret := form.Get("client_id"), form.Get("client_secret"); fid != "" || fsecret != "" {
		if basic {
			return &oauthError{http.StatusBadRequest, "invalid_request", "Client credentials must be sent one way only"}
		}
		id, secret = fid, fsecret
	} else if !basic && r.Header.Get("Authorization") != "" {
		return &oauthError{http.StatusUnauthorized, "invalid_client", "Client id and secret could not be extracted from Authorization header"}
	}
	if id == "" || secret == "" {
		return &oauthError{http.StatusUnauthorized, "invalid_client", "Client id and secret could not be extracted from Authorization header"}
	}
	invalid := &oauthError{http.StatusUnauthorized, "invalid_client", "Client does not exist or secret is incorrect"}
	ip := clientIP(r)
	if !uuidPattern.MatchString(id) {
		s.guesses.failed("", ip)
		return invalid // client ids are uuids: no such client, and nothing to look up
	}
	id = strings.ToLower(id)
	// Failed attempts make their address, and their client from other
	// addresses, wait before the next one is verified at all.
	if err := s.guesses.wait(id, ip); err != nil {
		return err
	}
	c, err := s.clients.FindClientByID(r.Context(), id)
	if kycd.ErrorCode(err) == kycd.ENotFound {
		// The same work whether or not the client exists.
		if _, err := s.verifySecret(r, dummyHash, secret, false); err != nil {
			return err
		}
		s.guesses.failed("", ip)
		return invalid
	} else if err != nil {
		return err
	}
	ok, err := s.verifySecret(r, c.SecretHash, secret, s.guesses.known(c.ID, ip))
	if err != nil {
		return err
	}
	if !ok || c.Revoked() {
		s.guesses.failed(c.ID, ip)
		return invalid
	}
	s.guesses.succeeded(c.ID, ip)
	if gt == "refresh_token" {
		return &oauthError{http.StatusBadRequest, "invalid_grant", "The refresh token is invalid or expired"}
	}
	scopes := c.Scopes
	if raw, set := form["scope"]; set {
		if len(raw[0]) > 4096 {
			return &oauthError{http.StatusBadRequest, "invalid_request", "Scope is too long"}
		}
		var ok bool
		if scopes, ok = auth.Grant(c.Scopes, auth.ParseScopes(raw[0])); !ok {
			return &oauthError{http.StatusBadRequest, "invalid_scope", "Requested scopes must be equal or narrower"}
		}
	}
	tok, err := s.tokens.Issue(c, scopes)
	if err != nil {
		return err
	}
	setPrincipal(r.Context(), &principal{ClientID: c.ID, TenantID: c.TenantID})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.Header().Set("X-Uphold-Organization-Id", c.TenantID)
	encode(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"expires_in":   int(s.tokens.TTL().Seconds()),
		"scope":        strings.Join(scopes, " "),
		"token_type":   "Bearer",
	})
	return nil
}

// verifySecret verifies a client secret when the verifier's memory budget
// has room (known: the client from an address it authenticated from), waiting for it at most secretWait: a request that waits longer
// is answered too_many_requests with Retry-After, so that a flood of token
// requests neither takes more memory than the budget nor queues without end.
func (s *Server) verifySecret(r *http.Request, hash, secret string, known bool) (bool, error) {
	ctx, cancel := context.WithTimeout(r.Context(), s.secretWait)
	defer cancel()
	ok, err := s.verifier.Verify(ctx, hash, secret, known)
	if errors.Is(err, auth.ErrBusy) {
		return false, &retryLater{err: &kycd.Error{Code: kycd.ETooManyRequests, Message: "Too many token requests at once; try again later"}, after: 1}
	}
	return ok, err
}

// dummyHash is verified against when the client does not exist, so that the
// endpoint's timing does not tell which client ids exist.
var dummyHash = auth.HashSecret("kycd-no-such-client")

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
