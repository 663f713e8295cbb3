package main

import (
	"os"
	"testing"
)

// TestMain gives the S3 tests credentials for the in-process fake bucket
// (the AWS SDK reads them from the environment) and keeps the SDK from
// looking for an instance metadata service.
func TestMain(m *testing.M) {
	// A child kycd: the test binary re-executed to run kycd itself (the
	// crash test kills it with SIGKILL).
	if args := os.Getenv("KYCD_TEST_CHILD_ARGS"); args != "" {
		os.Exit(childMain(args))
	}
	os.Setenv("AWS_ACCESS_KEY_ID", "kycd-test")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "kycd-test-secret")
	os.Setenv("AWS_REGION", "us-east-1")
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Exit(m.Run())
}
