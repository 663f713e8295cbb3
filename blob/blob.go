// Package blob stores file contents with gocloud.dev/blob: a local folder by
// default (fileblob), or an S3-compatible bucket (s3blob). Every content is
// encrypted with its tenant's data key (Tink streaming AEAD) before it is
// stored, and bound to its file id.
//
// With S3, clients upload straight to the bucket through a presigned POST
// (the bucket enforces the size range and content type); the upload lands
// under a staging key, and kycd then reads it, checks its real type, stores
// it encrypted and deletes the staged copy (Accept).
package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/s3blob" // registers s3:// bucket URLs
	"gocloud.dev/gcerrors"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/gabriel-vasile/mimetype"
	"github.com/google/uuid"

	"github.com/kycd/kycd"
)

// Store keeps encrypted file contents in a bucket.
type Store struct {
	bucket *blob.Bucket
	vault  kycd.Vault
	// s3 and bucketName are set for an S3 bucket: uploads go to it directly.
	s3         *s3.Client
	bucketName string
	// postURL is the bucket's URL for presigned POSTs when the bucket URL
	// names a custom endpoint (the SDK does not resolve one then).
	postURL string
}

// Open opens the store named by a gocloud bucket URL: "" is the local folder
// dir, "s3://bucket?region=...&endpoint=...&use_path_style=true" an
// S3-compatible bucket (credentials from the standard AWS chain).
func Open(ctx context.Context, bucketURL, dir string, v kycd.Vault) (*Store, error) {
	if bucketURL == "" {
		return OpenDir(dir, v)
	}
	u, err := url.Parse(bucketURL)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, errors.New("blob URL must be s3://bucket?... (leave it empty for the local folder)")
	}
	b, err := blob.OpenBucket(ctx, bucketURL)
	if err != nil {
		return nil, fmt.Errorf("open bucket: %w", err)
	}
	st := &Store{bucket: b, vault: v, bucketName: u.Host, postURL: customEndpointURL(u)}
	if !b.As(&st.s3) {
		b.Close()
		return nil, errors.New("blob: the S3 bucket exposes no S3 client")
	}
	return st, nil
}

// Direct reports whether clients upload straight to the bucket.
func (s *Store) Direct() bool { return s.s3 != nil }

// StagingKey is where a direct upload of a file lands before kycd accepts it.
func StagingKey(tenantID, fileID string) string {
	return "staging/" + tenantID + "/" + fileID
}

// StagingKey is StagingKey, as a method: what the files service asks of its
// blob store.
func (s *Store) StagingKey(tenantID, fileID string) string { return StagingKey(tenantID, fileID) }

// PresignUpload returns a presigned POST for a direct upload to key: the URL
// and the form fields to send before the content (a part named "file"). The
// bucket refuses content outside [min, max] bytes or of another declared type.
func (s *Store) PresignUpload(ctx context.Context, key, contentType string, min, max int64, expires time.Duration) (string, map[string]string, error) {
	if s.s3 == nil {
		return "", nil, errors.New("blob: not an S3 bucket")
	}
	pc := s3.NewPresignClient(s.s3)
	req, err := pc.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: &s.bucketName, Key: &key, ContentType: &contentType},
		func(o *s3.PresignPostOptions) {
			o.Expires = expires
			o.Conditions = []any{
				[]any{"content-length-range", min, max},
				map[string]string{"Content-Type": contentType},
			}
		})
	if err != nil {
		return "", nil, fmt.Errorf("presign upload: %w", err)
	}
	target := req.URL
	if target == "" {
		target = s.postURL
	}
	if target == "" {
		return "", nil, errors.New("blob: no URL for presigned uploads to this bucket")
	}
	form := map[string]string{"Content-Type": contentType}
	for k, v := range req.Values {
		form[k] = v
	}
	return target, form, nil
}

// customEndpointURL returns the URL of the bucket at the bucket URL's custom
// endpoint ("" without one): path style (endpoint/bucket) or virtual-hosted
// (bucket.endpoint), as the bucket URL says.
func customEndpointURL(u *url.URL) string {
	q := u.Query()
	ep := q.Get("endpoint")
	if ep == "" {
		return ""
	}
	e, err := url.Parse(ep)
	if err != nil || e.Host == "" {
		return ""
	}
	if q.Get("disable_https") == "true" {
		e.Scheme = "http"
	}
	if q.Get("use_path_style") == "true" || q.Get("s3ForcePathStyle") == "true" {
		return strings.TrimRight(e.String(), "/") + "/" + u.Host
	}
	e.Host = u.Host + "." + e.Host
	return strings.TrimRight(e.String(), "/")
}

// OpenStaged returns a reader of a staged direct upload, or ok=false when
// nothing was uploaded there.
func (s *Store) OpenStaged(ctx context.Context, key string) (io.ReadCloser, bool, error) {
	r, err := s.bucket.NewReader(ctx, key, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	return r, true, nil
}

// OpenDir opens a store over a local folder, creating it if needed.
func OpenDir(dir string, v kycd.Vault) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("blob folder: %w", err)
	}
	// Contents are opaque ciphertext whose type the database records: no
	// metadata sidecar file per object.
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{NoTempDir: false, Metadata: fileblob.MetadataDontWrite})
	if err != nil {
		return nil, fmt.Errorf("blob folder: %w", err)
	}
	return &Store{bucket: b, vault: v}, nil
}

// Close closes the bucket.
func (s *Store) Close() error { return s.bucket.Close() }

func contentAD(fileID string) []byte { return []byte("files.content:" + fileID) }

// ErrTooLarge is returned by Put when the content exceeds its limit; nothing
// is kept.
var ErrTooLarge = errors.New("blob: content too large")

// Put encrypts and stores the content read from r under key, refusing more
// than max bytes. It returns the plaintext size and SHA-256. On any error
// nothing is kept under key.
func (s *Store) Put(ctx context.Context, tenantID, fileID, key string, r io.Reader, max int64) (int64, string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(ctx, key, &blob.WriterOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return 0, "", err
	}
	fail := func(err error) (int64, string, error) {
		cancel() // a cancelled writer discards what it wrote
		_ = w.Close()
		return 0, "", err
	}
	enc, err := s.vault.EncryptingWriter(ctx, tenantID, w, contentAD(fileID))
	if err != nil {
		return fail(err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(enc, h), io.LimitReader(r, max+1))
	if err != nil {
		return fail(err)
	}
	if n > max {
		return fail(ErrTooLarge)
	}
	if err := enc.Close(); err != nil {
		return fail(err)
	}
	if err := w.Close(); err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// Get returns a reader of the decrypted content stored under key.
func (s *Store) Get(ctx context.Context, tenantID, fileID, key string) (io.ReadCloser, error) {
	r, err := s.bucket.NewReader(ctx, key, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, kycd.NotFound("file")
	} else if err != nil {
		return nil, err
	}
	dec, err := s.vault.DecryptingReader(ctx, tenantID, r, contentAD(fileID))
	if err != nil {
		r.Close()
		return nil, err
	}
	return readCloser{Reader: dec, Closer: r}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// Delete removes the content under key; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	err := s.bucket.Delete(ctx, key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil
	}
	return err
}

// sniffLen is how much of a content is read to tell its real type.
const sniffLen = 3072

// Accept checks a content against its file's declared type and its category's
// size limits, then stores it encrypted under a fresh key, which it returns
// with the plaintext size and SHA-256. A content that is empty, of another
// type or too large is refused with a kycd error and nothing is kept.
func (s *Store) Accept(ctx context.Context, f *kycd.File, r io.Reader) (size int64, sum, key string, err error) {
	cat, ok := kycd.FindFileCategory(f.Category)
	if !ok {
		return 0, "", "", fmt.Errorf("blob: unknown category %q", f.Category)
	}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return 0, "", "", kycd.Invalid("body", kycd.Violation{Property: "file", Rule: "readable"})
	}
	head = head[:n]
	if int64(n) < cat.MinFileSize {
		return 0, "", "", &kycd.Error{Code: kycd.EFileTooSmall, Message: "The file is empty",
			Details: map[string]any{"threshold": map[string]any{"limit": cat.MinFileSize, "unit": "bytes"}}}
	}
	if detected := mimetype.Detect(head); !detected.Is(f.ContentType) {
		return 0, "", "", &kycd.Error{Code: kycd.EFileContentTypeMismatch, Message: "The file content does not match its declared content type",
			Details: map[string]any{"declared": f.ContentType, "detected": detected.String()}}
	}
	key = "tenants/" + f.TenantID + "/files/" + f.ID + "/" + uuid.NewString()
	size, sum, err = s.Put(ctx, f.TenantID, f.ID, key, io.MultiReader(bytes.NewReader(head), r), cat.MaxFileSize)
	if errors.Is(err, ErrTooLarge) {
		return 0, "", "", &kycd.Error{Code: kycd.EFileTooLarge, Message: "The file is larger than its category allows",
			Details: map[string]any{"threshold": map[string]any{"limit": cat.MaxFileSize, "unit": "bytes"}}}
	}
	return size, sum, key, err
}
