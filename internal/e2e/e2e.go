package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"hash/crc32"
	"mime/multipart"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/auth"
	"github.com/kycd/kycd/internal/cli"
	"github.com/kycd/kycd/sqlstore"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// ForEachDB runs fn on every database of the suite, in parallel.
func ForEachDB(t *testing.T, fn func(t *testing.T, db storetest.Database)) {
	for _, db := range Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, db)
		})
	}
}

// ForEachDBAtOnce runs fn on every database at the same time, within t's
// own turn among the parallel tests: for the crash tests, which mostly wait
// on their kycd child processes (kills, restarts, rescues). ForEachDB's
// parallel subtests would queue for a turn again behind every other test,
// so that these started last and their waits ended the package's run with
// a core idle; started with their parent, their waits overlap other tests'
// work.
func ForEachDBAtOnce(t *testing.T, fn func(t *testing.T, db storetest.Database)) {
	var wg sync.WaitGroup
	for _, db := range Databases(t) {
		wg.Go(func() { t.Run(db.Name, func(t *testing.T) { fn(t, db) }) })
	}
	wg.Wait()
}

// Databases returns the suite's databases (storetest.Databases), the
// SQLite one already migrated: its file is a copy of one migrated once for
// the whole test binary, instead of every kycd applying each migration to
// an empty file again (under -race a good part of a short test's CPU). The
// migrations from an empty file still run: here once, and in sqlstore's
// tests.
func Databases(t *testing.T) []storetest.Database {
	t.Helper()
	dbs := storetest.Databases(t)
	for _, db := range dbs {
		if db.URL != "" {
			continue
		}
		migratedSQLite.once.Do(migrateSQLiteTemplate)
		if migratedSQLite.err != nil {
			t.Fatal(migratedSQLite.err)
		}
		for _, name := range migratedSQLite.files {
			raw, err := os.ReadFile(filepath.Join(migratedSQLite.dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(db.DataDir, name), raw, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dbs
}

// migratedSQLite is the SQLite database Databases copies: its folder
// and the files to copy (the database, and its WAL if one is left).
var migratedSQLite struct {
	once  sync.Once
	dir   string
	files []string
	err   error
}

func migrateSQLiteTemplate() {
	m := &migratedSQLite
	if m.dir, m.err = os.MkdirTemp("", "kycd-migrated-"); m.err != nil {
		return
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: m.dir, Clock: &kycd.OffsetClock{}})
	if err == nil {
		err = db.Close()
	}
	if err != nil {
		m.err = fmt.Errorf("the migrated SQLite template: %w", err)
		return
	}
	for _, name := range []string{"kycd.db", "kycd.db-wal"} {
		if _, err := os.Stat(filepath.Join(m.dir, name)); err == nil {
			m.files = append(m.files, name)
		}
	}
}

// NewUserBody is a complete POST /core/users body with the email.
func NewUserBody(email string) map[string]any {
	return map[string]any{
		"email": email, "termsOfService": "general-gb-fca", "primaryCitizenship": "GB",
		"fullName": "John Doe", "birthdate": "1987-01-01",
		"address": map[string]any{"country": "GB", "subdivision": "GB-MAN", "city": "Manchester", "line1": "1 High Street", "postalCode": "M4 1AA"},
	}
}

// CreateUser creates a user and returns its id.
func CreateUser(t *testing.T, k *Proc, token, email string) string {
	t.Helper()
	res := k.Call(t, "POST", "/core/users", token, "", NewUserBody(email))
	if res.Status != 201 {
		t.Fatalf("create user: %d %s", res.Status, res.Body)
	}
	return res.Get("user.id").(string)
}

// PNGBytes returns a valid 1x1 PNG carrying text in a tEXt chunk.
func PNGBytes(text string) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	chunk("IHDR", []byte{0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0})
	chunk("tEXt", []byte("Comment\x00"+text))
	chunk("IDAT", []byte{0x78, 0x9c, 0x62, 0x60, 0xf8, 0xcf, 0xc0, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x03, 0x00, 0x03, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

// CreateFile reserves a file for a user and returns its id and upload URL.
func CreateFile(t *testing.T, k *Proc, token, userID, category, contentType string) (string, string) {
	t.Helper()
	res := k.Call(t, "POST", "/core/files", token, userID, map[string]any{"category": category, "contentType": contentType})
	if res.Status != 201 {
		t.Fatalf("create file: %d %s", res.Status, res.Body)
	}
	return res.Get("file.id").(string), res.Get("file.upload.url").(string)
}

// Upload sends content to a signed upload URL as a multipart form.
func Upload(t *testing.T, k *Proc, uploadURL string, content []byte) *Response {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("key", "ignored-form-field")
	fw, _ := mw.CreateFormFile("file", "evidence.bin")
	fw.Write(content)
	mw.Close()
	u, _ := url.Parse(uploadURL)
	req := k.Req("POST", u.RequestURI(), &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return k.Do(t, req)
}

// MustJSON is v encoded as JSON; it panics when v cannot be.
func MustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Main runs a package's end-to-end tests (its TestMain calls it). It gives
// the S3 tests credentials for the in-process fake bucket (the AWS SDK reads
// them from the environment) and keeps the SDK from looking for an instance
// metadata service.
//
// Unless GOMAXPROCS is set, the binary and the kycd processes it starts run
// Go on one CPU: go test runs as many test binaries at once as there are
// CPUs, so the end-to-end binaries share the machine's cores instead of each
// running (and collecting garbage) on all of them. On two cores that made
// the README's test command take 313 s and 525 CPU-seconds instead of
// 372 s and 685 (GOMAXPROCS=1 for the whole command, same sitting). Unless
// -test.parallel is given, it runs twice as many tests at once as it has
// CPUs: each test starts its own kycd and spends most of its time waiting
// on it (jobs, pollers, shutdown); with only as many the suite took 407 s
// instead of 372-377 s on two cores. The in-process kycds hash secrets and
// passwords cheaply (cli.SecretCost).
func Main(m *testing.M) {
	os.Setenv("AWS_ACCESS_KEY_ID", "kycd-test")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "kycd-test-secret")
	os.Setenv("AWS_REGION", "us-east-1")
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1) // and the children's (ChildEnv)
	}
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
		os.RemoveAll(migratedSQLite.dir) // the SQLite template Databases copies
	}
	os.Exit(code)
}

// MustJSONString is MustJSON as a string.
func MustJSONString(v any) string { return string(MustJSON(v)) }

// CountRows runs a count on the test's database (conn from Database.Open), with
// ? placeholders on either dialect.
func CountRows(t *testing.T, db storetest.Database, conn *sql.DB, query string, args ...any) int {
	t.Helper()
	if db.URL != "" {
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	var n int
	if err := conn.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// CreateUserIn creates a user resident in a country and subdivision who accepted the
// given terms of service, and returns its id.
func CreateUserIn(t *testing.T, k *Proc, tok, email, country, subdivision, terms string) string {
	t.Helper()
	b := NewUserBody(email)
	b["address"] = map[string]any{"country": country, "subdivision": subdivision}
	b["termsOfService"] = terms
	res := k.Call(t, "POST", "/core/users", tok, "", b)
	if res.Status != 201 {
		t.Fatalf("create %s user: %d %s", country, res.Status, res.Body)
	}
	return res.Get("user.id").(string)
}
