package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/kycd/kycd/auth"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// reviewerCreds is a reviewer as `kycd reviewer create --json` prints it.
type reviewerCreds struct {
	ID         string `json:"id"`
	Email      string `json:"email"`
	Password   string `json:"password"`
	TOTPSecret string `json:"totp_secret"`
}

// newReviewer creates a reviewer of a tenant through the command line.
func (k *kycdProc) newReviewer(t *testing.T, tenantID, email, role string) reviewerCreds {
	t.Helper()
	var r reviewerCreds
	k.cliJSON(t, &r, "reviewer", "create", "--tenant", tenantID, "--email", email, "--role", role)
	if r.ID == "" || r.Password == "" || r.TOTPSecret == "" {
		t.Fatalf("reviewer create printed %+v", r)
	}
	return r
}

// code is the reviewer's TOTP code now.
func (r reviewerCreds) code(t *testing.T) string {
	t.Helper()
	c, err := totp.GenerateCode(r.TOTPSecret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signIn signs a reviewer in in the browser (code nil when no TOTP code
// is needed; it is read just before it is typed) and waits for the
// screening queue.
func signIn(t *testing.T, tab context.Context, base, email, password string, code func(*testing.T) string) {
	t.Helper()
	browse(t, tab, "open the sign-in page", chromedp.Navigate(base+"/console/login"), chromedp.WaitVisible(chromedp.CSS("#email")))
	steps := []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), password)}
	if code != nil {
		steps = append(steps, chromedp.SendKeys(chromedp.CSS("#code"), code(t)))
	}
	steps = append(steps, chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("ul.counts")))
	browse(t, tab, "sign in as "+email, steps...)
}

// submitForm posts a form from the page the tab shows, as the page's own
// form would (the browser adds Origin and Sec-Fetch-Site), and waits for
// the page that answers to show an error.
func submitForm(t *testing.T, tab context.Context, action string, fields map[string]string) {
	t.Helper()
	js := `(() => { const f = document.createElement('form'); f.method = 'post'; f.action = ` + jsString(action) + `;`
	for k, v := range fields {
		js += `{ const i = document.createElement('input'); i.type = 'hidden'; i.name = ` + jsString(k) + `; i.value = ` + jsString(v) + `; f.appendChild(i); }`
	}
	js += `document.body.appendChild(f); f.submit(); return true; })()`
	value(t, tab, "submit "+action, chromedp.Evaluate[bool](js))
	browse(t, tab, "the answer to "+action, chromedp.WaitVisible(chromedp.CSS("p.error")))
}

func jsString(s string) string {
	return `'` + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + `'`
}

// hasAuditEntry reports whether an audit page holds an entry of an actor
// and action whose details hold key: value (any details when key is "").
func hasAuditEntry(page *response, actor, action, key, value string) bool {
	entries, _ := page.JSON["entries"].([]any)
	for _, e := range entries {
		m, _ := e.(map[string]any)
		details, _ := m["details"].(map[string]any)
		if m["actor"] == actor && m["action"] == action && (key == "" || details[key] == value) {
			return true
		}
	}
	return false
}

// consoleClient is a reviewer's session outside the browser, for what a
// browser would never send.
type consoleClient struct {
	base string
	http *http.Client
}

func newConsoleClient(t *testing.T, base, email, password, code string) *consoleClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &consoleClient{base: base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	res, body := c.post(t, "/console/login", url.Values{"email": {email}, "password": {password}, "code": {code}}, base)
	if res.StatusCode != 200 || !strings.Contains(body, "Screening queue") {
		t.Fatalf("sign in %s: %d %s", email, res.StatusCode, body)
	}
	return c
}

// post sends a form with an Origin header (none when origin is "").
func (c *consoleClient) post(t *testing.T, path string, form url.Values, origin string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return c.do(t, req)
}

func (c *consoleClient) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.do(t, req)
}

func (c *consoleClient) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

// listedCase imports the UN list and makes a tenant (four eyes or not)
// with a user whose name, birth date and citizenship are a UN listing's
// (CDi.010): the tenant, a token, the user and the user's open case.
func listedCase(t *testing.T, k *kycdProc, name, email string, fourEyes bool) (tn tenant, tok, userID, caseID string) {
	t.Helper()
	k.importUN(t)
	tn = k.newTenant(t, name, append(slices.Clone(auth.PartnerScopes), "admin.cases:read", "admin.audit:read")...)
	if fourEyes {
		if out, err := k.cli(t, "tenant", "settings", "--tenant", tn.ID, "--four-eyes", "on"); err != nil {
			t.Fatalf("four eyes: %q %v", out, err)
		}
	}
	tok = k.token(t, tn, "")
	userID = createUserOf(t, k, tok, screeningUser(email, "Callixte Mbarushimana", "1963-07-24", "RW"))
	waitScreening(t, k, tok, userID, "running")
	return tn, tok, userID, openCaseOf(t, k, tok, userID)
}

// openCaseOf is the id of a user's open case, through the admin API.
func openCaseOf(t *testing.T, k *kycdProc, tok, userID string) string {
	t.Helper()
	var id string
	waitUntil(t, "the user's case", func() bool {
		list := k.call(t, "GET", "/admin/cases?status=open&userId="+userID, tok, "", nil)
		if cs, _ := list.JSON["cases"].([]any); len(cs) == 1 {
			id = list.get("cases.0.id").(string)
		}
		return id != ""
	})
	return id
}

// TestConsoleScreeningCase: an analyst signs in with password and TOTP
// code, opens the queue, takes the case, reads the screened user beside the
// listing with the explanation, and decides a true match with a reason: the
// user's screening process is failed through the Core API, and the audit
// trail names the person for the view, the assignment and the decision. An
// auditor sees the case and no decision form, and a decision posted anyway
// is refused; a post without the browser's same-origin headers is refused
// even with a good session; a reviewer of another tenant gets 404 for the
// case. The user's file is found by email and its view audited; another
// tenant's reviewer finds neither. Every page passes axe-core and is
// screenshotted.
func TestConsoleScreeningCase(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db storetest.Database) {
		k := start(t, db)
		tn, tok, listed, caseID := listedCase(t, k, "console-"+db.Name, "listed@console.example", false)

		analyst := k.newReviewer(t, tn.ID, "analyst-"+db.Name+"@console.example", "analyst")
		second := k.newReviewer(t, tn.ID, "second-"+db.Name+"@console.example", "analyst")
		auditor := k.newReviewer(t, tn.ID, "auditor-"+db.Name+"@console.example", "auditor")

		// A post without Origin or Sec-Fetch-Site is refused, session or
		// not, and changes nothing; the same post from the page's origin
		// works.
		c2 := newConsoleClient(t, k.base, second.Email, second.Password, second.code(t))
		if res, body := c2.post(t, "/console/cases/"+caseID+"/take", nil, ""); res.StatusCode != 403 || !strings.Contains(body, "not sent from the console") {
			t.Fatalf("a post without the browser's headers: %d %s", res.StatusCode, body)
		}
		if res, _ := c2.post(t, "/console/cases/"+caseID+"/take", nil, "http://evil.example"); res.StatusCode != 403 {
			t.Fatalf("a cross-origin post: %d", res.StatusCode)
		}
		if _, body := c2.get(t, "/console/cases"); !strings.Contains(body, "<strong>1</strong> not taken") {
			t.Fatalf("a refused take changed the case:\n%s", body)
		}

		tab := newTab(t)
		browse(t, tab, "open the console", chromedp.Navigate(k.base+"/console/cases"), chromedp.WaitVisible(chromedp.CSS("#password")))
		checkPage(t, tab, "login", "Sign in", "Code from your authenticator app")
		signIn(t, tab, k.base, analyst.Email, analyst.Password, analyst.code)
		checkPage(t, tab, "queue", "Screening queue", "1 open", "1 not taken", "Case "+caseID[:8], "to decide")

		browse(t, tab, "open the case", chromedp.Click(chromedp.CSS(`a[href="/console/cases/`+caseID+`"]`)), chromedp.WaitVisible(chromedp.CSS("section.candidate")))
		checkPage(t, tab, "case", "Callixte Mbarushimana", "1963-07-24", "CDi.010", "Why it matched", "User (screened)", "Record the decision")
		browse(t, tab, "take the case", chromedp.Click(chromedp.CSS(`form[action$="/take"] button`)), chromedp.WaitVisible(chromedp.CSS("p.notice")))
		if text := mainText(t, tab); !strings.Contains(text, "The case is yours") || !strings.Contains(text, "Held by\nyou") {
			t.Errorf("after taking the case:\n%s", text)
		}

		// The auditor reads the case, has no decision form, and a decision
		// posted anyway is refused.
		atab := newTab(t)
		signIn(t, atab, k.base, auditor.Email, auditor.Password, auditor.code)
		browse(t, atab, "the auditor opens the case", chromedp.Navigate(k.base+"/console/cases/"+caseID), chromedp.WaitVisible(chromedp.CSS("section.candidate")))
		if text := mainText(t, atab); strings.Contains(text, "Record the decision") || strings.Contains(text, "Take this case") || !strings.Contains(text, analyst.Email) {
			t.Errorf("the auditor's case page:\n%s", text)
		}
		submitForm(t, atab, "/console/cases/"+caseID+"/decision", map[string]string{"outcome": "false-positive", "reason": "I think not."})
		checkPage(t, atab, "forbidden", "Your role does not allow this")

		// The analyst decides: a reason is required, then a true match.
		browse(t, tab, "decide without a reason", chromedp.Click(chromedp.CSS("#o-true")),
			chromedp.RemoveAttribute(chromedp.CSS("#reason"), "required"),
			chromedp.Click(chromedp.CSS(`form[action$="/decision"] button`)), chromedp.WaitVisible(chromedp.CSS("p.error")))
		if text := mainText(t, tab); !strings.Contains(text, "Give reason") {
			t.Errorf("a decision without a reason:\n%s", text)
		}
		reason := "Same name, date of birth and nationality as the UN listing."
		browse(t, tab, "decide", chromedp.Click(chromedp.CSS("#o-true")), chromedp.SendKeys(chromedp.CSS("#reason"), reason),
			chromedp.Click(chromedp.CSS(`form[action$="/decision"] button`)), chromedp.WaitVisible(chromedp.CSS("p.notice")))
		checkPage(t, tab, "case-decided", "Your decision is recorded", "closed: true-match", "decided by "+analyst.Email)
		res := waitScreening(t, k, tok, listed, "failed")
		if res.get("processes.screening.output.result") != "rejected" {
			t.Errorf("the screening after a true match: %v", res.get("processes.screening"))
		}

		// The user's file, found by exact email (any case).
		browse(t, tab, "find the user", chromedp.Click(chromedp.CSS(`nav a[href="/console/users"]`)), chromedp.WaitVisible(chromedp.CSS("#q")),
			chromedp.SendKeys(chromedp.CSS("#q"), "Listed@Console.example"), chromedp.Click(chromedp.CSS("main button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS(`a[href="/console/cases/`+caseID+`"]`)))
		checkPage(t, tab, "user", "Callixte Mbarushimana", "listed@console.example", "Summary: blocked", "screening\tfailed", "Case "+caseID[:8])
		browse(t, tab, "look for nobody", chromedp.Navigate(k.base+"/console/users"), chromedp.WaitVisible(chromedp.CSS("#q")),
			chromedp.SendKeys(chromedp.CSS("#q"), "nobody@console.example"), chromedp.Click(chromedp.CSS("main button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("p.error")))
		checkPage(t, tab, "user-missing", "No user of your tenant matches")

		// The audit trail names the person.
		wants := []struct{ actor, action, key, value string }{
			{"reviewer:" + analyst.ID, "user.viewed", "userId", listed},
			{"reviewer:" + analyst.ID, "case.viewed", "reviewer", analyst.Email},
			{"reviewer:" + analyst.ID, "case.viewed", "caseId", caseID},
			{"reviewer:" + auditor.ID, "case.viewed", "reviewer", auditor.Email},
			{"reviewer:" + analyst.ID, "case.assigned", "assignee", analyst.ID},
			{"reviewer:" + analyst.ID, "case.decided", "reviewer", analyst.Email},
			{"reviewer:" + analyst.ID, "reviewer.signed-in", "", ""},
		}
		var auditRes *response
		waitUntil(t, "the reviewers' audit entries", func() bool {
			auditRes = k.call(t, "GET", "/admin/audit?limit=1000", tok, "", nil)
			return !slices.ContainsFunc(wants, func(w struct{ actor, action, key, value string }) bool {
				return !hasAuditEntry(auditRes, w.actor, w.action, w.key, w.value)
			})
		})
		if audit := string(auditRes.Body); strings.Contains(audit, "Mbarushimana") || strings.Contains(audit, reason) {
			t.Error("the audit trail holds personal data")
		}

		// Another tenant's reviewer does not see the case.
		other := k.newTenant(t, "console-other-"+db.Name)
		stranger := k.newReviewer(t, other.ID, "stranger-"+db.Name+"@console.example", "supervisor")
		sc := newConsoleClient(t, k.base, stranger.Email, stranger.Password, stranger.code(t))
		if res, body := sc.get(t, "/console/cases/"+caseID); res.StatusCode != 404 || strings.Contains(body, "Mbarushimana") {
			t.Errorf("another tenant's case: %d", res.StatusCode)
		}
		if res, body := sc.get(t, "/console/users/"+listed); res.StatusCode != 404 || strings.Contains(body, "Mbarushimana") {
			t.Errorf("another tenant's user: %d", res.StatusCode)
		}
		if res, _ := sc.post(t, "/console/users/search", url.Values{"q": {"listed@console.example"}}, k.base); res.Request.URL.Path != "/console/users" {
			t.Errorf("another tenant's user found by email: %s", res.Request.URL)
		}
		if res, _ := sc.post(t, "/console/cases/"+caseID+"/take", nil, k.base); res.StatusCode != 404 {
			t.Errorf("another tenant's case taken: %d", res.StatusCode)
		}
		if _, body := sc.get(t, "/console/cases"); !strings.Contains(body, "<strong>0</strong> open") {
			t.Errorf("another tenant's queue:\n%s", body)
		}
	})
}

// TestConsoleFourEyes: under four eyes a supervisor's decision is a
// proposal the case page shows; the same person approving it is refused;
// an analyst cannot give the second approval; a second supervisor's
// confirmation closes the case and fails the user's screening.
func TestConsoleFourEyes(t *testing.T) {
	t.Parallel()
	db := testDatabases(t)[0]
	k := start(t, db)
	tn, tok, listed, caseID := listedCase(t, k, "console-four-eyes", "listed@four-eyes.example", true)
	first := k.newReviewer(t, tn.ID, "first@four-eyes.example", "supervisor")
	analyst := k.newReviewer(t, tn.ID, "analyst@four-eyes.example", "analyst")
	second := k.newReviewer(t, tn.ID, "second@four-eyes.example", "supervisor")
	decide := func(tab context.Context, wait string) {
		t.Helper()
		browse(t, tab, "decide", chromedp.Navigate(k.base+"/console/cases/"+caseID), chromedp.WaitVisible(chromedp.CSS("#reason")),
			chromedp.Click(chromedp.CSS("#o-true")), chromedp.SendKeys(chromedp.CSS("#reason"), "The UN listing's name, birth date and nationality."),
			chromedp.Click(chromedp.CSS(`form[action$="/decision"] button`)), chromedp.WaitVisible(chromedp.CSS(wait)))
	}

	tab := newTab(t)
	signIn(t, tab, k.base, first.Email, first.Password, first.code)
	decide(tab, "p.notice")
	checkPage(t, tab, "case-proposed", "awaits a second reviewer's approval", "Awaiting a second approval", first.Email+" proposed true-match", "Second approval")
	decide(tab, "p.error")
	if text := mainText(t, tab); !strings.Contains(text, "a second, different reviewer must confirm") {
		t.Errorf("the same supervisor approving twice:\n%s", text)
	}

	atab := newTab(t)
	signIn(t, atab, k.base, analyst.Email, analyst.Password, analyst.code)
	browse(t, atab, "the analyst opens the case", chromedp.Navigate(k.base+"/console/cases/"+caseID), chromedp.WaitVisible(chromedp.CSS("section.pending")))
	if text := mainText(t, atab); strings.Contains(text, "Record the decision") {
		t.Errorf("an analyst is offered the second approval:\n%s", text)
	}
	submitForm(t, atab, "/console/cases/"+caseID+"/decision", map[string]string{"outcome": "true-match", "reason": "Agreed."})
	if text := mainText(t, atab); !strings.Contains(text, "a supervisor gives the second approval") {
		t.Errorf("an analyst's second approval:\n%s", text)
	}
	if s, _ := screeningOf(t, k, tok, listed); s != "running" {
		t.Fatalf("the screening before the second approval: %s", s)
	}

	stab := newTab(t)
	signIn(t, stab, k.base, second.Email, second.Password, second.code)
	decide(stab, "p.notice")
	checkPage(t, stab, "case-confirmed", "Your decision is recorded", "closed: true-match", "confirmed by "+second.Email)
	waitScreening(t, k, tok, listed, "failed")
}

// TestConsoleSession: serve --sandbox prints a console sign-in that works at
// once (no TOTP code); a wrong password is refused without saying which
// part was wrong; pages carry the security headers and the session cookie
// its flags; a session unused past the idle timeout (the sandbox clock
// moved) sends the reviewer to sign in again; signing out ends it.
func TestConsoleSession(t *testing.T) {
	t.Parallel()
	db := testDatabases(t)[0]
	k := start(t, db, "--sandbox", "--sandbox-lists", "")
	m := regexp.MustCompile(`console at (\S+)[^\n]*\n\s+email:\s+(\S+)\s+password:\s+(\S+)`).FindStringSubmatch(k.stdout.String())
	if m == nil || m[1] != k.base+"/console/" {
		t.Fatalf("serve --sandbox printed no console sign-in:\n%s", k.stdout.String())
	}
	email, password := m[2], m[3]

	tab := newTab(t)
	browse(t, tab, "a wrong password", chromedp.Navigate(k.base+"/console/login"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), "not-the-password"),
		chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("p.error")))
	checkPage(t, tab, "login-failed", "The email, password or code is wrong")
	signIn(t, tab, k.base, email, password, nil)
	checkPage(t, tab, "queue-empty", "No open case here", "0 open")

	// Headers and cookie, outside the browser.
	jar, _ := cookiejar.New(nil)
	c := &consoleClient{base: k.base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	res, _ := c.post(t, "/console/login", url.Values{"email": {email}, "password": {password}}, k.base)
	cookie := res.Header.Get("Set-Cookie")
	if res.StatusCode != 303 || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") || !strings.Contains(cookie, "Path=/console/") ||
		strings.Contains(cookie, "Secure") {
		t.Errorf("sign-in: %d, cookie %q (not Secure on plain-http loopback only)", res.StatusCode, cookie)
	}
	res, body := c.get(t, "/console/cases")
	for name, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Frame-Options":         "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
	} {
		if got := res.Header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if res.StatusCode != 200 || strings.Contains(body, "<script") || len(body) > 100<<10 {
		t.Errorf("the queue page: %d, %d bytes", res.StatusCode, len(body))
	}

	// Idle: the sandbox clock moves past the idle timeout.
	tn := k.newTenant(t, "console-clock")
	if res := k.call(t, "POST", "/sandbox/clock", k.token(t, tn, ""), "", map[string]any{"advance": "31m"}); res.Status != 200 {
		t.Fatalf("advance the clock: %d %s", res.Status, res.Body)
	}
	browse(t, tab, "the queue after 31 idle minutes", chromedp.Navigate(k.base+"/console/cases"), chromedp.WaitVisible(chromedp.CSS("#password")))
	if loc := value(t, tab, "where", chromedp.Location()); !strings.HasSuffix(loc, "/console/login?next=%2Fconsole%2Fcases") {
		t.Errorf("an expired session went to %s", loc)
	}
	if res, _ := c.get(t, "/console/cases"); res.StatusCode != 303 {
		t.Errorf("an expired session outside the browser: %d", res.StatusCode)
	}

	// Sign out.
	signIn(t, tab, k.base, email, password, nil)
	browse(t, tab, "sign out", chromedp.Click(chromedp.CSS("form.who button")), chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.Navigate(k.base+"/console/cases"), chromedp.WaitVisible(chromedp.CSS("#password")))
}
