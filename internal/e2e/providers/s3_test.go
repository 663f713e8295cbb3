package providers

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// fakeS3 is an in-process S3-compatible server on loopback.
type fakeS3 struct {
	backend *s3mem.Backend
	url     string
}

func newFakeS3(t *testing.T, bucket string) *fakeS3 {
	t.Helper()
	be := s3mem.New()
	if err := be.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gofakes3.New(be).Server())
	t.Cleanup(ts.Close)
	return &fakeS3{backend: be, url: ts.URL}
}

// objects returns every object of the bucket, by key.
func (f *fakeS3) objects(t *testing.T, bucket string) map[string][]byte {
	t.Helper()
	list, err := f.backend.ListBucket(bucket, nil, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, c := range list.Contents {
		obj, err := f.backend.GetObject(bucket, c.Key, nil)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(obj.Contents)
		obj.Contents.Close()
		out[c.Key] = raw
	}
	return out
}

// postForm uploads content the way a browser or an S3 client does with a
// presigned POST: every form field, then the file.
func postForm(t *testing.T, target string, fields map[string]any, content []byte) int {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v.(string))
	}
	fw, _ := mw.CreateFormFile("file", "evidence")
	fw.Write(content)
	mw.Close()
	res, err := http.Post(target, mw.FormDataContentType(), &b)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// TestS3Storage runs the file flow on an S3-compatible bucket: presigned POST
// uploads straight to the bucket, kycd's check of the staged bytes on the
// next read, encrypted storage, refusal of wrong content, and downloads.
func TestS3Storage(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		s3 := newFakeS3(t, "kycd")
		k := e2e.Start(t, db, "--blob-url", "s3://kycd?endpoint="+url.QueryEscape(s3.url)+"&region=us-east-1&use_path_style=true")
		tn := k.NewTenant(t, "s3")
		tok := k.Token(t, tn, "")
		uid := e2e.CreateUser(t, k, tok, "s3@example.com")

		res := k.Call(t, "POST", "/core/files", tok, uid, map[string]any{"category": "image", "contentType": "image/png"})
		if res.Status != 201 {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		fid := res.Get("file.id").(string)
		target := res.Get("file.upload.url").(string)
		form := res.Get("file.upload.formData").(map[string]any)
		if !strings.HasPrefix(target, s3.url) || form["key"] == nil || form["policy"] == nil || form["X-Amz-Signature"] == nil || form["Content-Type"] != "image/png" {
			t.Fatalf("upload target is not a presigned POST: %s %v", target, form)
		}
		// Wrong bytes: the bucket takes them, kycd refuses them on the next read.
		if st := postForm(t, target, form, []byte("%PDF-1.4\n%%EOF\n")); st/100 != 2 {
			t.Fatalf("post to bucket: %d", st)
		}
		res = k.Call(t, "GET", "/core/files/"+fid, tok, uid, nil)
		if res.Get("file.status") != "pending" || res.Get("file.rejection.code") != "file_content_type_mismatch" {
			t.Fatalf("refused upload: %s", res.Body)
		}
		if objs := s3.objects(t, "kycd"); len(objs) != 0 {
			t.Fatalf("refused content kept in the bucket: %d objects", len(objs))
		}
		// Right bytes, same URL.
		content := e2e.PNGBytes("qzmarks3content")
		if st := postForm(t, target, form, content); st/100 != 2 {
			t.Fatalf("post to bucket: %d", st)
		}
		res = k.Call(t, "GET", "/core/files/"+fid, tok, uid, nil)
		if res.Get("file.status") != "uploaded" || res.Get("file.rejection") != nil {
			t.Fatalf("accepted upload: %s", res.Body)
		}
		dl, _ := url.Parse(res.Get("file.download.url").(string))
		got := k.Do(t, k.Req("GET", dl.RequestURI(), nil))
		if got.Status != 200 || !bytes.Equal(got.Body, content) {
			t.Fatalf("download: %d, %d bytes", got.Status, len(got.Body))
		}
		// In the bucket: one encrypted object, no staged copy, no plaintext.
		objs := s3.objects(t, "kycd")
		if len(objs) != 1 {
			t.Fatalf("bucket holds %d objects, want 1", len(objs))
		}
		for key, raw := range objs {
			if strings.HasPrefix(key, "staging/") || bytes.Contains(raw, []byte("qzmarks3content")) || bytes.Contains(raw, []byte("PNG")) {
				t.Fatalf("object %s is staged or in the clear", key)
			}
		}
	})
}
