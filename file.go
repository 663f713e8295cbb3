package kycd

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// File statuses.
const (
	FilePending  = "pending"
	FileUploaded = "uploaded"
)

// File is a document, image or video a user uploads as KYC evidence. Its
// content lives in the blob store, encrypted with the tenant's data key.
type File struct {
	ID          string `json:"id"`
	TenantID    string `json:"-"`
	UserID      string `json:"-"`
	Category    string `json:"category"`
	ContentType string `json:"contentType"`
	Status      string `json:"status"`
	// Size and SHA256 are known once uploaded.
	Size   int64  `json:"-"`
	SHA256 string `json:"-"`
	// BlobKey locates the encrypted content in the blob store.
	BlobKey string `json:"-"`
	// Rejection is the error code of the last refused direct upload of a
	// pending file ("" when none); uploading again is allowed.
	Rejection string `json:"-"`
	// Metadata is the partner's free-form data about the file (encrypted).
	Metadata map[string]any `json:"-"`
	// UploadExpiresAt ends the window in which content may be uploaded.
	UploadExpiresAt time.Time  `json:"-"`
	CreatedAt       time.Time  `json:"-"`
	UploadedAt      *time.Time `json:"-"`
}

// FileCategory is what a category of file may hold.
type FileCategory struct {
	Name                string   `json:"-"`
	AllowedContentTypes []string `json:"allowedContentTypes"`
	MinFileSize         int64    `json:"minFileSize"`
	MaxFileSize         int64    `json:"maxFileSize"`
	// ExpiresIn is how long upload and download URLs live, in seconds.
	ExpiresIn int64 `json:"expiresIn"`
}

// FileCategories are the file settings of kycd, per category.
var FileCategories = []FileCategory{
	{Name: "document", AllowedContentTypes: []string{"application/pdf", "image/jpeg", "image/png"}, MinFileSize: 1, MaxFileSize: 25_000_000, ExpiresIn: 900},
	{Name: "image", AllowedContentTypes: []string{"image/jpeg", "image/png"}, MinFileSize: 1, MaxFileSize: 15_000_000, ExpiresIn: 900},
	{Name: "video", AllowedContentTypes: []string{"video/mp4", "video/mpeg"}, MinFileSize: 1, MaxFileSize: 100_000_000, ExpiresIn: 900},
}

// EvidenceCategory holds the evidence of externally performed checks (a
// zip kycd fetched and inspected). Clients do not upload files of it.
var EvidenceCategory = FileCategory{Name: "evidence", AllowedContentTypes: []string{"application/zip"}, MinFileSize: 22,
	MaxFileSize: MaxEvidenceSize, ExpiresIn: 900}

// FindFileCategory returns the settings of a category by name.
func FindFileCategory(name string) (FileCategory, bool) {
	if name == EvidenceCategory.Name {
		return EvidenceCategory, true
	}
	for _, c := range FileCategories {
		if c.Name == name {
			return c, true
		}
	}
	return FileCategory{}, false
}

// Allows reports whether the category accepts a content type.
func (c FileCategory) Allows(contentType string) bool {
	for _, t := range c.AllowedContentTypes {
		if t == contentType {
			return true
		}
	}
	return false
}

// MaxPendingFiles is how many files a user may have awaiting upload at
// once (reserved, not uploaded, their upload window open): a client that
// reserves uploads it never makes runs out. Concurrent reservations may pass
// it by the number in flight.
const MaxPendingFiles = 20

// FileKey names a file of a tenant. TenantID and ID are required; UserID
// narrows the look-up when set (a file of another user is then not found)
// and matches any user when empty (a signed URL names only tenant and file).
type FileKey struct {
	TenantID string
	UserID   string
	ID       string
}

// FileStore keeps file records (the content goes to the blob store).
type FileStore interface {
	// CreateFile stores a pending file (FileCreated chose its ID), setting
	// CreatedAt, with its change. Returns ENotFound ("user") for a user who
	// is not a live one of the tenant, and EMaxFilesLimitExceeded when the
	// user has MaxPendingFiles files awaiting upload already.
	CreateFile(ctx context.Context, f *File, change Change) error
	// FindFileByID returns the file a key names: ENotFound ("file") for
	// unknown files, files of another tenant and, when the key names a
	// user, files of another user.
	FindFileByID(ctx context.Context, k FileKey) (*File, error)
	// FindFiles lists a user's files (every category, pending ones too),
	// oldest first, without their metadata.
	FindFiles(ctx context.Context, u UserRef) ([]*File, error)
	// MarkFileUploaded records that the content of a pending file is stored,
	// with the change given (FileUploaded). Returns EFileAlreadyUploaded when
	// it was already, ENotFound ("file").
	MarkFileUploaded(ctx context.Context, tenantID, id string, size int64, sha256, blobKey string, c Change) error
	// RejectFileUpload records why a direct upload of a pending file was
	// refused (an error code). Returns ENotFound ("file").
	// Its change is FileUploadRejected.
	RejectFileUpload(ctx context.Context, tenantID, id, code string, change Change) error
	// DeleteExpiredPendingFiles removes pending files whose upload window
	// ended before the given time, returning how many it removed. Which
	// files those are is the store's to find: each removal records the
	// change expired returns for the file (FileExpired).
	DeleteExpiredPendingFiles(ctx context.Context, before time.Time, expired func(fileID string) Change) (int, error)
}

// FileCreated is the change that records a new file, pending until its
// content is uploaded: its audit entry. It chooses the file's ID when the
// caller has not.
func FileCreated(f *File) Change {
	if f.ID == "" {
		f.ID = uuid.NewString()
	}
	f.Status = FilePending
	return Change{Audit: AuditRecord{Action: "file.created", EntityType: "file", EntityID: f.ID,
		Details: map[string]any{"userId": f.UserID, "category": f.Category, "contentType": f.ContentType}}}
}

// FileExpired is the change that records a pending file removed because
// its upload window ended long ago: its audit entry.
func FileExpired(id string) Change {
	return Change{Audit: AuditRecord{Action: "file.expired", EntityType: "file", EntityID: id}}
}

// FilesIngested is the change that records files of a user that an
// ingestion, or a check's evidence, stored: its audit entry (their IDs).
func FilesIngested(userID string, fileIDs []string) Change {
	return Change{Audit: AuditRecord{Action: "files.ingested", EntityType: "user", EntityID: userID, Details: map[string]any{"fileIds": fileIDs}}}
}

// FileUploadRejected is the change that records why a direct upload of a
// pending file was refused (an error code): its audit entry.
func FileUploadRejected(fileID, code string) Change {
	return Change{Audit: AuditRecord{Action: "file.upload_rejected", EntityType: "file", EntityID: fileID, Details: map[string]any{"code": code}}}
}

// FileUploadedChange is the change that records a file's content stored: its
// event (ids only) and its audit entry.
func FileUploadedChange(f *File, size int64, sha256 string) Change {
	return Change{
		Events: []*Event{{TenantID: f.TenantID, Type: EventFileUploaded, EntityType: "file", EntityID: f.ID, Data: map[string]any{"fileId": f.ID, "userId": f.UserID}}},
		Audit:  AuditRecord{Action: "file.uploaded", EntityType: "file", EntityID: f.ID, Details: map[string]any{"size": size, "sha256": sha256}},
	}
}
