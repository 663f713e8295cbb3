package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/kyc"
)

// KYC is the KYC service the Core API drives (kyc.Service).
type KYC interface {
	Overview(ctx context.Context, u *kycd.User, detailed []string, lang string) (*kyc.Overview, error)
	UpdateProcess(ctx context.Context, u *kycd.User, code string, up *kycd.ProcessUpdate) (*kyc.ProcessView, []kyc.Warning, error)
	Capabilities(ctx context.Context, u *kycd.User) ([]kyc.Capability, error)
	// VerifyCode confirms the one-time code of the email or phone process.
	VerifyCode(ctx context.Context, u *kycd.User, channel, code, lang string) (*kyc.ProcessView, error)
}

func (s *Server) handleGetKYC() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, r, err := s.actingUserRef(r)
		if err != nil {
			return err
		}
		var detailed []string
		if raw := r.URL.Query().Get("detailed"); raw != "" {
			keys := make([]string, 0, len(kycd.ProcessCodes))
			for _, c := range kycd.ProcessCodes {
				keys = append(keys, kycd.ProcessKey(c))
			}
			for _, k := range strings.Split(raw, ",") {
				if !slices.Contains(keys, k) {
					return kycd.Invalid("query", kycd.Violation{Property: "detailed", Rule: "enum", RuleParams: map[string]any{"allowedValues": keys}})
				}
				detailed = append(detailed, k)
			}
		}
		o, err := s.kyc.Overview(r.Context(), u, detailed, r.Header.Get("Accept-Language"))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, o)
		return nil
	}
}

// handleUpdateProcess updates one KYC process: the body is checked against
// the process's request schema, its input and output are decoded into the
// process's types, then the process's rules apply.
func (s *Server) handleUpdateProcess(code string) handlerFunc {
	schema := "update-kyc-" + code + "-request"
	return func(w http.ResponseWriter, r *http.Request) error {
		u, r, err := s.actingUserRef(r)
		if err != nil {
			return err
		}
		req, err := decode[processRequest](s, w, r, schema)
		if err != nil {
			return err
		}
		up := &kycd.ProcessUpdate{Type: req.Type, Language: r.Header.Get("Accept-Language")}
		if up.Input, err = decodePart(req.Input, kycd.NewProcessInput(code)); err != nil {
			return err
		}
		if up.Output, err = decodePart(req.Output, kycd.NewProcessOutput(code)); err != nil {
			return err
		}
		view, warnings, err := s.kyc.UpdateProcess(r.Context(), u, code, up)
		if err != nil {
			return err
		}
		resp := map[string]any{kycd.ProcessKey(code): view}
		if len(warnings) > 0 {
			resp["warnings"] = map[string]any{"input": warnings}
		}
		encode(w, http.StatusOK, resp)
		return nil
	}
}

// processRequest is a process update as the schema checked it; its input
// and output are decoded into the process's types (decodePart).
type processRequest struct {
	Type   string          `json:"type"`
	Input  json.RawMessage `json:"input"`
	Output json.RawMessage `json:"output"`
}

// decodePart decodes the input or output of a process update into v, an
// empty value of the process's type; the zero T (nil) when the request has
// none. The schema checked the part: a value that does not decode is a
// schema bug, answered as decode answers it.
func decodePart[T any](raw json.RawMessage, v T) (T, error) {
	var none T
	if raw == nil {
		return none, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return none, kycd.Invalid("body", kycd.Violation{Property: "", Rule: "type"})
	}
	return v, nil
}

// handleVerifyCode confirms the one-time code sent for the email or phone
// process (a kycd extension: Uphold verifies through its own app).
func (s *Server) handleVerifyCode(channel string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, r, err := s.actingUserRef(r)
		if err != nil {
			return err
		}
		req, err := decode[struct {
			Code string `json:"code"`
		}](s, w, r, "verify-kyc-code-request")
		if err != nil {
			return err
		}
		view, err := s.kyc.VerifyCode(r.Context(), u, channel, req.Code, r.Header.Get("Accept-Language"))
		if err != nil {
			return err
		}
		process := map[string]string{kycd.ChannelEmail: kycd.ProcessEmail, kycd.ChannelPhone: kycd.ProcessPhone}[channel]
		encode(w, http.StatusOK, map[string]any{kycd.ProcessKey(process): view})
		return nil
	}
}

// capabilities returns the capabilities of the user the request acts for.
func (s *Server) capabilities(r *http.Request) ([]kyc.Capability, error) {
	u, r, err := s.actingUserRef(r)
	if err != nil {
		return nil, err
	}
	return s.kyc.Capabilities(r.Context(), u)
}

func (s *Server) handleListCapabilities() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		caps, err := s.capabilities(r)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, map[string]any{"capabilities": caps})
		return nil
	}
}

func (s *Server) handleGetCapability() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		caps, err := s.capabilities(r)
		if err != nil {
			return err
		}
		code := r.PathValue("capability")
		var known []string
		for _, c := range caps {
			if c.Code == code {
				encode(w, http.StatusOK, map[string]any{"capability": c})
				return nil
			}
			known = append(known, c.Code)
		}
		// Uphold's other capabilities: kycd has no such product, so the
		// capability is disabled for everyone.
		if cp, ok := s.policy.Unavailable(code); ok {
			encode(w, http.StatusOK, map[string]any{"capability": kyc.Capability{Code: cp.Code, Name: cp.Name, Enabled: false,
				Requirements: []string{}, Restrictions: []string{"temporarily-disabled"}}})
			return nil
		}
		return kycd.Invalid("params", kycd.Violation{Property: "capability", Rule: "enum", RuleParams: map[string]any{"allowedValues": known}})
	}
}
