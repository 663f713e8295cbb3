package api

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/files"
	"github.com/kycd/kycd/levels"
)

// Levels is the KYC levels service (the STASIS-compatible surface).
type Levels interface {
	Catalog(ctx context.Context, tenantID string) (*levels.Catalog, error)
	ReplaceCatalog(ctx context.Context, tenantID string, raw []byte) (*levels.Catalog, error)
	Info(ctx context.Context, tenantID, userID string) (*levels.LevelInfo, *levels.Catalog, error)
	Create(ctx context.Context, tenantID, userID, levelID string) (*kycd.Application, *levels.Catalog, error)
	Application(ctx context.Context, k kycd.ApplicationKey) (*kycd.Application, *levels.Catalog, error)
	Read(ctx context.Context, tenantID, userID, id string, ttls map[string]levels.TTL, only string) (*kycd.Application, *levels.Catalog, error)
	Update(ctx context.Context, tenantID, userID, id string, changes []levels.Change, codes map[string]string) (*kycd.Application, *levels.Catalog, error)
	SendToReview(ctx context.Context, tenantID, userID, id string, codes map[string]string) (*kycd.Application, *levels.Catalog, error)
	SendCode(ctx context.Context, tenantID, userID, objectID, provider, destination string) (*kycd.VerificationCode, error)
	CreateDocument(ctx context.Context, tenantID, userID, key string, fileIDs []string) (*kycd.KYCDocument, error)
	Queue(ctx context.Context, tenantID, status, after string, limit int) ([]*kycd.Application, []*levels.Catalog, error)
	ForReview(ctx context.Context, tenantID, id string) (*kycd.Application, *levels.Catalog, error)
	Decide(ctx context.Context, tenantID, id string, d levels.Decision) (*kycd.Application, *levels.Catalog, error)
	SandboxStatus(ctx context.Context, tenantID, userID, id, status string) (*kycd.Application, *levels.Catalog, error)
	LegalDocuments(ctx context.Context, tenantID, clientType, key string) ([]*levels.LegalDocumentView, error)
	ReferenceData(ctx context.Context, tenantID, key string) ([]levels.Choice, error)
	ReadAttribute(ctx context.Context, tenantID, userID, id, key string, ttl levels.TTL) (levels.AttributeView, error)
}

// Scopes of the levels surface.
const (
	scopeApplicationsRead   = "kyc-applications:read"
	scopeApplicationsWrite  = "kyc-applications:write"
	scopeAdminApplications  = "admin.kyc-applications:read"
	scopeAdminReview        = "admin.kyc-applications:review"
	scopeAdminLevelsReplace = "admin.kyc-levels:write"
)

// legalEntity checks the legal_entity_uuid query parameter: the token's tenant.
func legalEntity(r *http.Request) (string, error) {
	p := principalFrom(r.Context())
	v := r.URL.Query().Get("legal_entity_uuid")
	switch {
	case v == "":
		return "", kycd.Invalid("query", kycd.Violation{Property: "legal_entity_uuid", Rule: "required"})
	case v != p.TenantID:
		return "", kycd.NotFound("legal-entity")
	}
	return v, nil
}

// client reads legal_entity_uuid and client_uuid (a kycd user of the tenant);
// both missing or malformed are reported together.
func client(r *http.Request) (tenantID, userID string, err error) {
	tenantID, userID, _, err = clientParams(r, "")
	return tenantID, userID, err
}

// clientApplication reads the application's {uuid} of a /v1/kyc route and
// the client it belongs to. The application identifies its legal entity
// (the token's tenant) and its client, so legal_entity_uuid and
// client_uuid are optional there, as seed 003's own reads leave them out;
// given, they must name the application's (entity_not_found otherwise).
// Every malformed parameter is reported together.
func (s *Server) clientApplication(r *http.Request) (tenantID, userID, id string, err error) {
	q := r.URL.Query()
	if q.Get("legal_entity_uuid") != "" && q.Get("client_uuid") != "" {
		return clientParams(r, "uuid")
	}
	var vs []kycd.Violation
	userID = q.Get("client_uuid")
	if userID != "" && !uuidPattern.MatchString(userID) {
		vs = append(vs, uuidViolation("client_uuid"))
	}
	id, perr := pathUUID(r, "uuid")
	if perr != nil {
		vs = append(vs, uuidViolation("uuid"))
	}
	if len(vs) > 0 {
		return "", "", "", kycd.Invalid("query", vs...)
	}
	tenantID = principalFrom(r.Context()).TenantID
	if q.Get("legal_entity_uuid") != "" {
		if tenantID, err = legalEntity(r); err != nil {
			return "", "", "", err
		}
	}
	if userID != "" {
		return tenantID, strings.ToLower(userID), id, nil
	}
	a, _, err := s.levels.Application(r.Context(), kycd.ApplicationKey{TenantID: tenantID, ID: id})
	if err != nil {
		return "", "", "", err
	}
	return tenantID, a.UserID, id, nil
}

func clientParams(r *http.Request, pathParam string) (tenantID, userID, id string, err error) {
	var vs []kycd.Violation
	q := r.URL.Query()
	if q.Get("legal_entity_uuid") == "" {
		vs = append(vs, kycd.Violation{Property: "legal_entity_uuid", Rule: "required"})
	}
	userID = q.Get("client_uuid")
	if userID == "" {
		vs = append(vs, kycd.Violation{Property: "client_uuid", Rule: "required"})
	} else if !uuidPattern.MatchString(userID) {
		vs = append(vs, uuidViolation("client_uuid"))
	}
	if pathParam != "" {
		var perr error
		if id, perr = pathUUID(r, pathParam); perr != nil {
			vs = append(vs, uuidViolation(pathParam))
		}
	}
	if len(vs) > 0 {
		return "", "", "", kycd.Invalid("query", vs...)
	}
	if tenantID, err = legalEntity(r); err != nil {
		return "", "", "", err
	}
	return tenantID, strings.ToLower(userID), id, nil
}

// signCodes reads sms_sign_code and email_sign_code.
func signCodes(r *http.Request) map[string]string {
	codes := map[string]string{}
	for _, p := range []string{levels.SignSMS, levels.SignEmail} {
		if v := r.URL.Query().Get(p + "_sign_code"); v != "" {
			codes[p] = v
		}
	}
	return codes
}

func (s *Server) handleLevelInfo() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tenantID, userID, err := client(r)
		if err != nil {
			return err
		}
		info, _, err := s.levels.Info(r.Context(), tenantID, userID)
		if err != nil {
			return err
		}
		refs := func(ls []*levels.Level) []levels.LevelRef {
			out := []levels.LevelRef{}
			for _, l := range ls {
				out = append(out, l.Ref())
			}
			return out
		}
		var last any
		if info.LastApplicationID != "" {
			last = info.LastApplicationID
		}
		encode(w, http.StatusOK, map[string]any{"kyc_levels": refs(info.Held), "available_levels_for_upgrade": refs(info.Available),
			"allowed_to_create_kyc_application": info.AllowedToCreate, "last_kyc_application_uuid": last})
		return nil
	}
}

func (s *Server) handleCreateApplication() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tenantID, userID, err := client(r)
		if err != nil {
			return err
		}
		req, err := decode[struct {
			Level string `json:"kyc_level_uuid"`
		}](s, w, r, "create-kyc-application-request")
		if err != nil {
			return err
		}
		a, cat, err := s.levels.Create(r.Context(), tenantID, userID, req.Level)
		if err != nil {
			return err
		}
		encode(w, http.StatusCreated, cat.View(a, false))
		return nil
	}
}

func (s *Server) handleGetApplication() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tenantID, userID, id, err := s.clientApplication(r)
		if err != nil {
			return err
		}
		// Liveness options per attribute: <key>.ttl_min, <key>.ttl_max, <key>.ttl_renew.
		ttls := map[string]levels.TTL{}
		for _, key := range []string{"sumsub_liveness_check_token", "sumsub_liveness_check_url"} {
			ttl, err := ttlOptions(r, key+".")
			if err != nil {
				return err
			}
			ttls[key] = ttl
		}
		if r.URL.Query().Get("empty_volatile_fields") == "true" {
			a, cat, err := s.levels.Application(r.Context(), kycd.ApplicationKey{TenantID: tenantID, UserID: userID, ID: id})
			if err != nil {
				return err
			}
			v := cat.View(a, false)
			for i := range v.KYCSteps {
				for j := range v.KYCSteps[i].Questions {
					// A token or link is volatile; a check's diagnostics are not.
					if at := &v.KYCSteps[i].Questions[j].Attribute; at.Type == levels.TypeLiveness && isString(at.Value) {
						at.Value, at.ExpiresAt = nil, nil
					}
				}
			}
			encode(w, http.StatusOK, v)
			return nil
		}
		a, cat, err := s.levels.Read(r.Context(), tenantID, userID, id, ttls, "")
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, cat.View(a, false))
		return nil
	}
}

// ttlOptions reads a read's liveness options (seconds): prefix+"ttl_min",
// prefix+"ttl_max", prefix+"ttl_renew".
func ttlOptions(r *http.Request, prefix string) (levels.TTL, error) {
	p := queryParams{q: r.URL.Query()}
	ttl := levels.TTL{Min: time.Duration(p.int(prefix+"ttl_min", int64(levels.DefaultTTL.Min/time.Second), 0, 86400)) * time.Second,
		Max: time.Duration(p.int(prefix+"ttl_max", int64(levels.DefaultTTL.Max/time.Second), 60, 86400)) * time.Second}
	switch v := p.q.Get(prefix + "ttl_renew"); v {
	case "", "false":
	case "true":
		ttl.Renew = true
	default:
		p.vs = append(p.vs, kycd.Violation{Property: prefix + "ttl_renew", Rule: "type", RuleParams: map[string]any{"type": "boolean"}})
	}
	if len(p.vs) == 0 && ttl.Min > ttl.Max {
		p.vs = append(p.vs, kycd.Violation{Property: prefix + "ttl_min", Rule: "maximum", RuleParams: map[string]any{"limit": prefix + "ttl_max"}})
	}
	return ttl, p.err()
}

func (s *Server) handleGetApplicationAttribute() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tenantID, userID, id, err := s.clientApplication(r)
		if err != nil {
			return err
		}
		key := r.PathValue("key")
		ttl, err := ttlOptions(r, "")
		if err != nil {
			return err
		}
		v, err := s.levels.ReadAttribute(r.Context(), tenantID, userID, id, key, ttl)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, v)
		return nil
	}
}

func (s *Server) handleUpdateApplication() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tenantID, userID, id, err := s.clientApplication(r)
		if err != nil {
			return err
		}
		req, err := decode[struct {
			Changes []levels.Change `json:"attribute_changes"`
		}](s, w, r, "update-kyc-application-request")
		if err != nil {
			return err
		}
		a, cat, err := s.levels.Update(r.Context(), tenantID, userID, id, req.Changes, signCodes(r))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, cat.View(a, false))
		return nil
	}
}

func (s *Server) handleSendToReview() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tenantID, userID, id, err := s.clientApplication(r)
		if err != nil {
			return err
		}
		a, cat, err := s.levels.SendToReview(r.Context(), tenantID, userID, id, signCodes(r))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, cat.View(a, false))
		return nil
	}
}

func (s *Server) handleAttributeDefinitions() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tenantID, err := legalEntity(r)
		if err != nil {
			return err
		}
		list, err := s.levels.ReferenceData(r.Context(), tenantID, r.PathValue("key"))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, map[string]any{"count": len(list), "next": nil, "previous": nil, "results": list})
		return nil
	}
}

func (s *Server) handleLegalDocuments() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tenantID, err := legalEntity(r)
		if err != nil {
			return err
		}
		q := r.URL.Query()
		out, err := s.levels.LegalDocuments(r.Context(), tenantID, q.Get("client_type"), q.Get("key"))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, map[string]any{"count": len(out), "next": nil, "previous": nil, "results": out})
		return nil
	}
}

func (s *Server) handleSendSignCode() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tenantID, userID, err := client(r)
		if err != nil {
			return err
		}
		req, err := decode[struct {
			LegalEntity string `json:"legal_entity_uuid"`
			Object      string `json:"object_uuid"`
			Provider    string `json:"provider_type"`
			Destination string `json:"destination"`
		}](s, w, r, "send-sign-code-request")
		if err != nil {
			return err
		}
		if req.LegalEntity != "" && req.LegalEntity != tenantID {
			return kycd.NotFound("legal-entity")
		}
		vc, err := s.levels.SendCode(r.Context(), tenantID, userID, req.Object, req.Provider, req.Destination)
		if err != nil {
			return err
		}
		encode(w, http.StatusCreated, map[string]any{"object_uuid": req.Object, "provider_type": req.Provider,
			"destination": maskDestination(vc.Destination), "expires_at": vc.ExpiresAt})
		return nil
	}
}

// maskDestination shows enough of a phone or address to recognise it.
func maskDestination(d string) string {
	if at := strings.IndexByte(d, '@'); at > 0 {
		return d[:1] + "***" + d[at:]
	}
	if len(d) > 4 {
		return strings.Repeat("*", len(d)-4) + d[len(d)-4:]
	}
	return "****"
}

func (s *Server) handleCreateDocument() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tenantID, userID, err := client(r)
		if err != nil {
			return err
		}
		req, err := decode[struct {
			Key   string   `json:"attribute_key"`
			Files []string `json:"files"`
		}](s, w, r, "create-kyc-document-request")
		if err != nil {
			return err
		}
		d, err := s.levels.CreateDocument(r.Context(), tenantID, userID, req.Key, req.Files)
		if err != nil {
			return err
		}
		encode(w, http.StatusCreated, map[string]any{"uuid": d.ID, "attribute_key": d.AttributeKey, "files": d.FileIDs, "created_at": d.CreatedAt})
		return nil
	}
}

// handleUploadDocumentFiles stores the files of a multipart upload (parts
// named "files"), each stored by the files service (checked by its bytes,
// encrypted like every file); it answers their ids.
func (s *Server) handleUploadDocumentFiles() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tenantID, userID, err := client(r)
		if err != nil {
			return err
		}
		if _, err := s.users.FindUserByID(r.Context(), tenantID, userID); err != nil {
			return err
		}
		ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || ct != "multipart/form-data" {
			return &kycd.Error{Code: kycd.EUnsupportedMediaType, Message: "Upload files as multipart/form-data, in parts named files"}
		}
		mr, err := r.MultipartReader()
		if err != nil {
			return kycd.Invalid("body", kycd.Violation{Property: "files", Rule: "multipart"})
		}
		out := []map[string]any{}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return kycd.Invalid("body", kycd.Violation{Property: "files", Rule: "multipart"})
			}
			if part.FormName() != "files" {
				continue
			}
			if len(out) == files.MaxDocumentParts {
				return kycd.Invalid("body", kycd.Violation{Property: "files", Rule: "maxItems", RuleParams: map[string]any{"limit": files.MaxDocumentParts}})
			}
			f, err := s.files.CreateDocumentFile(r.Context(), kycd.UserRef{TenantID: tenantID, UserID: userID}, part)
			if err != nil {
				return err
			}
			out = append(out, map[string]any{"uuid": f.ID, "name": part.FileName(), "content_type": f.ContentType, "category": f.Category})
		}
		if len(out) == 0 {
			return kycd.Invalid("body", kycd.Violation{Property: "files", Rule: "required"})
		}
		encode(w, http.StatusCreated, map[string]any{"files": out})
		return nil
	}
}

func (s *Server) handleSandboxApplicationStatus() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tenantID, userID, id, err := s.clientApplication(r)
		if err != nil {
			return err
		}
		req, err := decode[struct {
			Status string `json:"status"`
		}](s, w, r, "sandbox-kyc-application-status-request")
		if err != nil {
			return err
		}
		a, cat, err := s.levels.SandboxStatus(r.Context(), tenantID, userID, id, req.Status)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, cat.View(a, false))
		return nil
	}
}

// handleReviewQueue lists a tenant's applications in a status (in_review
// by default), oldest first; page with after (the last uuid seen).
func (s *Server) handleReviewQueue() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := queryParams{q: r.URL.Query()}
		limit := int(p.int("limit", 50, 1, 200))
		status := p.q.Get("status")
		if status == "" {
			status = kycd.ApplicationInReview
		} else if !slices.Contains(kycd.ApplicationStatuses, status) {
			p.vs = append(p.vs, kycd.Violation{Property: "status", Rule: "enum", RuleParams: map[string]any{"allowedValues": kycd.ApplicationStatuses}})
		}
		if err := p.err(); err != nil {
			return err
		}
		list, cats, err := s.levels.Queue(r.Context(), tenantOf(r), status, p.q.Get("after"), limit+1)
		if err != nil {
			return err
		}
		var next any
		if len(list) > limit {
			list = list[:limit]
			next = list[limit-1].ID
		}
		views := make([]*levels.ApplicationView, 0, len(list))
		for i, a := range list {
			views = append(views, cats[i].View(a, true))
		}
		encode(w, http.StatusOK, map[string]any{"applications": views, "next": next})
		return nil
	}
}

func (s *Server) handleAdminApplication() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathUUID(r, "uuid")
		if err != nil {
			return err
		}
		a, cat, err := s.levels.ForReview(r.Context(), tenantOf(r), id)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, cat.View(a, true))
		return nil
	}
}

func (s *Server) handleDecideApplication() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathUUID(r, "uuid")
		if err != nil {
			return err
		}
		req, err := decode[struct {
			Status      string            `json:"status"`
			Reviewer    string            `json:"reviewer"`
			Reason      string            `json:"reason"`
			Corrections map[string]string `json:"corrections"`
		}](s, w, r, "decide-kyc-application-request")
		if err != nil {
			return err
		}
		// The reviewer is named by the request and recorded with the client
		// that made it: the audit entry's actor.
		a, cat, err := s.levels.Decide(r.Context(), tenantOf(r), id, levels.Decision{Status: req.Status, Reviewer: req.Reviewer,
			Reason: req.Reason, Corrections: req.Corrections})
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, cat.View(a, true))
		return nil
	}
}

func (s *Server) handleGetLevels() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		cat, err := s.levels.Catalog(r.Context(), tenantOf(r))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, cat)
		return nil
	}
}

func (s *Server) handleReplaceLevels() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := s.readBody(w, r, "application/json")
		if err != nil {
			return err
		}
		v, err := parseJSON(body)
		if err != nil {
			return err
		}
		if err := s.spec.validate("kyc-level-catalog", v); err != nil {
			return err
		}
		cat, err := s.levels.ReplaceCatalog(r.Context(), tenantOf(r), body)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, cat)
		return nil
	}
}

func isString(v any) bool {
	_, ok := v.(string)
	return ok
}
