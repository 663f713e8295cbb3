package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kycd/kycd"
)

// upholdSchemas validates KYC process objects against the schemas of
// Uphold's published OpenAPI document (the wire contract), read from the
// shared reference folder next to the checkout (or KYCD_UPHOLD_OPENAPI).
// kycd does not ship Uphold's document; the tests only read it.
type upholdSchemas struct {
	byCode map[string]*jsonschema.Schema
	err    error
}

var (
	upholdOnce sync.Once
	uphold     upholdSchemas
)

// UpholdDocPath is where Uphold's published Core API document is:
// KYCD_UPHOLD_OPENAPI, or ../shared/reference/uphold beside the module.
func UpholdDocPath() string {
	if p := os.Getenv("KYCD_UPHOLD_OPENAPI"); p != "" {
		return p
	}
	// Beside the module's folder: walk up from the test's folder to go.mod.
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return filepath.Join(dir, "..", "shared", "reference", "uphold", "core-kyc.openapi.json")
}

func loadUphold() {
	raw, err := os.ReadFile(UpholdDocPath())
	if err != nil {
		uphold.err = err
		return
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		uphold.err = err
		return
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	const url = "urn:uphold:core-kyc.openapi.json"
	if err := c.AddResource(url, doc); err != nil {
		uphold.err = err
		return
	}
	uphold.byCode = map[string]*jsonschema.Schema{}
	for _, code := range kycd.ProcessCodes {
		sch, err := c.Compile(url + "#/components/schemas/kyc-" + code)
		if err != nil {
			uphold.err = err
			return
		}
		uphold.byCode[code] = sch
	}
	if uphold.byCode["overview"], err = c.Compile(url + "#/components/schemas/kyc-overview"); err != nil {
		uphold.err = err
	}
}

// checkUphold validates every process object of a Core KYC response, and
// an overview as a whole, against Uphold's schemas.
func checkUphold(t *testing.T, path string, body []byte) {
	t.Helper()
	if !strings.HasPrefix(path, "/core/kyc") {
		return
	}
	upholdOnce.Do(loadUphold)
	if uphold.err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Uphold's OpenAPI document is needed to check the wire contract: %v", uphold.err)
		}
		t.Logf("not checking against Uphold's schemas: %v", uphold.err)
		return
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	m, _ := v.(map[string]any)
	if path == "/core/kyc" {
		if err := uphold.byCode["overview"].Validate(v); err != nil {
			t.Errorf("the overview does not match Uphold's kyc-overview: %v\n%s", err, body)
		}
		procs, _ := m["processes"].(map[string]any)
		for _, code := range kycd.ProcessCodes {
			checkProcess(t, code, procs[kycd.ProcessKey(code)])
		}
		return
	}
	for _, code := range kycd.ProcessCodes {
		if p, ok := m[kycd.ProcessKey(code)]; ok {
			checkProcess(t, code, p)
		}
	}
}

func checkProcess(t *testing.T, code string, p any) {
	t.Helper()
	if err := uphold.byCode[code].Validate(p); err != nil {
		raw, _ := json.Marshal(p)
		t.Errorf("process %s does not match Uphold's kyc-%s: %v\n%s", code, code, err, raw)
	}
}
