package providers

import (
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestSandboxClockBounded: POST /sandbox/clock moves the clock at most ten
// years (87600h) ahead; a move past that is refused whole as request_invalid
// in problem+json (rule "maximum", with what is left), and the clock stays
// where it was. 2562047h twice, which wrapped the offset backwards, is
// refused at the first.
func TestSandboxClockBounded(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db, "--sandbox", "--sandbox-lists", "")
		tn := k.NewTenant(t, "clock")
		offset := func() time.Duration {
			t.Helper()
			res := k.Call(t, "GET", "/sandbox/clock", k.Token(t, tn, ""), "", nil)
			d, err := time.ParseDuration(res.JSON["offset"].(string))
			if res.Status != 200 || err != nil {
				t.Fatalf("read the clock: %d %s", res.Status, res.Body)
			}
			return d
		}
		advance := func(by string) *e2e.Response {
			t.Helper()
			return k.Call(t, "POST", "/sandbox/clock", k.Token(t, tn, ""), "", map[string]any{"advance": by})
		}
		refused := func(by, left string) {
			t.Helper()
			before := offset()
			res := advance(by)
			v, _ := res.Get("violations.0").(map[string]any)
			if res.Status != 400 || res.Code() != "request_invalid" || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") ||
				v["property"] != "advance" || v["rule"] != "maximum" || res.Get("violations.0.ruleParams.limit") != left ||
				!strings.Contains(res.JSON["detail"].(string), "87600h") {
				t.Errorf("advance %s: %d %s", by, res.Status, res.Body)
			}
			if after := offset(); after != before {
				t.Errorf("advance %s was refused but moved the clock from %s to %s", by, before, after)
			}
		}
		refused("2562047h", "87600h0m0s")
		refused("87600h1ns", "87600h0m0s")
		if res := advance("87599h"); res.Status != 200 || res.JSON["offset"] != "87599h0m0s" {
			t.Fatalf("advance 87599h: %d %s", res.Status, res.Body)
		}
		refused("2h", "1h0m0s")
		if res := advance("1h"); res.Status != 200 || res.JSON["offset"] != "87600h0m0s" {
			t.Fatalf("advance to the bound: %d %s", res.Status, res.Body)
		}
		refused("1ns", "0s")
		refused("2562047h", "0s")
		if now, _ := time.Parse(time.RFC3339, k.Call(t, "GET", "/sandbox/clock", k.Token(t, tn, ""), "", nil).JSON["now"].(string)); time.Until(now) < 87599*time.Hour {
			t.Errorf("the clock reads %s", now)
		}
	})
}
