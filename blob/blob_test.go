package blob

import (
	"context"
	"net/url"
	"testing"
	"time"
)

func TestCustomEndpointURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"s3://kycd?region=eu-west-1":                                    "",
		"s3://kycd?endpoint=http://127.0.0.1:9000&use_path_style=true":  "http://127.0.0.1:9000/kycd",
		"s3://kycd?endpoint=https://s3.example.com":                     "https://kycd.s3.example.com",
		"s3://kycd?endpoint=https://minio.local/&s3ForcePathStyle=true": "https://minio.local/kycd",
	} {
		u, _ := url.Parse(in)
		if got := customEndpointURL(u); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}

// TestPresignAWS presigns against AWS itself (nothing is sent): the SDK
// resolves the bucket's virtual-hosted URL.
func TestPresignAWS(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "kycd-test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "kycd-test-secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	st, err := Open(context.Background(), "s3://kycd-files?region=eu-west-1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	target, form, err := st.PresignUpload(context.Background(), "staging/t/f", "image/png", 1, 100, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if target != "https://kycd-files.s3.eu-west-1.amazonaws.com" || form["key"] != "staging/t/f" || form["policy"] == "" || form["Content-Type"] != "image/png" {
		t.Fatalf("presigned POST: %s %v", target, form)
	}
}
