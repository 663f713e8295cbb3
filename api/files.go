package api

import (
	"context"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/blob"
)

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
		cat, _ := kycd.FindFileCategory(req.Category) // the schema's enum guarantees it exists
		if !cat.Allows(req.ContentType) {
			return &kycd.Error{Code: kycd.EFileContentTypeNotAllowed, Message: "The file content type is not allowed for the specified category",
				Details: map[string]any{"allowedContentTypes": cat.AllowedContentTypes}}
		}
		f := &kycd.File{TenantID: u.TenantID, UserID: u.ID, Category: cat.Name, ContentType: req.ContentType,
			UploadExpiresAt: s.clock.Now().Add(time.Duration(cat.ExpiresIn) * time.Second).Truncate(time.Second)}
		resp := map[string]any{}
		if metaErr := metadataTooLarge(req.Metadata); metaErr != nil {
			resp["errors"] = map[string]any{"metadata": metaErr}
		} else {
			f.Metadata = req.Metadata
		}
		if err := s.files.CreateFile(r.Context(), f); err != nil {
			return err
		}
		target, form := s.signedURL("upload", f.TenantID, f.ID, f.UploadExpiresAt), map[string]string{}
		if s.blobs.Direct() {
			// Straight to the bucket, which enforces the size range and type.
			target, form, err = s.blobs.PresignUpload(r.Context(), blob.StagingKey(f.TenantID, f.ID), f.ContentType,
				cat.MinFileSize, cat.MaxFileSize, f.UploadExpiresAt.Sub(s.clock.Now()))
			if err != nil {
				return err
			}
		}
		resp["file"] = map[string]any{
			"id": f.ID, "status": f.Status, "category": f.Category, "contentType": f.ContentType,
			"upload": map[string]any{"url": target, "formData": form, "expiresAt": f.UploadExpiresAt},
		}
		encode(w, http.StatusCreated, resp)
		return nil
	}
}

func (s *Server) handleFileSettings() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		want := map[string]bool{}
		if raw := r.URL.Query().Get("category"); raw != "" {
			parts := strings.Split(raw, ",")
			for _, p := range parts {
				if _, ok := kycd.FindFileCategory(p); !ok || want[p] { // three known and distinct at most
					return kycd.Invalid("query", kycd.Violation{Property: "category", Rule: "enum",
						RuleParams: map[string]any{"allowedValues": []string{"document", "image", "video"}}})
				}
				want[p] = true
			}
		}
		out := map[string]kycd.FileCategory{}
		for _, c := range kycd.FileCategories {
			if len(want) == 0 || want[c.Name] {
				out[c.Name] = c
			}
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
		f, err := s.files.FindFileByID(r.Context(), u.TenantID, u.ID, id)
		if err != nil {
			return err
		}
		if f.Status == kycd.FilePending && s.blobs.Direct() {
			if f, err = s.ingestStaged(r.Context(), f); err != nil {
				return err
			}
		}
		out := map[string]any{"id": f.ID, "status": f.Status, "category": f.Category, "contentType": f.ContentType}
		if f.Status == kycd.FilePending && f.Rejection != "" {
			out["rejection"] = map[string]any{"code": f.Rejection, "message": rejectionMessages[f.Rejection]}
		}
		if f.Status == kycd.FileUploaded {
			cat, _ := kycd.FindFileCategory(f.Category)
			exp := s.clock.Now().Add(time.Duration(cat.ExpiresIn) * time.Second).Truncate(time.Second)
			out["download"] = map[string]any{"url": s.signedURL("download", f.TenantID, f.ID, exp), "expiresAt": exp}
		}
		encode(w, http.StatusOK, map[string]any{"file": out})
		return nil
	}
}

// rejectionMessages explain the codes a refused direct upload records.
var rejectionMessages = map[string]string{
	kycd.EFileContentTypeMismatch: "The file content does not match its declared content type; upload it again",
	kycd.EFileTooLarge:            "The file is larger than its category allows; upload it again",
	kycd.EFileTooSmall:            "The file is empty; upload it again",
}

// ingestStaged accepts a direct (S3) upload waiting under the file's staging
// key: the content is checked and stored encrypted, or its refusal recorded;
// the staged copy is deleted either way. It returns the file as it now is.
func (s *Server) ingestStaged(ctx context.Context, f *kycd.File) (*kycd.File, error) {
	key := blob.StagingKey(f.TenantID, f.ID)
	rc, ok, err := s.blobs.OpenStaged(ctx, key)
	if err != nil || !ok {
		return f, err
	}
	ctx = kycd.NewContextWithActor(ctx, kycd.Actor{Kind: "system", ID: "file-ingest"})
	err = s.accept(ctx, f, rc)
	rc.Close()
	if derr := s.blobs.Delete(ctx, key); derr != nil {
		s.logger.LogAttrs(ctx, slog.LevelWarn, "staged upload not deleted", slog.String("file_id", f.ID), slog.String("error", derr.Error()))
	}
	switch code := kycd.ErrorCode(err); {
	case err == nil, code == kycd.EFileAlreadyUploaded:
		// Stored, by this call or by a concurrent one.
	case rejectionMessages[code] != "":
		if err := s.files.RejectFileUpload(ctx, f.TenantID, f.ID, code); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	return s.files.FindFileByID(ctx, f.TenantID, f.UserID, f.ID)
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
	return s.files.FindFileByID(r.Context(), t, "", id)
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
		if f.Status != kycd.FilePending {
			return &kycd.Error{Code: kycd.EFileAlreadyUploaded, Message: "The file was already uploaded"}
		}
		content, err := uploadContent(r)
		if err != nil {
			return err
		}
		ctx := kycd.NewContextWithActor(r.Context(), kycd.Actor{Kind: "upload-url", ID: f.ID})
		if err := s.accept(ctx, f, content); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// accept stores a content for a pending file and marks it uploaded; a
// refused content, or one that lost a race with another upload, is not kept.
func (s *Server) accept(ctx context.Context, f *kycd.File, content io.Reader) error {
	size, sum, key, err := s.blobs.Accept(ctx, f, content)
	if err != nil {
		return err
	}
	if err := s.files.MarkFileUploaded(ctx, f.TenantID, f.ID, size, sum, key); err != nil {
		_ = s.blobs.Delete(ctx, key)
		return err
	}
	return nil
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
		if f.Status != kycd.FileUploaded {
			return kycd.NotFound("file")
		}
		rc, err := s.blobs.Get(r.Context(), f.TenantID, f.ID, f.BlobKey)
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
