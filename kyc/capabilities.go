package kyc

import (
	"context"

	"github.com/kycd/kycd"
)

// requirementOf names, in Uphold's vocabulary (the capability's documented
// requirements), what a user must do for a pending process, or "" when the
// vocabulary has no name for it (an unverified email, a profile that lacks
// its birthdate or citizenship, a screening or risk assessment not done
// yet): a client generated from Uphold's document rejects any other value.
func (s *Service) requirementOf(st *state, code string) string {
	switch code {
	case kycd.ProcessProfile:
		if st.user.FullName == "" {
			return "user-must-submit-full-name"
		}
		if !s.addressComplete(st.user.Address) {
			return "user-must-submit-residential-address"
		}
		return ""
	case kycd.ProcessAddress:
		return "user-must-submit-residential-address"
	}
	return requirementNames[code]
}

// requirementNames are Uphold's requirements that name one process each.
var requirementNames = map[string]string{
	kycd.ProcessPhone:          "user-must-submit-phone-number",
	kycd.ProcessIdentity:       "user-must-submit-identity",
	kycd.ProcessProofOfAddress: "user-must-submit-proof-of-address",
	kycd.ProcessCDD:            "user-must-submit-customer-due-diligence",
	kycd.ProcessEDD:            "user-must-submit-enhanced-due-diligence",
	kycd.ProcessCRA:            "user-must-submit-crypto-risk-assessment-form",
	kycd.ProcessSCS:            "user-must-submit-self-categorization-form",
	kycd.ProcessTaxDetails:     "user-must-submit-tax-details",
}

// restrictionOf names, in Uphold's vocabulary, what a failed process
// stands for.
var restrictionOf = map[string]string{
	kycd.ProcessProfile:        "user-status-not-valid",
	kycd.ProcessAddress:        "user-residential-address-not-valid",
	kycd.ProcessEmail:          "user-status-not-valid",
	kycd.ProcessPhone:          "user-status-not-valid",
	kycd.ProcessIdentity:       "user-identity-not-valid",
	kycd.ProcessProofOfAddress: "user-proof-of-address-not-valid",
	kycd.ProcessCDD:            "user-status-not-valid",
	kycd.ProcessEDD:            "user-enhanced-due-diligence-not-valid",
	kycd.ProcessCRA:            "crypto-risk-assessment-form-not-valid",
	kycd.ProcessSCS:            "self-categorization-statement-form-not-valid",
	kycd.ProcessTaxDetails:     "user-status-not-valid",
	kycd.ProcessScreening:      "user-status-not-valid",
	kycd.ProcessRisk:           "user-status-not-valid",
}

// Capabilities derives what the user may do from the processes: a
// capability is enabled when every process it requires is ok or exempt. A
// pending process is a requirement; a failed one, a rejected assessment in
// its cooldown and a running screening are restrictions.
//
// A business user has none: kycd runs no business verification, so every
// capability is disabled with Uphold's restriction user-type-not-supported.
func (s *Service) Capabilities(ctx context.Context, u *kycd.User) ([]Capability, error) {
	st, err := s.load(ctx, u)
	var out []Capability
	if err != nil && u.Type == kycd.UserBusiness && kycd.ErrorCode(err) == kycd.EOperationNotAllowed {
		for _, cp := range s.policy.Capabilities() {
			out = append(out, Capability{Code: cp.Code, Name: cp.Name, Requirements: []string{}, Restrictions: []string{"user-type-not-supported"}})
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, cp := range s.policy.Capabilities() {
		c := Capability{Code: cp.Code, Name: cp.Name, Requirements: []string{}, Restrictions: []string{}}
		settledAll := true
		for _, code := range cp.Requires {
			p := st.procs[code]
			switch {
			case p.Status == kycd.StatusFailed:
				c.Restrictions = appendOnce(c.Restrictions, restrictionOf[code])
			case p.RetryAt != nil && p.RetryAt.After(st.now) && p.Output["result"] == "rejected":
				c.Restrictions = appendOnce(c.Restrictions, restrictionOf[code])
			case p.Status == kycd.StatusPending:
				// What Uphold's vocabulary cannot name as a requirement
				// holds the capability back as the user's status.
				if r := s.requirementOf(st, code); r != "" {
					c.Requirements = appendOnce(c.Requirements, r)
				} else {
					c.Restrictions = appendOnce(c.Restrictions, "user-status-not-valid")
				}
			}
			settledAll = settledAll && settled(p)
		}
		if st.procs[kycd.ProcessScreening].Status == kycd.StatusRunning {
			c.Restrictions = appendOnce(c.Restrictions, "user-screening-running")
			settledAll = false
		}
		if st.procs[kycd.ProcessRisk].Status == kycd.StatusFailed {
			c.Restrictions = appendOnce(c.Restrictions, restrictionOf[kycd.ProcessRisk])
			settledAll = false
		}
		if s.policy.Restricted(u.Address.Country) {
			c.Restrictions = appendOnce(c.Restrictions, "user-country-not-supported")
		}
		c.Enabled = settledAll && len(c.Requirements) == 0 && len(c.Restrictions) == 0
		out = append(out, c)
	}
	return out, nil
}

func appendOnce(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}
