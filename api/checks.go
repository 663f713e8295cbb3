package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/checks"
)

// Checks is the checks service (the Upvest-compatible surface).
type Checks interface {
	Create(ctx context.Context, tenantID, userID string, req *checks.Request) (*kycd.Check, error)
	Check(ctx context.Context, u kycd.UserRef, id string) (*kycd.Check, error)
	Checks(ctx context.Context, u kycd.UserRef) ([]*kycd.Check, error)
}

// scopeChecksRead reads checks; the scopes that record them are the checks
// service's (checks.MayRecord).
const scopeChecksRead = "checks:read"

// checkSchemas are the request schemas of each check type.
var checkSchemas = map[string]string{
	kycd.CheckKYC:           "create-check-kyc-request",
	kycd.CheckPOR:           "create-check-por-request",
	kycd.CheckInstrumentFit: "create-check-instrument-fit-request",
	kycd.CheckCompliance:    "create-check-compliance-request",
}

// handleCreateCheck records a check: the body is validated against the
// schema of its type, then the service's rules; 202 with its id.
func (s *Server) handleCreateCheck() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := principalFrom(r.Context())
		if ok, need := checks.MayRecord(p.Scopes, ""); !ok {
			return insufficient(p, []string{need})
		}
		userID, err := pathUUID(r, "user_id")
		if err != nil {
			return err
		}
		body, err := s.readBody(w, r, "application/json")
		if err != nil {
			return err
		}
		v, err := parseJSON(body)
		if err != nil {
			return err
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return kycd.Invalid("body", kycd.Violation{Property: "", Rule: "type", RuleParams: map[string]any{"type": "object"}})
		}
		typ, _ := obj["type"].(string)
		schema, ok := checkSchemas[typ]
		if !ok {
			rule := "enum"
			if _, present := obj["type"]; !present {
				rule = "required"
			}
			return kycd.Invalid("body", kycd.Violation{Property: "type", Rule: rule, RuleParams: map[string]any{"allowedValues": kycd.CheckTypes}})
		}
		if ok, need := checks.MayRecord(p.Scopes, typ); !ok {
			return insufficient(p, []string{need})
		}
		if err := s.spec.validate(schema, v); err != nil {
			return err
		}
		var req struct {
			Type        string    `json:"type"`
			ConfirmedAt time.Time `json:"check_confirmed_at"`
			kycd.CheckData
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return kycd.Invalid("body", kycd.Violation{Property: "check_confirmed_at", Rule: "format", RuleParams: map[string]any{"format": "date-time"}})
		}
		c, err := s.checks.Create(r.Context(), p.TenantID, userID, &checks.Request{Type: req.Type, ConfirmedAt: req.ConfirmedAt, Data: req.CheckData})
		if err != nil {
			return err
		}
		w.Header().Set("Location", s.publicURL+"/users/"+userID+"/checks/"+c.ID)
		encode(w, http.StatusAccepted, map[string]any{"id": c.ID})
		return nil
	}
}

func (s *Server) handleListChecks() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		userID, err := pathUUID(r, "user_id")
		if err != nil {
			return err
		}
		list, err := s.checks.Checks(r.Context(), kycd.UserRef{TenantID: principalFrom(r.Context()).TenantID, UserID: userID})
		if err != nil {
			return err
		}
		views := make([]*checks.View, 0, len(list))
		for _, c := range list {
			views = append(views, checks.NewView(c, true))
		}
		encode(w, http.StatusOK, map[string]any{"data": views})
		return nil
	}
}

func (s *Server) handleGetCheck() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		userID, err := pathUUID(r, "user_id")
		if err != nil {
			return err
		}
		id, err := pathUUID(r, "check_id")
		if err != nil {
			return err
		}
		c, err := s.checks.Check(r.Context(), kycd.UserRef{TenantID: principalFrom(r.Context()).TenantID, UserID: userID}, id)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, checks.NewView(c, true))
		return nil
	}
}
