package files

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd"
)

// store is a kycd.FileStore whose behaviour each test sets; unset methods
// fail the test that reaches them.
type store struct {
	t                    *testing.T
	MarkFileUploadedFunc func(ctx context.Context, tenantID, id string, size int64, sum, key string, c kycd.Change) error
}

var _ kycd.FileStore = (*store)(nil)

func (s *store) CreateFile(context.Context, *kycd.File, kycd.Change) error {
	s.t.Fatal("CreateFile")
	return nil
}
func (s *store) FindFileByID(context.Context, kycd.FileKey) (*kycd.File, error) {
	s.t.Fatal("FindFileByID")
	return nil, nil
}
func (s *store) FindFiles(context.Context, kycd.UserRef) ([]*kycd.File, error) {
	s.t.Fatal("FindFiles")
	return nil, nil
}
func (s *store) MarkFileUploaded(ctx context.Context, tenantID, id string, size int64, sum, key string, c kycd.Change) error {
	return s.MarkFileUploadedFunc(ctx, tenantID, id, size, sum, key, c)
}
func (s *store) RejectFileUpload(context.Context, string, string, string, kycd.Change) error {
	s.t.Fatal("RejectFileUpload")
	return nil
}
func (s *store) DeleteExpiredPendingFiles(context.Context, time.Time, func(string) kycd.Change) (int, error) {
	s.t.Fatal("DeleteExpiredPendingFiles")
	return 0, nil
}

// blobs is a Blobs that accepts any content under key "k" and records
// deletions.
type blobs struct {
	deleted []string
}

var _ Blobs = (*blobs)(nil)

func (b *blobs) Direct() bool { return false }
func (b *blobs) StagingKey(tenantID, fileID string) string {
	return "staging/" + tenantID + "/" + fileID
}
func (b *blobs) PresignUpload(context.Context, string, string, int64, int64, time.Duration) (string, map[string]string, error) {
	return "", nil, errors.New("not direct")
}
func (b *blobs) OpenStaged(context.Context, string) (io.ReadCloser, bool, error) {
	return nil, false, nil
}
func (b *blobs) Accept(_ context.Context, _ *kycd.File, r io.Reader) (int64, string, string, error) {
	n, err := io.Copy(io.Discard, r)
	return n, "sum", "k", err
}
func (b *blobs) Get(context.Context, string, string, string) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader("content")), nil
}
func (b *blobs) Delete(_ context.Context, key string) error {
	b.deleted = append(b.deleted, key)
	return nil
}

// TestUpload: a file uploaded already is refused before the content is
// read; a content whose record fails is deleted (nothing kept).
func TestUpload(t *testing.T) {
	bl := &blobs{}
	marked := 0
	st := &store{t: t, MarkFileUploadedFunc: func(_ context.Context, _, _ string, size int64, _, key string, c kycd.Change) error {
		// The service builds what the upload records, the store writes it.
		if len(c.Events) != 1 || c.Events[0].Type != kycd.EventFileUploaded || c.Audit.Action != "file.uploaded" || c.Audit.Details["size"] != size {
			t.Errorf("change = %+v", c)
		}
		marked++
		if marked == 2 {
			return &kycd.Error{Code: kycd.EFileAlreadyUploaded, Message: "raced"}
		}
		return nil
	}}
	s, err := New(Config{Store: st, Blobs: bl})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	opened := 0
	open := func() (io.Reader, error) { opened++; return strings.NewReader("content"), nil }
	done := &kycd.File{ID: "f", TenantID: "t", Status: kycd.FileUploaded}
	if err := s.Upload(ctx, done, open); kycd.ErrorCode(err) != kycd.EFileAlreadyUploaded || opened != 0 {
		t.Fatalf("upload of an uploaded file: %v, opened %d times", err, opened)
	}
	pending := &kycd.File{ID: "f", TenantID: "t", Status: kycd.FilePending}
	if err := s.Upload(ctx, pending, open); err != nil || opened != 1 || len(bl.deleted) != 0 {
		t.Fatalf("upload: %v, opened %d, deleted %v", err, opened, bl.deleted)
	}
	if err := s.Upload(ctx, pending, open); kycd.ErrorCode(err) != kycd.EFileAlreadyUploaded || len(bl.deleted) != 1 || bl.deleted[0] != "k" {
		t.Fatalf("raced upload: %v, deleted %v", err, bl.deleted)
	}
	if _, err := s.Content(ctx, pending); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Fatalf("content of a pending file: %v", err)
	}
}

// TestCategories: none named is every client category; an unknown, a
// repeated or the evidence category is refused.
func TestCategories(t *testing.T) {
	s, err := New(Config{Store: &store{t: t}, Blobs: &blobs{}})
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.Categories(nil)
	if err != nil || len(all) != len(kycd.FileCategories) {
		t.Fatalf("Categories() = %v, %v", all, err)
	}
	if one, err := s.Categories([]string{"image"}); err != nil || len(one) != 1 || one["image"].Name != "image" {
		t.Fatalf("Categories(image) = %v, %v", one, err)
	}
	for _, bad := range [][]string{{"nope"}, {"image", "image"}, {kycd.EvidenceCategory.Name}} {
		if _, err := s.Categories(bad); kycd.ErrorCode(err) != kycd.ERequestInvalid {
			t.Errorf("Categories(%v) = %v", bad, err)
		}
	}
}
