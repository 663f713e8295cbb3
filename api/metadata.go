package api

import (
	"net/http"
	"regexp"

	"github.com/kycd/kycd"
)

// revisionPattern is a metadata revision as If-Match and If-None-Match name
// it (an ETag, weak or strong).
var revisionPattern = regexp.MustCompile(`^(?:W/)?"[A-Fa-f0-9]{64}"$`)

// metadataTarget reads who acts and what the route names: the acting user
// (X-On-Behalf-Of), and the entity's id (for users, "me" or the acting
// user's own id).
func (s *Server) metadataTarget(r *http.Request, entity string) (*kycd.User, string, *http.Request, error) {
	u, r, err := s.actingUserRef(r)
	if err != nil {
		return nil, "", r, err
	}
	id := r.PathValue("entityId")
	if entity == kycd.MetadataUsers {
		if id != "me" && id != u.ID {
			return nil, "", r, kycd.NotFound("user")
		}
		id = u.ID
	}
	return u, id, r, nil
}

// metadataRequest reads what every metadata route needs: the acting user,
// the entity's id and the request's conditions.
func (s *Server) metadataRequest(r *http.Request, entity string, allowAny bool) (*kycd.User, string, kycd.MetadataCondition, *http.Request, error) {
	u, id, r, err := s.metadataTarget(r, entity)
	if err != nil {
		return nil, "", kycd.MetadataCondition{}, r, err
	}
	cond, err := metadataCondition(r, allowAny)
	return u, id, cond, r, err
}

// metadataCondition reads If-Match and If-None-Match; allowAny admits
// If-None-Match: * (the PUT that only creates).
func metadataCondition(r *http.Request, allowAny bool) (kycd.MetadataCondition, error) {
	c := kycd.MetadataCondition{IfMatch: r.Header.Get("If-Match"), IfNoneMatch: r.Header.Get("If-None-Match")}
	if c.IfMatch != "" && !revisionPattern.MatchString(c.IfMatch) {
		return c, kycd.Invalid("headers", kycd.Violation{Property: "if-match", Rule: "pattern"})
	}
	if c.IfNoneMatch != "" && !revisionPattern.MatchString(c.IfNoneMatch) && !(allowAny && c.IfNoneMatch == "*") {
		return c, kycd.Invalid("headers", kycd.Violation{Property: "if-none-match", Rule: "pattern"})
	}
	return c, nil
}

type metadataView struct {
	Metadata map[string]any `json:"metadata"`
}

func (s *Server) handleGetMetadata(entity string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, id, cond, r, err := s.metadataRequest(r, entity, false)
		if err != nil {
			return err
		}
		m, rev, err := s.metadata.Metadata(r.Context(), u.TenantID, u.ID, entity, id)
		if err != nil {
			return err
		}
		w.Header().Set("ETag", rev)
		if cond.IfNoneMatch != "" && weakless(cond.IfNoneMatch) == rev {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
		encode(w, http.StatusOK, metadataView{m})
		return nil
	}
}

func weakless(tag string) string {
	if len(tag) > 2 && tag[:2] == "W/" {
		return tag[2:]
	}
	return tag
}

func (s *Server) handleSetMetadata(entity string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, id, cond, r, err := s.metadataRequest(r, entity, true)
		if err != nil {
			return err
		}
		m, err := decode[map[string]any](s, w, r, "set-metadata-request")
		if err != nil {
			return err
		}
		rev, created, err := s.metadata.SetMetadata(r.Context(), u.TenantID, u.ID, entity, id, m, cond)
		if err != nil {
			return err
		}
		w.Header().Set("ETag", rev)
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		encode(w, status, metadataView{m})
		return nil
	}
}

func (s *Server) handlePatchMetadata(entity string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, id, cond, r, err := s.metadataRequest(r, entity, false)
		if err != nil {
			return err
		}
		body, err := s.readBody(w, r, "application/json-patch+json")
		if err != nil {
			return err
		}
		v, err := parseJSON(body)
		if err != nil {
			return err
		}
		if err := s.spec.validate("update-metadata-request", v); err != nil {
			return err
		}
		m, rev, err := s.metadata.PatchMetadata(r.Context(), u.TenantID, u.ID, entity, id, body, cond)
		if err != nil {
			return err
		}
		w.Header().Set("ETag", rev)
		encode(w, http.StatusOK, metadataView{m})
		return nil
	}
}

func (s *Server) handleDeleteMetadata(entity string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, id, cond, r, err := s.metadataRequest(r, entity, false)
		if err != nil {
			return err
		}
		if err := s.metadata.DeleteMetadata(r.Context(), u.TenantID, u.ID, entity, id, cond); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
