package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sandbox/sumsubsbx"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestConsoleUserFile: a user's whole file, made through the real APIs
// and the provider sandboxes (a Sumsub ingestion brings the identity
// documents in, a KYC check fetches its evidence from the sandbox): the
// analyst finds the user, reads the processes with their history, the
// documents and what each is, the checks, the ingestion, the timeline and
// the events; opens a document in the browser, which writes exactly one
// audit entry naming the person and the document; documents are served
// with no-store, nosniff and a safe type (the evidence zip as a download).
// The auditor reads the audit trail filtered by actor, entity and action,
// paged; the analyst cannot; another tenant's reviewer gets 404 for the
// user and the document. The screening lists' versions and a version's
// delta, paged by kind. Every page passes axe-core and is screenshotted.
func TestConsoleUserFile(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewConnectorEnv(t, db)
		k := e.Proc
		importList := e2e.JSONLImporter(t, k, "userfile")
		const (
			w1 = `{"id":"UF1","type":"person","names":[{"full":"Oswin Pettigrew-Laycock","kind":"primary"}],"birthDates":[{"year":1950}]}`
			w2 = `{"id":"UF2","type":"person","names":[{"full":"QUARTERMAINE, Zebulon","kind":"primary"}],"birthDates":[{"year":1961}]}`
			w3 = `{"id":"UF3","type":"person","names":[{"full":"Ada Featherstonehaugh","kind":"primary"}],"birthDates":[{"year":1988}]}`
		)
		importList(w1, w2)
		importList(w2, w3)

		// The user: a Sumsub ingestion (documents) and a KYC check whose
		// evidence kycd fetches.
		body := e2e.NewUserBody("file@userfile.example")
		delete(body, "fullName")
		delete(body, "birthdate")
		user := e.Call(t, "POST", "/core/users", e.Tok, "", body).Get("user.id").(string)
		ing := e.Ingest(user, "sumsub", map[string]any{"shareToken": sumsubsbx.ShareGreen})
		e2e.WantResults(t, "green applicant", ing, e2e.AllCompleted)
		files, _ := ing.Get("ingestion.result.identity.files").([]any)
		if len(files) == 0 {
			t.Fatalf("no identity files: %s", ing.Body)
		}
		imageID := files[0].(map[string]any)["id"].(string)
		check := e.Call(t, "POST", "/users/"+user+"/checks", e.Tok, "", e2e.SeedKYC(e.Base+"/sandbox/evidence/ident.zip"))
		if check.Status != 202 {
			t.Fatalf("create check: %d %s", check.Status, check.Body)
		}
		checkID := check.JSON["id"].(string)
		var evidenceID string
		e2e.WaitUntil(t, "the check's evidence", func() bool {
			res := e.Call(t, "GET", "/users/"+user+"/checks/"+checkID, e.Tok, "", nil)
			return res.JSON["status"] != "PENDING"
		})

		analyst := k.NewReviewer(t, e.Creds.TenantID, "analyst-"+db.Name+"@userfile.example", "analyst")
		auditor := k.NewReviewer(t, e.Creds.TenantID, "auditor-"+db.Name+"@userfile.example", "auditor")

		// The analyst finds the user by id and reads the whole file.
		tab := e2e.NewTab(t)
		e2e.SignIn(t, tab, k.Base, analyst.Email, analyst.Password, nil)
		e2e.Browse(t, tab, "find the user", chromedp.Navigate(k.Base+"/console/users"), chromedp.WaitVisible(chromedp.CSS("#q")),
			chromedp.SendKeys(chromedp.CSS("#q"), user), chromedp.Click(chromedp.CSS("main button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("table.files")))
		e2e.CheckPage(t, tab, "userfile", "Christian Smith", "file@userfile.example", "Documents and evidence", "ingested from a provider",
			"proof-of-address media", "KYC check evidence", "application/zip", "sumsub", "finished", "Process history", "kyc-connector.",
			"Audit timeline", "user.viewed", analyst.Email, "core.kyc.identity.status-changed", "Open file "+imageID[:8])
		if text := e2e.MainText(t, tab); strings.Contains(text, "the user's entries in the audit trail") || strings.Contains(text, "evidence, ingested") {
			t.Errorf("an analyst is offered the audit trail, or a check's evidence is called ingested:\n%s", text)
		}
		html := e2e.Value(t, tab, "the file's links", chromedp.Evaluate[string](`document.querySelector('table.files').outerHTML`))
		m := regexp.MustCompile(`/console/users/` + user + `/files/([0-9a-f-]{36})">Open file [0-9a-f]{8}</a></td>\s*<td>evidence</td>`).FindStringSubmatch(html)
		if m == nil {
			t.Fatalf("no evidence file in:\n%s", html)
		}
		evidenceID = m[1]

		// Opening a document: the image inline, one audit entry.
		e2e.Browse(t, tab, "open the image", chromedp.Click(chromedp.CSS(`a[href="/console/users/`+user+`/files/`+imageID+`"]`)), chromedp.WaitVisible(chromedp.CSS("img")))
		if w := e2e.Value(t, tab, "the image's width", chromedp.Evaluate[int](`document.querySelector('img').naturalWidth`)); w < 1 {
			t.Errorf("the document shows no image (width %d)", w)
		}

		// Headers, outside the browser (the analyst's own session).
		ac := e2e.NewConsoleClient(t, k.Base, analyst.Email, analyst.Password, "")
		for _, c := range []struct{ id, ctype, disposition string }{
			{imageID, "image/png", "inline"}, {evidenceID, "application/zip", "attachment"},
		} {
			res, content := ac.Get(t, "/console/users/"+user+"/files/"+c.id)
			h := res.Header
			if res.StatusCode != 200 || h.Get("Content-Type") != c.ctype || !strings.HasPrefix(h.Get("Content-Disposition"), c.disposition+";") ||
				h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
				t.Errorf("document %s: %d %v", c.id, res.StatusCode, h)
			}
			if c.ctype == "application/zip" && !strings.HasPrefix(content, "PK") || c.ctype == "image/png" && !strings.HasPrefix(content, "\x89PNG") {
				t.Errorf("document %s is not its content: %q", c.id, content[:min(len(content), 8)])
			}
		}
		// A HEAD: the same headers, no content, and a view recorded, as its
		// headers tell whether the content is what its record says (the
		// evidence's views are counted below).
		head, err := http.NewRequest(http.MethodHead, k.Base+"/console/users/"+user+"/files/"+evidenceID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res, content := ac.Do(t, head); res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/zip" || content != "" {
			t.Errorf("HEAD of the evidence: %d %v %q", res.StatusCode, res.Header, content)
		}
		for _, path := range []string{"/console/users/" + user + "/files/" + user, "/console/users/" + user + "/files/nope", "/console/audit", "/console/reviewers"} {
			want := 404
			if !strings.Contains(path, "/files/") {
				want = 403
			}
			if res, _ := ac.Get(t, path); res.StatusCode != want {
				t.Errorf("analyst %s: %d, want %d", path, res.StatusCode, want)
			}
		}

		// Another tenant's reviewer: 404 for the user and the document,
		// and no view recorded.
		other := k.NewTenant(t, "userfile-other-"+db.Name)
		stranger := k.NewReviewer(t, other.ID, "stranger-"+db.Name+"@userfile.example", "auditor")
		sc := e2e.NewConsoleClient(t, k.Base, stranger.Email, stranger.Password, "")
		for _, path := range []string{"/console/users/" + user, "/console/users/" + user + "/files/" + imageID, "/console/lists/userfile/9", "/console/lists/nosuch"} {
			if res, body := sc.Get(t, path); res.StatusCode != 404 || strings.Contains(body, "Christian") {
				t.Errorf("stranger %s: %d", path, res.StatusCode)
			}
		}

		// The auditor reads the trail: the analyst opened the image once
		// (the browser's opening; the client's second opening is another).
		atab := e2e.NewTab(t)
		e2e.SignIn(t, atab, k.Base, auditor.Email, auditor.Password, nil)
		e2e.Browse(t, atab, "the audit trail", chromedp.Click(chromedp.CSS(`nav a[href="/console/audit"]`)), chromedp.WaitVisible(chromedp.CSS("#actor")),
			chromedp.SendKeys(chromedp.CSS("#actor"), analyst.Email), chromedp.SendKeys(chromedp.CSS("#entity"), imageID),
			chromedp.SendKeys(chromedp.CSS("#action"), "file.viewed"), chromedp.Click(chromedp.CSS("form.filters-form button")),
			// The unfiltered page shows a table too: wait for the answer,
			// whose filter field holds the action as its attribute.
			chromedp.WaitVisible(chromedp.CSS(`#action[value="file.viewed"]`)), chromedp.WaitVisible(chromedp.CSS("table.audit")))
		e2e.CheckPage(t, atab, "audit-filtered", "file.viewed", analyst.Email, imageID, `"fileId":"`+imageID+`"`, `"userId":"`+user+`"`)
		auc := e2e.NewConsoleClient(t, k.Base, auditor.Email, auditor.Password, "")
		q := url.Values{"actor": {analyst.Email}, "entity": {imageID}, "action": {"file.viewed"}}
		if _, body := auc.Get(t, "/console/audit?"+q.Encode()); e2e.RowsOf(body) != 2 {
			t.Errorf("the image's views (one by the browser, one by the client): %d rows", e2e.RowsOf(body))
		}
		if _, body := auc.Get(t, "/console/audit?"+url.Values{"entity": {evidenceID}, "action": {"file.viewed"}}.Encode()); e2e.RowsOf(body) != 2 {
			t.Errorf("the evidence's views (the client's GET and HEAD): %d rows", e2e.RowsOf(body))
		}
		if _, body := auc.Get(t, "/console/audit?"+url.Values{"actor": {stranger.Email}}.Encode()); e2e.RowsOf(body) != 0 {
			t.Errorf("the stranger's entries in this tenant: %d rows", e2e.RowsOf(body))
		}
		if _, body := auc.Get(t, "/console/audit?"+url.Values{"from": {"2999-01-01T00:00"}}.Encode()); e2e.RowsOf(body) != 0 {
			t.Errorf("entries from the future: %d rows", e2e.RowsOf(body))
		}
		if res, _ := auc.Get(t, "/console/audit?from=yesterday"); res.StatusCode != 422 {
			t.Errorf("a bad time: %d", res.StatusCode)
		}
		// The whole trail, paged (more than a page of views): the second
		// page goes on where the first stopped.
		// Measured on the way: the file's weight and time beside the queue's.
		var fileTime, queueTime time.Duration
		var fileBytes, queueBytes int
		for range 30 {
			began := time.Now()
			res, body := auc.Get(t, "/console/users/"+user)
			fileTime += time.Since(began)
			if res.StatusCode != 200 {
				t.Fatalf("the auditor's view of the file: %d", res.StatusCode)
			}
			began = time.Now()
			_, queue := auc.Get(t, "/console/cases")
			queueTime += time.Since(began)
			fileBytes, queueBytes = len(body), len(queue)
		}
		if fileBytes > 100<<10 {
			t.Errorf("the user file weighs %d bytes", fileBytes)
		}
		t.Logf("measured: user file %d bytes (%.1fx the queue's %d), %v a view (%.1fx the queue's %v)", fileBytes, float64(fileBytes)/float64(queueBytes), queueBytes,
			fileTime/30, float64(fileTime)/float64(queueTime), queueTime/30)
		e2e.Browse(t, atab, "the whole trail", chromedp.Navigate(k.Base+"/console/audit"), chromedp.WaitVisible(chromedp.CSS("table.audit")))
		first := e2e.Value(t, atab, "the last entry", chromedp.Evaluate[string](`[...document.querySelectorAll('table.audit tbody tr')].pop().cells[0].textContent`))
		e2e.Browse(t, atab, "older entries", chromedp.Click(chromedp.CSS(`a[href*="before="]`)), chromedp.WaitVisible(chromedp.CSS("table.audit")))
		e2e.CheckPage(t, atab, "audit-older", "Entries, newest first")
		next := e2e.Value(t, atab, "the first older entry", chromedp.Evaluate[string](`document.querySelector('table.audit tbody tr').cells[0].textContent`))
		if a, b := atoi(t, first), atoi(t, next); b != a-1 {
			t.Errorf("the older page starts at %d after %d", b, a)
		}
		// The auditor reads the user's file too, with the link to the
		// user's entries.
		e2e.Browse(t, atab, "the auditor opens the file", chromedp.Navigate(k.Base+"/console/users/"+user), chromedp.WaitVisible(chromedp.CSS("table.files")),
			chromedp.Click(chromedp.CSS(`a[href="/console/audit?entity=`+user+`"]`)), chromedp.WaitVisible(chromedp.CSS("table.audit")))
		if text := e2e.MainText(t, atab); !strings.Contains(text, "user.viewed") || !strings.Contains(text, auditor.Email) {
			t.Errorf("the user's entries:\n%s", text)
		}

		// The lists: versions and a version's delta, by kind.
		e2e.Browse(t, tab, "the lists", chromedp.Navigate(k.Base+"/console/lists"), chromedp.WaitVisible(chromedp.CSS(`a[href="/console/lists/userfile"]`)))
		e2e.CheckPage(t, tab, "lists", "userfile", "Lists, the version in force of each")
		e2e.Browse(t, tab, "the list's versions", chromedp.Click(chromedp.CSS(`a[href="/console/lists/userfile"]`)), chromedp.WaitVisible(chromedp.CSS(`a[href="/console/lists/userfile/1"]`)))
		e2e.CheckPage(t, tab, "list", "Version 2", "Version 1")
		e2e.Browse(t, tab, "version 2", chromedp.Click(chromedp.CSS(`a[href="/console/lists/userfile/2"]`)), chromedp.WaitVisible(chromedp.CSS(`nav.filters`)))
		e2e.CheckPage(t, tab, "list-version", "1 added, 0 changed, 1 removed", "UF3", "Ada Featherstonehaugh", "UF1", "Oswin Pettigrew-Laycock")
		if text := e2e.MainText(t, tab); strings.Contains(text, "UF2") {
			t.Errorf("an unchanged listing in the delta:\n%s", text)
		}
		e2e.Browse(t, tab, "the removed listings", chromedp.Click(chromedp.CSS(`a[href$="?kind=removed"]`)), chromedp.WaitVisible(chromedp.CSS(`nav.filters`)))
		if text := e2e.MainText(t, tab); !strings.Contains(text, "UF1") || strings.Contains(text, "UF3") {
			t.Errorf("the removed listings:\n%s", text)
		}
	})
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if err := json.Unmarshal([]byte(strings.TrimSpace(s)), &n); err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// TestConsoleReviewerAdmin: an admin lists the tenant's reviewers (email,
// role, last sign-in, state) and disables one: their session ends at once
// and their sign-in is refused; enabled again, they sign in. Only admins
// reach the page (the role matrix: analyst, supervisor and auditor get
// 403; every role reads the lists; the audit trail is the auditor's,
// supervisor's and admin's). The change is audited with the admin as actor.
func TestConsoleReviewerAdmin(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		tn := k.NewTenant(t, "reviewer-admin-"+db.Name)
		admin := k.NewReviewer(t, tn.ID, "admin-"+db.Name+"@admin.example", "admin")
		analyst := k.NewReviewer(t, tn.ID, "analyst-"+db.Name+"@admin.example", "analyst")
		supervisor := k.NewReviewer(t, tn.ID, "super-"+db.Name+"@admin.example", "supervisor")
		auditor := k.NewReviewer(t, tn.ID, "auditor-"+db.Name+"@admin.example", "auditor")

		clients := map[string]*e2e.ConsoleClient{}
		for _, r := range []e2e.ReviewerCreds{analyst, supervisor, auditor, admin} {
			clients[r.Email] = e2e.NewConsoleClient(t, k.Base, r.Email, r.Password, r.Code(t))
		}
		for _, c := range []struct {
			who                    e2e.ReviewerCreds
			audit, reviewers, list int
		}{
			{analyst, 403, 403, 200}, {supervisor, 200, 403, 200}, {auditor, 200, 403, 200}, {admin, 200, 200, 200},
		} {
			cl := clients[c.who.Email]
			for path, want := range map[string]int{"/console/audit": c.audit, "/console/reviewers": c.reviewers, "/console/lists": c.list} {
				if res, _ := cl.Get(t, path); res.StatusCode != want {
					t.Errorf("%s %s: %d, want %d", c.who.Email, path, res.StatusCode, want)
				}
			}
		}
		if res, _ := clients[supervisor.Email].Post(t, "/console/reviewers/"+analyst.ID+"/disable", nil, k.Base); res.StatusCode != 403 {
			t.Errorf("a supervisor disabling: %d", res.StatusCode)
		}

		tab := e2e.NewTab(t)
		e2e.SignIn(t, tab, k.Base, admin.Email, admin.Password, admin.NextCode)
		e2e.Browse(t, tab, "the reviewers", chromedp.Click(chromedp.CSS(`nav a[href="/console/reviewers"]`)), chromedp.WaitVisible(chromedp.CSS(`form[action$="/`+analyst.ID+`/disable"]`)))
		e2e.CheckPage(t, tab, "reviewers", analyst.Email, "analyst", auditor.Email, "auditor", admin.Email, "(you)", "active")
		e2e.Browse(t, tab, "disable the analyst", chromedp.Click(chromedp.CSS(`form[action$="/`+analyst.ID+`/disable"] button`)), chromedp.WaitVisible(chromedp.CSS("p.notice")))
		e2e.CheckPage(t, tab, "reviewer-disabled", "The reviewer is disabled", "disabled ")

		// The analyst's session ended at once; signing in is refused.
		noRedirect := &http.Client{Jar: clients[analyst.Email].HTTP.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		if res, err := noRedirect.Get(k.Base + "/console/cases"); err != nil || res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/console/login") {
			t.Errorf("a disabled reviewer's session: %v %v", res, err)
		}
		fresh := &e2e.ConsoleClient{Base: k.Base, HTTP: &http.Client{}}
		if res, body := fresh.Post(t, "/console/login", url.Values{"email": {analyst.Email}, "password": {analyst.Password}, "code": {analyst.NextCode(t)}}, k.Base); res.StatusCode != 401 ||
			!strings.Contains(body, "The email, password or code is wrong") {
			t.Errorf("a disabled reviewer's sign-in: %d", res.StatusCode)
		}
		// Another tenant's reviewer id: 404.
		other := k.NewTenant(t, "reviewer-admin-other-"+db.Name)
		stranger := k.NewReviewer(t, other.ID, "stranger-"+db.Name+"@admin.example", "analyst")
		if res, _ := clients[admin.Email].Post(t, "/console/reviewers/"+stranger.ID+"/disable", nil, k.Base); res.StatusCode != 404 {
			t.Errorf("disabling another tenant's reviewer: %d", res.StatusCode)
		}

		// The disabled page shows a notice too: wait for the answer to
		// enabling, the analyst's disable button back.
		e2e.Browse(t, tab, "enable the analyst", chromedp.Click(chromedp.CSS(`form[action$="/`+analyst.ID+`/enable"] button`)),
			chromedp.WaitVisible(chromedp.CSS(`form[action$="/`+analyst.ID+`/disable"]`)), chromedp.WaitVisible(chromedp.CSS("p.notice")))
		if text := e2e.MainText(t, tab); !strings.Contains(text, "enabled again") {
			t.Errorf("after enabling:\n%s", text)
		}
		e2e.NewConsoleClient(t, k.Base, analyst.Email, analyst.Password, analyst.NextCode(t))

		// Audited, with the admin as actor.
		_, body := clients[auditor.Email].Get(t, "/console/audit?"+url.Values{"entity": {analyst.ID}}.Encode())
		for _, want := range []string{"reviewer.disabled", "reviewer.enabled", admin.Email} {
			if !strings.Contains(body, want) {
				t.Errorf("the analyst's audit entries lack %q", want)
			}
		}
	})
}

// TestReviewerCLI: kycd reviewer list shows a tenant's reviewers with their
// role, last sign-in and state (as JSON too); reviewer disable ends the
// reviewer's session and refuses sign-in; reviewer enable lets them in;
// another tenant's name finds no such reviewer.
func TestReviewerCLI(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		tn := k.NewTenant(t, "reviewer-cli-"+db.Name)
		ana := k.NewReviewer(t, tn.ID, "ana-"+db.Name+"@cli.example", "analyst")
		k.NewReviewer(t, tn.ID, "bo-"+db.Name+"@cli.example", "auditor")
		type listed struct {
			Reviewers []struct {
				ID, Email, Role string
				LastSignIn      *string `json:"last_sign_in_at"`
				Disabled        bool
			}
		}
		var l listed
		k.CLIJSON(t, &l, "reviewer", "list", "--tenant", tn.ID)
		if len(l.Reviewers) != 2 || l.Reviewers[0].Email != ana.Email || l.Reviewers[0].Role != "analyst" || l.Reviewers[0].LastSignIn != nil ||
			l.Reviewers[0].Disabled || l.Reviewers[1].Role != "auditor" {
			t.Fatalf("reviewer list: %+v", l)
		}
		c := e2e.NewConsoleClient(t, k.Base, ana.Email, ana.Password, ana.Code(t))
		k.CLIJSON(t, &l, "reviewer", "list", "--tenant", tn.ID)
		if l.Reviewers[0].LastSignIn == nil {
			t.Errorf("no last sign-in after a sign-in: %+v", l.Reviewers[0])
		}
		if out, err := k.CLI(t, "reviewer", "list", "--tenant", tn.ID); err != nil || !strings.Contains(out, ana.Email) || !strings.Contains(out, "active") {
			t.Errorf("reviewer list: %q %v", out, err)
		}

		other := k.NewTenant(t, "reviewer-cli-other-"+db.Name)
		if out, err := k.CLI(t, "reviewer", "disable", "--tenant", other.ID, "--email", ana.Email); err == nil {
			t.Errorf("another tenant disabled the reviewer: %q", out)
		}
		if out, err := k.CLI(t, "reviewer", "disable", "--tenant", tn.ID, "--email", ana.Email); err != nil || !strings.Contains(out, "disabled") {
			t.Fatalf("reviewer disable: %q %v", out, err)
		}
		if res, body := c.Get(t, "/console/cases"); res.StatusCode != 200 || !strings.Contains(body, `id="password"`) {
			t.Errorf("a disabled reviewer's session still opens the queue: %d", res.StatusCode)
		}
		fresh := &e2e.ConsoleClient{Base: k.Base, HTTP: &http.Client{}}
		if res, _ := fresh.Post(t, "/console/login", url.Values{"email": {ana.Email}, "password": {ana.Password}, "code": {ana.NextCode(t)}}, k.Base); res.StatusCode != 401 {
			t.Errorf("a disabled reviewer's sign-in: %d", res.StatusCode)
		}
		k.CLIJSON(t, &l, "reviewer", "list", "--tenant", tn.ID)
		if !l.Reviewers[0].Disabled {
			t.Errorf("reviewer list after disable: %+v", l.Reviewers[0])
		}
		if out, err := k.CLI(t, "reviewer", "enable", "--tenant", tn.ID, "--email", ana.Email); err != nil || !strings.Contains(out, "enabled") {
			t.Fatalf("reviewer enable: %q %v", out, err)
		}
		k.CLIJSON(t, &l, "reviewer", "list", "--tenant", tn.ID)
		if l.Reviewers[0].Disabled {
			t.Errorf("reviewer list after enable: %+v", l.Reviewers[0])
		}
		e2e.NewConsoleClient(t, k.Base, ana.Email, ana.Password, ana.NextCode(t))
	})
}
