package main

import (
	"os"
	"testing"
)

// TestMain gives the S3 tests credentials for the in-process fake bucket
// (the AWS SDK reads them from the environment) and keeps the SDK from
// looking for an instance metadata service.
func TestMain(m *testing.M) {
	os.Setenv("AWS_ACCESS_KEY_ID", "kycd-test")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "kycd-test-secret")
	os.Setenv("AWS_REGION", "us-east-1")
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	code := m.Run()
	if kycdBin.dir != "" {
		os.RemoveAll(kycdBin.dir) // the kycd the crash tests built
	}
	os.Exit(code)
}
