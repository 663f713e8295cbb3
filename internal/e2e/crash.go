package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kycd/kycd/sqlstore/storetest"
)

// Binary builds kycd once (without the race detector, as users run
// it) for the tests that kill it, with the kycdtest tag: it adds the
// seed-users command (seed_kycdtest.go) and leaves the rest as shipped.
func Binary(t *testing.T) string {
	t.Helper()
	kycdBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "kycd-bin-")
		if err != nil {
			kycdBin.err = err
			return
		}
		kycdBin.dir, kycdBin.path = dir, filepath.Join(dir, "kycd")
		out, err := exec.Command("go", "build", "-tags", "kycdtest", "-o", kycdBin.path, "github.com/kycd/kycd/cmd/kycd").CombinedOutput()
		if err != nil {
			kycdBin.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if kycdBin.err != nil {
		t.Fatal(kycdBin.err)
	}
	return kycdBin.path
}

var kycdBin struct {
	once      sync.Once
	dir, path string
	err       error
}

// ChildEnv is the environment of a kycd process of the test's database,
// keeping at most maxConns PostgreSQL connections (the kycds start keeps 4,
// Proc.Env: a fresh server's 100 are shared by every test running at
// once), and running Go on as many CPUs as the test binary (Main).
func ChildEnv(db storetest.Database, maxConns int) []string {
	return append(os.Environ(), "KYCD_DATA_DIR="+db.DataDir, "KYCD_DATABASE_URL="+db.URL, "KYCD_LOG_LEVEL=warn",
		"KYCD_DB_MAX_CONNS="+strconv.Itoa(maxConns), "GOMAXPROCS="+strconv.Itoa(runtime.GOMAXPROCS(0)))
}

// Child is a kycd serve in its own process.
type Child struct {
	Cmd        *exec.Cmd
	Base, Logs string
}

// StartChild starts kycd serve as a child process (Binary) on db and waits
// until it listens; the child is killed when the test ends, if not before.
func StartChild(t *testing.T, db storetest.Database, args ...string) *Child {
	t.Helper()
	cmd := exec.Command(Binary(t), append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = ChildEnv(db, 4)
	DieWithTest(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs, err := os.Create(filepath.Join(t.TempDir(), "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // a child the test did not kill itself
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case base := <-found:
		return &Child{Cmd: cmd, Base: base, Logs: logs.Name()}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		raw, _ := os.ReadFile(logs.Name())
		t.Fatalf("the child kycd did not listen\n%s", raw)
	}
	return nil
}

// Kill kills the child with SIGKILL and waits for it.
func (c *Child) Kill() {
	_ = c.Cmd.Process.Signal(syscall.SIGKILL)
	_, _ = c.Cmd.Process.Wait()
}
