package api

import (
	"context"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/files"
)

// Files is the files service.
type Files interface {
	Create(ctx context.Context, u kycd.UserRef, category, contentType string, metadata map[string]any) (*files.Created, error)
	Categories(names []string) (map[string]kycd.FileCategory, error)
	File(ctx context.Context, u kycd.UserRef, id string) (*kycd.File, time.Time, error)
	FindFile(ctx context.Context, tenantID, id string) (*kycd.File, error)
	Upload(ctx context.Context, f *kycd.File, open func() (io.Reader, error)) error
	Content(ctx context.Context, f *kycd.File) (io.ReadCloser, error)
	CreateDocumentFile(ctx context.Context, u kycd.UserRef, content io.Reader) (*kycd.File, error)
}

type createFileRequest struct {
	Category    string         `json:"category"`
	ContentType string         `json:"contentType"`
	Metadata    map[string]any `json:"metadata"`
}

func (s *Server) handleCreateFile() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, r, err := s.actingUser(r)
		if err != nil {
			return err
		}
		req, err := decode[createFileRequest](s, w, r, "create-file-request")
		if err != nil {
			return err
		}
		c, err := s.files.Create(r.Context(), kycd.UserRef{TenantID: u.TenantID, UserID: u.ID}, req.Category, req.ContentType, req.Metadata)
		if err != nil {
			return err
		}
		resp := map[string]any{}
		if c.MetadataRefused != nil {
			resp["errors"] = metadataRefused(c.MetadataRefused)
		}
		f, up := c.File, c.Upload
		if up == nil {
			up = &files.Upload{URL: s.signedURL("upload", f.TenantID, f.ID, f.UploadExpiresAt), Form: map[string]string{}, ExpiresAt: f.UploadExpiresAt}
		}
		resp["file"] = map[string]any{
			"id": f.ID, "status": f.Status, "category": f.Category, "contentType": f.ContentType,
			"upload": map[string]any{"url": up.URL, "formData": up.Form, "expiresAt": up.ExpiresAt},
		}
		encode(w, http.StatusCreated, resp)
		return nil
	}
}

func (s *Server) handleFileSettings() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var names []string
		if raw := r.URL.Query().Get("category"); raw != "" {
			names = strings.Split(raw, ",")
		}
		out, err := s.files.Categories(names)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, map[string]any{"settings": out})
		return nil
	}
}

func (s *Server) handleGetFile() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathUUID(r, "fileId")
		if err != nil {
			return err
		}
		u, r, err := s.actingUser(r)
		if err != nil {
			return err
		}
		f, downloadUntil, err := s.files.File(r.Context(), kycd.UserRef{TenantID: u.TenantID, UserID: u.ID}, id)
		if err != nil {
			return err
		}
		out := map[string]any{"id": f.ID, "status": f.Status, "category": f.Category, "contentType": f.ContentType}
		if f.Status == kycd.FilePending && f.Rejection != "" {
			out["rejection"] = map[string]any{"code": f.Rejection, "message": files.RejectionMessage(f.Rejection)}
		}
		if f.Status == kycd.FileUploaded {
			out["download"] = map[string]any{"url": s.signedURL("download", f.TenantID, f.ID, downloadUntil), "expiresAt": downloadUntil}
		}
		encode(w, http.StatusOK, map[string]any{"file": out})
		return nil
	}
}

// signedURL returns a short-lived URL on kycd for uploading or downloading a
// file's content. The URL is its own credential.
func (s *Server) signedURL(purpose, tenantID, fileID string, expires time.Time) string {
	path := "/core/files/" + fileID + "/upload"
	if purpose == "download" {
		path = "/core/files/" + fileID + "/content"
	}
	return s.publicURL + path + "?" + s.signedQuery(purpose, tenantID, fileID, expires).Encode()
}

// signedQuery is the query that makes a URL its own credential: for one
// purpose, one tenant's object, until expires.
func (s *Server) signedQuery(purpose, tenantID, id string, expires time.Time) url.Values {
	e := strconv.FormatInt(expires.Unix(), 10)
	return url.Values{"t": {tenantID}, "e": {e}, "s": {s.vault.SignURL(urlMessage(purpose, tenantID, id, e))}}
}

// checkSigned verifies a signedQuery for a purpose and an object, and
// returns its tenant (EUploadURLInvalid when it is forged or expired).
func (s *Server) checkSigned(r *http.Request, purpose, id string) (string, error) {
	q := r.URL.Query()
	t, e, sig := q.Get("t"), q.Get("e"), q.Get("s")
	exp, err := strconv.ParseInt(e, 10, 64)
	if err != nil || t == "" || !s.vault.VerifyURL(urlMessage(purpose, t, id, e), sig) || s.clock.Now().Unix() > exp {
		return "", &kycd.Error{Code: kycd.EUploadURLInvalid, Message: "The URL is invalid or has expired; request a new one"}
	}
	return t, nil
}

func urlMessage(purpose, tenantID, fileID, expires string) []byte {
	return []byte(purpose + "\x00" + tenantID + "\x00" + fileID + "\x00" + expires)
}

// checkSignedURL verifies a signed URL and returns the file it names.
func (s *Server) checkSignedURL(r *http.Request, purpose string) (*kycd.File, error) {
	id, err := pathUUID(r, "fileId")
	if err != nil {
		return nil, err
	}
	t, err := s.checkSigned(r, purpose, id)
	if err != nil {
		return nil, err
	}
	return s.files.FindFile(r.Context(), t, id)
}

func (s *Server) handleUpload() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		f, err := s.checkSignedURL(r, "upload")
		if err != nil {
			return err
		}
		if err := s.ipLimits.allow("ip:" + clientIP(r)); err != nil {
			return err
		}
		if err := s.files.Upload(r.Context(), f, func() (io.Reader, error) { return uploadContent(r) }); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// uploadContent returns the content of an upload: the part named "file" of
// a multipart form (after any formData fields), or the raw body of a PUT.
func uploadContent(r *http.Request) (io.Reader, error) {
	if r.Method == http.MethodPut {
		return r.Body, nil
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "multipart/form-data" {
		return nil, &kycd.Error{Code: kycd.EUnsupportedMediaType, Message: "Upload with POST as multipart/form-data, or with PUT as the raw body"}
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, kycd.Invalid("body", kycd.Violation{Property: "file", Rule: "multipart"})
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			return nil, kycd.Invalid("body", kycd.Violation{Property: "file", Rule: "required"})
		}
		if part.FormName() == "file" {
			return part, nil
		}
		// A form field (formData): small, and not needed (the URL is the credential).
		if _, err := io.Copy(io.Discard, io.LimitReader(part, 8<<10)); err != nil {
			return nil, kycd.Invalid("body", kycd.Violation{Property: part.FormName(), Rule: "readable"})
		}
	}
}

func (s *Server) handleDownload() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		f, err := s.checkSignedURL(r, "download")
		if err != nil {
			return err
		}
		rc, err := s.files.Content(r.Context(), f)
		if err != nil {
			return err
		}
		defer rc.Close()
		h := w.Header()
		h.Set("Content-Type", f.ContentType)
		h.Set("Content-Length", strconv.FormatInt(f.Size, 10))
		h.Set("Content-Disposition", `attachment; filename="`+f.ID+`"`)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "private, no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = io.Copy(w, rc) // a failure here is a broken connection or a tampered blob: the response is already under way
		return nil
	}
}
