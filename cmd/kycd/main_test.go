package main

import (
	"flag"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/kycd/kycd/auth"
	"github.com/kycd/kycd/internal/cli"
)

// TestMain gives the S3 tests credentials for the in-process fake bucket
// (the AWS SDK reads them from the environment) and keeps the SDK from
// looking for an instance metadata service. Unless -test.parallel is given,
// it runs more tests at once than there are CPUs: each test starts its own
// kycd and spends most of its time waiting on it (jobs, pollers, shutdown).
// The in-process kycds hash secrets and passwords cheaply (secretCost).
func TestMain(m *testing.M) {
	os.Setenv("AWS_ACCESS_KEY_ID", "kycd-test")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "kycd-test-secret")
	os.Setenv("AWS_REGION", "us-east-1")
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", strconv.Itoa(2*runtime.GOMAXPROCS(0)))
	}
	// Client secrets and reviewer passwords are hashed cheaply: the tests
	// create hundreds of clients, and each hash (and each first check of
	// a secret, at the cost its hash records) at auth's default cost is
	// 19 MiB and a tenth of the package's CPU. auth's tests check the
	// default, and the kycd binary the crash tests build keeps it
	// (TestCredentialStuffing's client is made by that binary, and the
	// test checks its hash's cost).
	cli.SecretCost = auth.Cost{Time: 1, MemoryKiB: 64}
	code := m.Run()
	closeBrowser() // the browser tests' Chromium
	if kycdBin.dir != "" {
		os.RemoveAll(kycdBin.dir) // the kycd the crash tests built
	}
	if migratedSQLite.dir != "" {
		os.RemoveAll(migratedSQLite.dir) // the SQLite template testDatabases copies
	}
	os.Exit(code)
}
