package cases

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd/auth"
	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestScreeningCases: a user with a listed person's name, birth date and
// citizenship is screened at creation; the possible match opens a case and
// keeps the screening running (a restriction); a reviewer's true match makes
// it failed and the user blocked, with the case's events and audit entry.
// Another listed name decided a false positive makes the screening ok; a
// namesake born decades apart is not raised. Cases are the tenant's own.
func TestScreeningCases(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		k.ImportUN(t)
		tn := k.NewTenant(t, "cases-"+db.Name, append(slices.Clone(auth.PartnerScopes), "admin.cases:read", "admin.cases:review", "admin.audit:read")...)
		tok := k.Token(t, tn, "")

		// UN CDi.010 (born 1963-07-24, Rwanda) and CDi.017 (1961-04-06, Rwanda).
		listed := e2e.CreateUserOf(t, k, tok, e2e.ScreeningUser("listed@cases.example", "Callixte Mbarushimana", "1963-07-24", "RW"))
		cleared := e2e.CreateUserOf(t, k, tok, e2e.ScreeningUser("cleared@cases.example", "Straton Musoni", "1961-04-06", "RW"))
		// UN CDi.022 is born 1967: a namesake born in 1995 is another person.
		namesake := e2e.CreateUserOf(t, k, tok, e2e.ScreeningUser("namesake@cases.example", "Laurent Nkunda", "1995-03-14", "GB"))
		plain := e2e.CreateUserOf(t, k, tok, e2e.ScreeningUser("plain@cases.example", "Harriet Oyelaran-Whitcombe", "1990-02-11", "GB"))

		res := e2e.WaitScreening(t, k, tok, listed, "running")
		caps := k.Call(t, "GET", "/core/capabilities", tok, listed, nil)
		if !strings.Contains(string(caps.Body), "user-screening-running") {
			t.Errorf("capabilities of a user in screening: %s", caps.Body)
		}
		e2e.WaitScreening(t, k, tok, cleared, "running")
		for _, u := range []string{namesake, plain} {
			res := e2e.WaitScreening(t, k, tok, u, "ok")
			if res.Get("processes.screening.output.result") != "approved" || res.Get("processes.screening.output.lists.un") != 1.0 {
				t.Errorf("a clear screening's output: %v", res.Get("processes.screening"))
			}
		}

		// The open case of the listed user: what was screened, the candidate
		// and why it matched.
		list := k.Call(t, "GET", "/admin/cases?status=open&type=screening&userId="+listed, tok, "", nil)
		if list.Status != 200 || len(list.JSON["cases"].([]any)) != 1 || list.Get("cases.0.candidateCount") == 0.0 {
			t.Fatalf("open cases of the listed user: %d %s", list.Status, list.Body)
		}
		caseID := list.Get("cases.0.id").(string)
		c := k.Call(t, "GET", "/admin/cases/"+caseID, tok, "", nil)
		if c.Status != 200 || c.Get("case.subject.name") != "Callixte Mbarushimana" || c.Get("case.candidates.0.match.entryId") != "CDi.010" ||
			c.Get("case.candidates.0.match.explanation.text") == "" || c.Header.Get("Cache-Control") != "no-store" ||
			c.Get("case.history.0.action") != "opened" || c.Get("case.lists.un") != 1.0 {
			t.Fatalf("case: %d %s", c.Status, c.Body)
		}

		// Decisions are validated; then a true match.
		for _, body := range []string{`{"outcome":"maybe","reason":"x","reviewer":"a"}`, `{"outcome":"true-match","reviewer":"a"}`} {
			req := k.Req("POST", "/admin/cases/"+caseID+"/decision", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			if res := k.Do(t, req, e2e.DoOpts{InvalidRequest: true}); res.Status != 400 {
				t.Errorf("decision %s: %d %s", body, res.Status, res.Body)
			}
		}
		decided := k.Call(t, "POST", "/admin/cases/"+caseID+"/decision", tok, "", map[string]any{
			"outcome": "true-match", "reason": "Same name, date of birth and nationality as the UN listing.", "reviewer": "a.analyst"})
		if decided.Status != 200 || decided.Get("case.status") != "closed" || decided.Get("case.outcome") != "true-match" ||
			decided.Get("case.history.1.reviewer") != "a.analyst" {
			t.Fatalf("true match: %d %s", decided.Status, decided.Body)
		}
		res = e2e.WaitScreening(t, k, tok, listed, "failed")
		if res.Get("summary.status") != "blocked" || res.Get("processes.screening.output.result") != "rejected" {
			t.Errorf("a confirmed match: %v %v", res.Get("summary"), res.Get("processes.screening"))
		}
		again := k.Call(t, "POST", "/admin/cases/"+caseID+"/decision", tok, "", map[string]any{"outcome": "false-positive", "reason": "x", "reviewer": "b"})
		if again.Status != 409 {
			t.Errorf("deciding a closed case: %d %s", again.Status, again.Body)
		}

		// The other case: a false positive.
		list = k.Call(t, "GET", "/admin/cases?status=open&userId="+cleared, tok, "", nil)
		otherID := list.Get("cases.0.id").(string)
		if res := k.Call(t, "POST", "/admin/cases/"+otherID+"/decision", tok, "", map[string]any{
			"outcome": "false-positive", "reason": "The passport's date of birth differs.", "reviewer": "b.analyst"}); res.Status != 200 {
			t.Fatalf("false positive: %d %s", res.Status, res.Body)
		}
		e2e.WaitScreening(t, k, tok, cleared, "ok")
		if res := k.Call(t, "GET", "/admin/cases?status=open", tok, "", nil); len(res.JSON["cases"].([]any)) != 0 {
			t.Errorf("open cases left: %s", res.Body)
		}
		if res := k.Call(t, "GET", "/admin/cases?status=closed", tok, "", nil); len(res.JSON["cases"].([]any)) != 2 {
			t.Errorf("closed cases: %s", res.Body)
		}

		// The events and the audit trail.
		for _, want := range []string{"kycd.case.opened", "kycd.case.closed", "core.kyc.screening.status-changed"} {
			e2e.WaitUntil(t, want+" in the feed", func() bool {
				feed := k.Call(t, "GET", "/core/events?limit=100", tok, "", nil)
				return strings.Contains(string(feed.Body), `"`+want+`"`)
			})
		}
		audit := k.Call(t, "GET", "/admin/audit?limit=1000", tok, "", nil)
		for _, want := range []string{`"action":"screening.screened"`, `"action":"case.decided"`, `"reviewer":"a.analyst"`, `"outcome":"true-match"`} {
			if !strings.Contains(string(audit.Body), want) {
				t.Errorf("audit trail lacks %s", want)
			}
		}
		if strings.Contains(string(audit.Body), "Mbarushimana") {
			t.Error("the audit trail holds a screened name")
		}

		// Another tenant sees none of it.
		other := k.NewTenant(t, "cases-other-"+db.Name, "admin.cases:read", "admin.cases:review")
		otok := k.Token(t, other, "")
		if res := k.Call(t, "GET", "/admin/cases/"+caseID, otok, "", nil); res.Status != 404 {
			t.Errorf("another tenant's case: %d", res.Status)
		}
		if res := k.Call(t, "GET", "/admin/cases?userId="+url.QueryEscape(listed), otok, "", nil); len(res.JSON["cases"].([]any)) != 0 {
			t.Errorf("another tenant lists the case: %s", res.Body)
		}
		if res := k.Call(t, "POST", "/admin/cases/"+otherID+"/decision", otok, "", map[string]any{"outcome": "true-match", "reason": "x", "reviewer": "y"}); res.Status != 404 {
			t.Errorf("another tenant decides the case: %d", res.Status)
		}
		if res := k.Call(t, "GET", fmt.Sprintf("/admin/cases/%s", "not-a-uuid"), tok, "", nil); res.Status != 400 {
			t.Errorf("a malformed case id: %d", res.Status)
		}
	})
}

// TestScreeningMonitoring: an import that adds a listing resembling an
// existing user opens a case for that user (ongoing monitoring); a user
// cleared as a false positive is not raised again by the next import; a
// delisting closes the open case (entry-removed) and the screening is ok
// again.
func TestScreeningMonitoring(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		importList := e2e.JSONLImporter(t, k, "watch")
		const (
			other   = `{"id":"W1","type":"person","names":[{"full":"Oswin Pettigrew-Laycock","kind":"primary"}],"birthDates":[{"year":1950}]}`
			zebulon = `{"id":"W2","type":"person","names":[{"full":"QUARTERMAINE, Zebulon","kind":"primary"}],"birthDates":[{"year":1961,"month":5,"day":2}],"nationalities":["NZ"]}`
			ada     = `{"id":"W3","type":"person","names":[{"full":"Ada Featherstonehaugh","kind":"primary"}],"birthDates":[{"year":1988}]}`
		)
		importList(other)
		tn := k.NewTenant(t, "monitoring-"+db.Name, append(slices.Clone(auth.PartnerScopes), "admin.cases:read", "admin.cases:review")...)
		tok := k.Token(t, tn, "")
		z := e2e.CreateUserOf(t, k, tok, e2e.ScreeningUser("zebulon@monitoring.example", "Zebulon Quartermaine", "1961-05-02", "NZ"))
		a := e2e.CreateUserOf(t, k, tok, e2e.ScreeningUser("ada@monitoring.example", "Ada Featherstonehaugh", "1988-09-30", "GB"))
		e2e.WaitScreening(t, k, tok, z, "ok")
		e2e.WaitScreening(t, k, tok, a, "ok")

		// Version 2 lists both: each gets a case.
		importList(other, zebulon, ada)
		e2e.WaitScreening(t, k, tok, z, "running")
		e2e.WaitScreening(t, k, tok, a, "running")
		adaCase := k.Call(t, "GET", "/admin/cases?status=open&userId="+a, tok, "", nil).Get("cases.0.id").(string)
		if res := k.Call(t, "POST", "/admin/cases/"+adaCase+"/decision", tok, "", map[string]any{
			"outcome": "false-positive", "reason": "Another person: different parents and birthplace.", "reviewer": "c.analyst"}); res.Status != 200 {
			t.Fatalf("false positive: %d %s", res.Status, res.Body)
		}
		e2e.WaitScreening(t, k, tok, a, "ok")

		// Version 3 changes W1 and removes W2: Ada is not raised again, and
		// Zebulon's case closes as its listing is gone.
		importList(strings.Replace(other, "1950", "1951", 1), ada)
		res := e2e.WaitScreening(t, k, tok, z, "ok")
		if res.Get("processes.screening.output.lists.watch") != 3.0 {
			t.Errorf("screening after the delisting: %v", res.Get("processes.screening"))
		}
		closed := k.Call(t, "GET", "/admin/cases?status=closed&userId="+z, tok, "", nil)
		if len(closed.JSON["cases"].([]any)) != 1 || closed.Get("cases.0.outcome") != "entry-removed" {
			t.Fatalf("Zebulon's case after the delisting: %s", closed.Body)
		}
		// The batches of version 3 ran (W1 changed): Ada was screened against
		// it and not raised again.
		raw := db.Open(t)
		e2e.WaitUntil(t, "the re-screening of version 3", func() bool {
			// The three versions' delta jobs ran (each starts its batches
			// before it completes), and no batch is left to run.
			var deltas, left int
			if err := raw.QueryRow(`SELECT count(*) FILTER (WHERE state = 'completed' AND kind = 'screening_delta'), count(*) FILTER (WHERE state <> 'completed')
				FROM river_job WHERE kind IN ('screening_batch', 'screening_delta')`).Scan(&deltas, &left); err != nil {
				t.Fatal(err)
			}
			return deltas == 3 && left == 0
		})
		if s, _ := e2e.ScreeningOf(t, k, tok, a); s != "ok" {
			t.Errorf("a cleared user after the next import: %s", s)
		}
		if res := k.Call(t, "GET", "/admin/cases?userId="+a, tok, "", nil); len(res.JSON["cases"].([]any)) != 1 {
			t.Errorf("a cleared user was raised again: %s", res.Body)
		}

		// A change of what is screened: the screening is pending (the user
		// unscreened) until it ran again, then ok.
		pendings := func() int {
			n := 0
			feed := k.Call(t, "GET", "/core/events?limit=1000", tok, "", nil)
			for _, e := range feed.JSON["events"].([]any) {
				ev := e.(map[string]any)
				d, _ := ev["data"].(map[string]any)
				if ev["type"] == "core.kyc.screening.status-changed" && d["userId"] == a && d["status"] == "pending" {
					n++
				}
			}
			return n
		}
		e2e.WaitUntil(t, "the events so far in the feed", func() bool { return pendings() > 0 }) // the false positive's
		before := pendings()
		if res := k.Call(t, "PATCH", "/core/kyc/processes/profile", tok, a, map[string]any{
			"input": map[string]any{"fullName": "Ada Featherstonehaugh-Lovelace"}}); res.Status != 200 {
			t.Fatalf("name change: %d %s", res.Status, res.Body)
		}
		e2e.WaitUntil(t, "the screening back to pending in the feed", func() bool { return pendings() == before+1 })
		e2e.WaitScreening(t, k, tok, a, "ok")
	})
}

// TestScreeningFourEyes: under the tenant's four-eyes setting a decision is
// proposed and waits for a second reviewer: the same reviewer is refused, a
// different outcome sends the case back, the same outcome closes it.
func TestScreeningFourEyes(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		un := e2e.WriteSnapshotFile(t, "un", "consolidated.xml")
		if out, err := k.CLI(t, "screening", "import", "--source", "un", "--path", un); err != nil {
			t.Fatalf("import: %q %v", out, err)
		}
		tn := k.NewTenant(t, "four-eyes-"+db.Name, append(slices.Clone(auth.PartnerScopes), "admin.cases:read", "admin.cases:review")...)
		if out, err := k.CLI(t, "tenant", "settings", "--tenant", tn.ID, "--four-eyes", "on"); err != nil || !strings.Contains(out, "four eyes on") {
			t.Fatalf("tenant settings: %q %v", out, err)
		}
		tok := k.Token(t, tn, "")
		u := e2e.CreateUserOf(t, k, tok, e2e.ScreeningUser("four@eyes.example", "Callixte Mbarushimana", "1963-07-24", "RW"))
		e2e.WaitScreening(t, k, tok, u, "running")
		id := k.Call(t, "GET", "/admin/cases?status=open&userId="+u, tok, "", nil).Get("cases.0.id").(string)
		decide := func(outcome, reviewer string) *e2e.Response {
			t.Helper()
			return k.Call(t, "POST", "/admin/cases/"+id+"/decision", tok, "", map[string]any{"outcome": outcome, "reason": "Checked.", "reviewer": reviewer})
		}
		if res := decide("true-match", "a.analyst"); res.Status != 200 || res.Get("case.status") != "open" || res.Get("case.pending.reviewer") != "a.analyst" {
			t.Fatalf("a proposed decision: %d %s", res.Status, res.Body)
		}
		if res := decide("true-match", "A.Analyst "); res.Status != 409 || !strings.Contains(string(res.Body), "four-eyes-same-reviewer") {
			t.Fatalf("the same reviewer twice: %d %s", res.Status, res.Body)
		}
		if res := decide("false-positive", "b.supervisor"); res.Status != 200 || res.Get("case.status") != "open" || res.Get("case.pending") != nil {
			t.Fatalf("a disputed decision: %d %s", res.Status, res.Body)
		}
		if s, _ := e2e.ScreeningOf(t, k, tok, u); s != "running" {
			t.Fatalf("screening while the case is undecided: %s", s)
		}
		decide("true-match", "a.analyst")
		if res := decide("true-match", "b.supervisor"); res.Status != 200 || res.Get("case.status") != "closed" || res.Get("case.outcome") != "true-match" {
			t.Fatalf("a confirmed decision: %d %s", res.Status, res.Body)
		}
		e2e.WaitScreening(t, k, tok, u, "failed")
	})
}

// TestScreeningCaseCandidates: an open case asks about a listing once, even
// when the listing is delisted and listed again; when the user's screened
// data changes and a new listing is matched, the case shows the data now,
// and the earlier candidates keep the data they were matched with.
func TestScreeningCaseCandidates(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		importList := e2e.JSONLImporter(t, k, "relist")
		const (
			l1 = `{"id":"R1","type":"person","names":[{"full":"Tamsin Ravensworth-Okonjo","kind":"primary"}],"birthDates":[{"year":1970,"month":3,"day":4}]}`
			l2 = `{"id":"R2","type":"person","names":[{"full":"RAVENSWORTH-OKONJO, Tamsin","kind":"primary"}],"birthDates":[{"year":1970}]}`
			l3 = `{"id":"R3","type":"person","names":[{"full":"Tamsin Blackwood-Achebe","kind":"primary"}],"birthDates":[{"year":1970,"month":3,"day":4}]}`
		)
		importList(l1, l2)
		tn := k.NewTenant(t, "candidates-"+db.Name, append(slices.Clone(auth.PartnerScopes), "admin.cases:read")...)
		tok := k.Token(t, tn, "")
		u := e2e.CreateUserOf(t, k, tok, e2e.ScreeningUser("tamsin@relist.example", "Tamsin Ravensworth-Okonjo", "1970-03-04", "GB"))
		e2e.WaitScreening(t, k, tok, u, "running")
		caseOf := func() *e2e.Response {
			t.Helper()
			id := k.Call(t, "GET", "/admin/cases?status=open&userId="+u, tok, "", nil).Get("cases.0.id").(string)
			return k.Call(t, "GET", "/admin/cases/"+id, tok, "", nil)
		}
		candidates := func(res *e2e.Response) map[string]map[string]any {
			t.Helper()
			out := map[string]map[string]any{}
			for _, c := range res.JSON["case"].(map[string]any)["candidates"].([]any) {
				c := c.(map[string]any)
				id := c["match"].(map[string]any)["entryId"].(string)
				if out[id] != nil {
					t.Fatalf("listing %s asked about twice: %s", id, res.Body)
				}
				out[id] = c
			}
			return out
		}
		if got := candidates(caseOf()); len(got) != 2 {
			t.Fatalf("the case's candidates: %v", got)
		}
		waitDeltas := func(n int) {
			t.Helper()
			raw := db.Open(t)
			e2e.WaitUntil(t, "the re-screenings", func() bool {
				return e2e.CountRows(t, db, raw, `SELECT count(*) FROM river_job WHERE kind IN ('screening_delta', 'screening_batch', 'screen_user') AND state <> 'completed'`) == 0 &&
					e2e.CountRows(t, db, raw, `SELECT count(*) FROM river_job WHERE kind = 'screening_delta'`) == n
			})
		}
		// R2 delisted: the case stays open (R1), R2 marked removed.
		importList(l1)
		waitDeltas(2)
		if got := candidates(caseOf()); got["R2"]["removed"] != true || got["R1"]["removed"] != nil {
			t.Fatalf("after R2's delisting: %v", got)
		}
		// R2 listed again: asked about once, no longer removed.
		importList(l1, l2)
		waitDeltas(3)
		if got := candidates(caseOf()); len(got) != 2 || got["R2"]["removed"] != nil {
			t.Fatalf("after R2 was listed again: %v", got)
		}
		// R3 does not resemble the user; then the user's name changes and R3
		// matches the new one: the case shows the new name; R1 and R2 keep
		// the name they were matched with.
		importList(l1, l2, l3)
		waitDeltas(4)
		if got := candidates(caseOf()); len(got) != 2 {
			t.Fatalf("R3 matched the name before the change: %v", got)
		}
		if res := k.Call(t, "PATCH", "/core/kyc/processes/profile", tok, u, map[string]any{
			"input": map[string]any{"fullName": "Tamsin Blackwood-Achebe"}}); res.Status != 200 {
			t.Fatalf("name change: %d %s", res.Status, res.Body)
		}
		e2e.WaitUntil(t, "R3 in the case", func() bool { return candidates(caseOf())["R3"] != nil })
		res := caseOf()
		got := candidates(res)
		if res.Get("case.subject.name") != "Tamsin Blackwood-Achebe" || got["R3"]["subject"] != nil {
			t.Fatalf("the case after the name change: %s", res.Body)
		}
		for _, id := range []string{"R1", "R2"} {
			if s, _ := got[id]["subject"].(map[string]any); s["name"] != "Tamsin Ravensworth-Okonjo" {
				t.Errorf("candidate %s after the name change: %v", id, got[id])
			}
		}
	})
}

// TestScreeningDocumentNationality: a verified passport proves a nationality
// the profile does not declare, and screening uses it: at the screening the
// identity starts, and in the re-screening of a later list version. The
// listed name matches closely but not exactly: against the declared British
// citizenship alone (contradicting the listed Lebanese nationality) it stays
// below the review threshold; with the passport's it opens a case. A driving
// licence proves no nationality.
func TestScreeningDocumentNationality(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		importList := e2e.JSONLImporter(t, k, "nat")
		const (
			first  = `{"id":"N1","type":"person","names":[{"full":"Dariush Khorramabadi-Nejad","kind":"primary"}],"nationalities":["LB"]}`
			second = `{"id":"N2","type":"person","names":[{"full":"Shahrokh Vahidpour-Tabrizi","kind":"primary"}],"nationalities":["LB"]}`
		)
		importList(first)
		tn := k.NewTenant(t, "nationality-"+db.Name, append(slices.Clone(auth.PartnerScopes), "admin.cases:read")...)
		e := &e2e.KYCEnv{Proc: k, T: t, DB: db, Tenant: tn, Tok: k.Token(t, tn, ""), Sent: map[string]int{}}
		expires := time.Now().AddDate(3, 0, 0).Format(time.DateOnly)
		verify := func(u, docType, number, given, family string) {
			t.Helper()
			body := e2e.IdentityDoc([]string{e.Uploaded(u, "image")}, number, expires, given, family, "1980-02-02")
			doc := body["output"].(map[string]any)["document"].(map[string]any)
			doc["type"], doc["country"] = docType, "LB"
			if res := e.Patch(u, "identity", body); res.Status != 200 || res.Get("identity.status") != "ok" {
				t.Fatalf("identity by %s: %d %s", docType, res.Status, res.Body)
			}
		}
		raw := db.Open(t)
		screened := func(u string) func() bool { // no screening left to run, and u clear
			return func() bool {
				s, _ := e2e.ScreeningOf(t, k, e.Tok, u)
				return s == "ok" && e2e.CountRows(t, db, raw, `SELECT count(*) FROM river_job WHERE kind = 'screen_user' AND state <> 'completed'`) == 0
			}
		}
		caseNationalities := func(u string) []any {
			t.Helper()
			list := k.Call(t, "GET", "/admin/cases?status=open&userId="+u, e.Tok, "", nil)
			if list.Status != 200 || len(list.JSON["cases"].([]any)) != 1 {
				t.Fatalf("open cases of %s: %d %s", u, list.Status, list.Body)
			}
			c := k.Call(t, "GET", "/admin/cases/"+list.Get("cases.0.id").(string), e.Tok, "", nil)
			nats, _ := c.Get("case.subject.nationalities").([]any)
			return nats
		}

		// At the identity's screening: the passport's nationality raises
		// the listing; the driving licence's country does not.
		passport := e2e.CreateUserOf(t, k, e.Tok, e2e.ScreeningUser("passport@nat.example", "Dariusz Khoramabady-Nejad", "1980-02-02", "GB"))
		licence := e2e.CreateUserOf(t, k, e.Tok, e2e.ScreeningUser("licence@nat.example", "Dariusz Khoramabady-Nejad", "1980-02-02", "GB"))
		e2e.WaitScreening(t, k, e.Tok, passport, "ok")
		e2e.WaitScreening(t, k, e.Tok, licence, "ok")
		verify(passport, "passport", "P1000001", "Dariusz", "Khoramabady-Nejad")
		verify(licence, "driving-license", "D1000001", "Dariusz", "Khoramabady-Nejad")
		e2e.WaitScreening(t, k, e.Tok, passport, "running")
		if nats := caseNationalities(passport); !slices.Contains(nats, any("LB")) || !slices.Contains(nats, any("GB")) {
			t.Errorf("the screened nationalities: %v", nats)
		}
		// The licence holder was screened again (the identity changed) and
		// stays clear.
		e2e.WaitUntil(t, "the licence holder's screening after the identity", screened(licence))

		// In the re-screening of a later version: a user verified by
		// passport before the listing existed is raised by the delta.
		later := e2e.CreateUserOf(t, k, e.Tok, e2e.ScreeningUser("later@nat.example", "Shahrokh Wahidpour-Tabrizi", "1980-02-02", "GB"))
		e2e.WaitScreening(t, k, e.Tok, later, "ok")
		verify(later, "passport", "P1000002", "Shahrokh", "Wahidpour-Tabrizi")
		e2e.WaitUntil(t, "the screening after the identity", screened(later))
		importList(first, second)
		e2e.WaitScreening(t, k, e.Tok, later, "running")
		if nats := caseNationalities(later); !slices.Contains(nats, any("LB")) {
			t.Errorf("the re-screened nationalities: %v", nats)
		}
		if s, _ := e2e.ScreeningOf(t, k, e.Tok, licence); s != "ok" {
			t.Errorf("the licence holder after the next version: %s", s)
		}
	})
}
