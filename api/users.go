package api

import (
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/kycd/kycd"
)

type createUserRequest struct {
	Type               string         `json:"type"`
	Email              string         `json:"email"`
	TermsOfService     string         `json:"termsOfService"`
	FullName           string         `json:"fullName"`
	Birthdate          string         `json:"birthdate"`
	PrimaryCitizenship string         `json:"primaryCitizenship"`
	Address            kycd.Address   `json:"address"`
	Phone              *kycd.Phone    `json:"phone"`
	Metadata           map[string]any `json:"metadata"`
	// Uphold's legacy individual shape (deprecated): the citizenship and
	// the country and subdivision of residence, and when the partner
	// onboarded the user.
	CitizenshipCountry string     `json:"citizenshipCountry"`
	Country            string     `json:"country"`
	Subdivision        string     `json:"subdivision"`
	PartnerOnboardedAt *time.Time `json:"partnerOnboardedAt"`
	// Uphold's business shape: the country and subdivision above, and the
	// business's legal form.
	LegalEntityType string `json:"legalEntityType"`
}

// userView is a user as the Core API shows it.
type userView struct {
	ID                 string       `json:"id"`
	Type               string       `json:"type"`
	Email              string       `json:"email"`
	FullName           string       `json:"fullName,omitempty"`
	Birthdate          string       `json:"birthdate,omitempty"`
	PrimaryCitizenship string       `json:"primaryCitizenship,omitempty"`
	Address            kycd.Address `json:"address"`
	Phone              *kycd.Phone  `json:"phone,omitempty"`
	CreatedAt          time.Time    `json:"createdAt"`
	UpdatedAt          time.Time    `json:"updatedAt"`
}

func userJSON(u *kycd.User) userView {
	return userView{ID: u.ID, Type: u.Type, Email: u.Email, FullName: u.FullName, Birthdate: u.Birthdate,
		PrimaryCitizenship: u.PrimaryCitizenship, Address: u.Address, Phone: u.Phone, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func (s *Server) handleCreateUser() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		endUser, err := endUserContext(r)
		if err != nil {
			return err
		}
		req, err := decode[createUserRequest](s, w, r, "create-user-request")
		if err != nil {
			return err
		}
		// Uphold records who created the user from where: without the end
		// user's IP there is no user context (as accepting terms requires).
		if endUser.IP == "" {
			return kycd.NotAllowed("Request not allowed due to missing user context", "missing-user-ip-header")
		}
		typ := kycd.UserIndividual
		if req.Type == kycd.UserBusiness {
			typ = kycd.UserBusiness
			req.Address = kycd.Address{Country: req.Country, Subdivision: req.Subdivision}
		} else if req.Country != "" { // the legacy shape
			req.PrimaryCitizenship = req.CitizenshipCountry
			req.Address = kycd.Address{Country: req.Country, Subdivision: req.Subdivision}
		}
		u := &kycd.User{
			TenantID: principalFrom(r.Context()).TenantID, Type: typ, LegalEntityType: req.LegalEntityType,
			Email: req.Email, TermsOfService: req.TermsOfService, FullName: req.FullName, Birthdate: req.Birthdate,
			PrimaryCitizenship: req.PrimaryCitizenship, Address: req.Address, Phone: req.Phone, CreatedContext: endUser,
			PartnerOnboardedAt: req.PartnerOnboardedAt, Metadata: req.Metadata,
		}
		metaErr, err := s.users.CreateUser(r.Context(), u)
		if err != nil {
			return err
		}
		resp := map[string]any{}
		if metaErr != nil {
			resp["errors"] = metadataRefused(metaErr)
		}
		resp["user"] = userJSON(u)
		encode(w, http.StatusCreated, resp)
		return nil
	}
}

// metadataRefused is the errors member of a 201 that created a user or a
// file without the metadata it was given (Uphold reports it so).
func metadataRefused(e *kycd.Error) map[string]any {
	return map[string]any{"metadata": map[string]any{"code": e.Code, "message": e.Message, "details": e.Details}}
}

var (
	countryHeader     = regexp.MustCompile(`^[A-Z]{2}$`)
	subdivisionHeader = regexp.MustCompile(`^[A-Z]{2}-[A-Z0-9]{1,3}$`)
)

// endUserContext reads and checks the X-Uphold-User-* headers.
func endUserContext(r *http.Request) (kycd.EndUserContext, error) {
	c := kycd.EndUserContext{
		IP: r.Header.Get("X-Uphold-User-Ip"), UserAgent: r.Header.Get("X-Uphold-User-Agent"),
		Origin: r.Header.Get("X-Uphold-User-Origin"), Country: r.Header.Get("X-Uphold-User-Country"),
		Subdivision: r.Header.Get("X-Uphold-User-Subdivision"), City: r.Header.Get("X-Uphold-User-City"),
	}
	var vs []kycd.Violation
	if c.IP != "" && net.ParseIP(c.IP) == nil {
		vs = append(vs, kycd.Violation{Property: "x-uphold-user-ip", Rule: "format", RuleParams: map[string]any{"format": "ipv4|ipv6"}})
	}
	if c.Country != "" && !countryHeader.MatchString(c.Country) {
		vs = append(vs, kycd.Violation{Property: "x-uphold-user-country", Rule: "pattern", RuleParams: map[string]any{"pattern": countryHeader.String()}})
	}
	if c.Subdivision != "" && !subdivisionHeader.MatchString(c.Subdivision) {
		vs = append(vs, kycd.Violation{Property: "x-uphold-user-subdivision", Rule: "pattern", RuleParams: map[string]any{"pattern": subdivisionHeader.String()}})
	}
	for name, v := range map[string]string{"x-uphold-user-agent": c.UserAgent, "x-uphold-user-origin": c.Origin, "x-uphold-user-city": c.City} {
		if v != "" && (strings.TrimSpace(v) != v || len(v) > 1024) {
			vs = append(vs, kycd.Violation{Property: name, Rule: "pattern", RuleParams: map[string]any{"pattern": `^\S.*\S$|^\S$`}})
		}
	}
	if len(vs) > 0 {
		return c, kycd.Invalid("headers", vs...)
	}
	return c, nil
}

func (s *Server) handleGetMe() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, _, err := s.actingUser(r)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, struct {
			User userView `json:"user"`
		}{userJSON(u)})
		return nil
	}
}

type deleteUserRequest struct {
	Review kycd.UserDeletion `json:"review"`
}

func (s *Server) handleDeleteMe() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		// Uphold documents no 400 for this operation: an invalid request
		// (a header, the review) answers its documented 409.
		u, r, err := s.actingUser(r)
		if err != nil {
			return invalidAs(http.StatusConflict, err)
		}
		req, err := decode[deleteUserRequest](s, w, r, "delete-user-request")
		if err != nil {
			return invalidAs(http.StatusConflict, err)
		}
		if err := s.users.DeleteUser(r.Context(), u.TenantID, u.ID, req.Review); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
