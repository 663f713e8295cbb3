// Package files runs the rules of the files users upload as KYC evidence:
// which content a category takes, where an upload goes, how a content is
// adopted (checked, stored encrypted, then recorded, or not kept at all),
// and how a direct upload staged in the bucket becomes the file's content.
// The records live in the store (kycd.FileStore), the contents in the blob
// store.
package files

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/gabriel-vasile/mimetype"

	"github.com/kycd/kycd"
)

// Blobs keeps file contents, encrypted (blob.Store).
type Blobs interface {
	// Direct reports whether clients upload straight to the bucket.
	Direct() bool
	// StagingKey is where a direct upload of a file lands.
	StagingKey(tenantID, fileID string) string
	// PresignUpload returns a presigned POST to key: URL and form fields.
	PresignUpload(ctx context.Context, key, contentType string, min, max int64, expires time.Duration) (string, map[string]string, error)
	// OpenStaged opens a staged upload; false when there is none.
	OpenStaged(ctx context.Context, key string) (io.ReadCloser, bool, error)
	// Accept checks a content against its file and stores it encrypted
	// under a fresh key: size, SHA-256 and key.
	Accept(ctx context.Context, f *kycd.File, r io.Reader) (size int64, sum, key string, err error)
	// Get opens a stored content, decrypted.
	Get(ctx context.Context, tenantID, fileID, key string) (io.ReadCloser, error)
	// Delete removes a stored object.
	Delete(ctx context.Context, key string) error
}

// Config holds the service's dependencies.
type Config struct {
	Store  kycd.FileStore
	Blobs  Blobs
	Clock  kycd.Clock
	Logger *slog.Logger
}

// Service manages files: their records and their contents.
type Service struct {
	store  kycd.FileStore
	blobs  Blobs
	clock  kycd.Clock
	logger *slog.Logger
}

// New returns the service.
func New(c Config) (*Service, error) {
	if c.Store == nil || c.Blobs == nil {
		return nil, errors.New("files: missing store or blobs")
	}
	if c.Clock == nil {
		c.Clock = kycd.SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: c.Store, blobs: c.Blobs, clock: c.Clock, logger: c.Logger}, nil
}

// Upload is where the content of a pending file goes when it goes straight
// to the bucket: a presigned POST (URL and form fields) until ExpiresAt.
type Upload struct {
	URL       string
	Form      map[string]string
	ExpiresAt time.Time
}

// Created is a new file: the file, its upload when uploads go straight to
// the bucket (nil means the content goes through kycd's own upload URL),
// and why its metadata was dropped, if it was.
type Created struct {
	File            *kycd.File
	Upload          *Upload
	MetadataRefused *kycd.Error
}

// Create reserves a pending file of a category for a user, its upload
// window the category's ExpiresIn from now. The content type must be one
// the category allows (EFileContentTypeNotAllowed, naming them). The
// category must exist: the request's schema lists them. Metadata over
// kycd.MetadataLimit is dropped, not refused (Created.MetadataRefused).
// Returns the store's errors (ENotFound "user", EMaxFilesLimitExceeded).
func (s *Service) Create(ctx context.Context, u kycd.UserRef, category, contentType string, metadata map[string]any) (*Created, error) {
	cat, ok := kycd.FindFileCategory(category)
	if !ok || cat.Name == kycd.EvidenceCategory.Name {
		return nil, kycd.Invalid("body", kycd.Violation{Property: "category", Rule: "enum",
			RuleParams: map[string]any{"allowedValues": CategoryNames()}})
	}
	if !cat.Allows(contentType) {
		return nil, &kycd.Error{Code: kycd.EFileContentTypeNotAllowed, Message: "The file content type is not allowed for the specified category",
			Details: map[string]any{"allowedContentTypes": cat.AllowedContentTypes}}
	}
	c := &Created{MetadataRefused: kycd.MetadataOverLimit(metadata)}
	if c.MetadataRefused != nil {
		metadata = nil
	}
	c.File = &kycd.File{TenantID: u.TenantID, UserID: u.UserID, Category: cat.Name, ContentType: contentType, Metadata: metadata,
		UploadExpiresAt: s.clock.Now().Add(time.Duration(cat.ExpiresIn) * time.Second).Truncate(time.Second)}
	if err := s.store.CreateFile(ctx, c.File, kycd.FileCreated(c.File)); err != nil {
		return nil, err
	}
	if !s.blobs.Direct() {
		return c, nil
	}
	// Straight to the bucket, which enforces the size range and type.
	f := c.File
	target, form, err := s.blobs.PresignUpload(ctx, s.blobs.StagingKey(f.TenantID, f.ID), f.ContentType,
		cat.MinFileSize, cat.MaxFileSize, f.UploadExpiresAt.Sub(s.clock.Now()))
	if err != nil {
		return nil, err
	}
	c.Upload = &Upload{URL: target, Form: form, ExpiresAt: f.UploadExpiresAt}
	return c, nil
}

// CategoryNames are the categories clients upload files of.
func CategoryNames() []string {
	names := make([]string, 0, len(kycd.FileCategories))
	for _, c := range kycd.FileCategories {
		names = append(names, c.Name)
	}
	return names
}

// Categories returns the settings of the categories named (every category
// clients upload files of when none is). Each name must be one of them and
// named once; otherwise a "query" violation of property category.
func (s *Service) Categories(names []string) (map[string]kycd.FileCategory, error) {
	want := map[string]bool{}
	for _, n := range names {
		if cat, ok := kycd.FindFileCategory(n); !ok || cat.Name == kycd.EvidenceCategory.Name || want[n] {
			return nil, kycd.Invalid("query", kycd.Violation{Property: "category", Rule: "enum",
				RuleParams: map[string]any{"allowedValues": CategoryNames()}})
		}
		want[n] = true
	}
	out := map[string]kycd.FileCategory{}
	for _, c := range kycd.FileCategories {
		if len(want) == 0 || want[c.Name] {
			out[c.Name] = c
		}
	}
	return out, nil
}

// File returns a user's file as it now is: a pending file's direct upload
// waiting in the bucket is adopted first (or its refusal recorded). For an
// uploaded file it also returns until when a download URL handed out now
// may be used (the category's ExpiresIn from now). ENotFound ("file").
func (s *Service) File(ctx context.Context, u kycd.UserRef, id string) (*kycd.File, time.Time, error) {
	f, err := s.store.FindFileByID(ctx, kycd.FileKey{TenantID: u.TenantID, UserID: u.UserID, ID: id})
	if err != nil {
		return nil, time.Time{}, err
	}
	if f.Status == kycd.FilePending && s.blobs.Direct() {
		if f, err = s.adoptStaged(ctx, f); err != nil {
			return nil, time.Time{}, err
		}
	}
	var until time.Time
	if f.Status == kycd.FileUploaded {
		cat, _ := kycd.FindFileCategory(f.Category)
		until = s.clock.Now().Add(time.Duration(cat.ExpiresIn) * time.Second).Truncate(time.Second)
	}
	return f, until, nil
}

// Files lists a user's files, oldest first.
func (s *Service) Files(ctx context.Context, u kycd.UserRef) ([]*kycd.File, error) {
	return s.store.FindFiles(ctx, u)
}

// Stored returns a user's file as its record stands, without adopting a
// direct upload waiting in the bucket (what File does): a reader that must
// not write, such as the console, sees a pending file as pending.
// ENotFound ("file").
func (s *Service) Stored(ctx context.Context, u kycd.UserRef, id string) (*kycd.File, error) {
	return s.store.FindFileByID(ctx, kycd.FileKey{TenantID: u.TenantID, UserID: u.UserID, ID: id})
}

// FindFile returns a file of a tenant, whoever's it is: what a signed
// upload or download URL names. ENotFound ("file").
func (s *Service) FindFile(ctx context.Context, tenantID, id string) (*kycd.File, error) {
	return s.store.FindFileByID(ctx, kycd.FileKey{TenantID: tenantID, ID: id})
}

// rejections explain the codes a refused direct upload records.
var rejections = map[string]string{
	kycd.EFileContentTypeMismatch: "The file content does not match its declared content type; upload it again",
	kycd.EFileTooLarge:            "The file is larger than its category allows; upload it again",
	kycd.EFileTooSmall:            "The file is empty; upload it again",
}

// RejectionMessage explains a file's Rejection code to clients.
func RejectionMessage(code string) string { return rejections[code] }

// adoptStaged accepts a direct (S3) upload waiting under the file's staging
// key: the content is checked and stored encrypted, or its refusal recorded;
// the staged copy is deleted either way. It returns the file as it now is.
func (s *Service) adoptStaged(ctx context.Context, f *kycd.File) (*kycd.File, error) {
	key := s.blobs.StagingKey(f.TenantID, f.ID)
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
	case rejections[code] != "":
		if err := s.store.RejectFileUpload(ctx, f.TenantID, f.ID, code, kycd.FileUploadRejected(f.ID, code)); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	return s.store.FindFileByID(ctx, kycd.FileKey{TenantID: f.TenantID, UserID: f.UserID, ID: f.ID})
}

// Upload stores the content of a pending file through kycd's upload URL,
// with the URL as the actor. A file uploaded already is
// EFileAlreadyUploaded, before open is called: open reads the content from
// the request only once the file may take it. A refused content
// (EFileTooSmall, EFileTooLarge, EFileContentTypeMismatch) is not kept.
func (s *Service) Upload(ctx context.Context, f *kycd.File, open func() (io.Reader, error)) error {
	if f.Status != kycd.FilePending {
		return &kycd.Error{Code: kycd.EFileAlreadyUploaded, Message: "The file was already uploaded"}
	}
	content, err := open()
	if err != nil {
		return err
	}
	ctx = kycd.NewContextWithActor(ctx, kycd.Actor{Kind: "upload-url", ID: f.ID})
	return s.accept(ctx, f, content)
}

// accept stores a content for a pending file and marks it uploaded; a
// refused content, or one that lost a race with another upload, is not kept.
func (s *Service) accept(ctx context.Context, f *kycd.File, content io.Reader) error {
	size, sum, key, err := s.blobs.Accept(ctx, f, content)
	if err != nil {
		return err
	}
	if err := s.store.MarkFileUploaded(ctx, f.TenantID, f.ID, size, sum, key, kycd.FileUploadedChange(f, size, sum)); err != nil {
		_ = s.blobs.Delete(ctx, key)
		return err
	}
	return nil
}

// Content opens the content of an uploaded file, decrypted; a pending
// file has none (ENotFound "file").
func (s *Service) Content(ctx context.Context, f *kycd.File) (io.ReadCloser, error) {
	if f.Status != kycd.FileUploaded {
		return nil, kycd.NotFound("file")
	}
	return s.blobs.Get(ctx, f.TenantID, f.ID, f.BlobKey)
}

// MaxDocumentParts bounds the files of one document upload.
const MaxDocumentParts = 10

// documentCategories are the categories a document upload's files may
// fall in, the first that takes the content's type chosen.
var documentCategories = []string{"image", "document"}

// documentTypes are the content types a document upload takes.
var documentTypes = []string{"image/jpeg", "image/png", "application/pdf"}

// sniffLen is how much of a content is read to tell its type.
const sniffLen = 3072

// CreateDocumentFile stores one file of a document upload (the levels
// surface) for a user: its type is told by its bytes (JPEG, PNG or PDF;
// EFileContentTypeNotAllowed otherwise), its category is the first of image
// and document that takes it, and it is recorded and stored encrypted like
// every upload, in the request's own actor.
func (s *Service) CreateDocumentFile(ctx context.Context, u kycd.UserRef, content io.Reader) (*kycd.File, error) {
	br := bufio.NewReaderSize(content, sniffLen)
	head, _ := br.Peek(sniffLen)
	contentType := mimetype.Detect(head).String()
	if i := strings.IndexByte(contentType, ';'); i >= 0 {
		contentType = contentType[:i]
	}
	category := ""
	for _, c := range documentCategories {
		if cat, _ := kycd.FindFileCategory(c); cat.Allows(contentType) {
			category = c
			break
		}
	}
	if category == "" {
		return nil, &kycd.Error{Code: kycd.EFileContentTypeNotAllowed, Message: "Files must be JPEG, PNG or PDF",
			Details: map[string]any{"allowedValues": documentTypes}}
	}
	f := &kycd.File{TenantID: u.TenantID, UserID: u.UserID, Category: category, ContentType: contentType, Status: kycd.FilePending,
		UploadExpiresAt: s.clock.Now()}
	if err := s.store.CreateFile(ctx, f, kycd.FileCreated(f)); err != nil {
		return nil, err
	}
	if err := s.accept(ctx, f, br); err != nil {
		return nil, err
	}
	return f, nil
}
