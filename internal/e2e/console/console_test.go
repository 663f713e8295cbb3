package console

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kycd/kycd/auth"
	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// listedCase imports the UN list and makes a tenant (four eyes or not)
// with a user whose name, birth date and citizenship are a UN listing's
// (CDi.010): the tenant, a token, the user and the user's open case.
func listedCase(t *testing.T, k *e2e.Proc, name, email string, fourEyes bool) (tn e2e.Tenant, tok, userID, caseID string) {
	t.Helper()
	k.ImportUN(t)
	tn = k.NewTenant(t, name, append(slices.Clone(auth.PartnerScopes), "admin.cases:read", "admin.audit:read")...)
	if fourEyes {
		if out, err := k.CLI(t, "tenant", "settings", "--tenant", tn.ID, "--four-eyes", "on"); err != nil {
			t.Fatalf("four eyes: %q %v", out, err)
		}
	}
	tok = k.Token(t, tn, "")
	userID = e2e.CreateUserOf(t, k, tok, e2e.ScreeningUser(email, "Callixte Mbarushimana", "1963-07-24", "RW"))
	e2e.WaitScreening(t, k, tok, userID, "running")
	return tn, tok, userID, openCaseOf(t, k, tok, userID)
}

// openCaseOf is the id of a user's open case, through the admin API.
func openCaseOf(t *testing.T, k *e2e.Proc, tok, userID string) string {
	t.Helper()
	var id string
	e2e.WaitUntil(t, "the user's case", func() bool {
		list := k.Call(t, "GET", "/admin/cases?status=open&userId="+userID, tok, "", nil)
		if cs, _ := list.JSON["cases"].([]any); len(cs) == 1 {
			id = list.Get("cases.0.id").(string)
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
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		tn, tok, listed, caseID := listedCase(t, k, "console-"+db.Name, "listed@console.example", false)

		analyst := k.NewReviewer(t, tn.ID, "analyst-"+db.Name+"@console.example", "analyst")
		second := k.NewReviewer(t, tn.ID, "second-"+db.Name+"@console.example", "analyst")
		auditor := k.NewReviewer(t, tn.ID, "auditor-"+db.Name+"@console.example", "auditor")

		// A post without Origin or Sec-Fetch-Site is refused, session or
		// not, and changes nothing; the same post from the page's origin
		// works.
		c2 := e2e.NewConsoleClient(t, k.Base, second.Email, second.Password, second.Code(t))
		if res, body := c2.Post(t, "/console/cases/"+caseID+"/take", nil, ""); res.StatusCode != 403 || !strings.Contains(body, "not sent from the console") {
			t.Fatalf("a post without the browser's headers: %d %s", res.StatusCode, body)
		}
		if res, _ := c2.Post(t, "/console/cases/"+caseID+"/take", nil, "http://evil.example"); res.StatusCode != 403 {
			t.Fatalf("a cross-origin post: %d", res.StatusCode)
		}
		if _, body := c2.Get(t, "/console/cases"); !strings.Contains(body, "<strong>1</strong> not taken") {
			t.Fatalf("a refused take changed the case:\n%s", body)
		}

		tab := e2e.NewTab(t)
		e2e.Browse(t, tab, "open the console", chromedp.Navigate(k.Base+"/console/cases"), chromedp.WaitVisible(chromedp.CSS("#password")))
		e2e.CheckPage(t, tab, "login", "Sign in", "Code from your authenticator app")
		e2e.SignIn(t, tab, k.Base, analyst.Email, analyst.Password, analyst.Code)
		e2e.CheckPage(t, tab, "queue", "Screening queue", "1 open", "1 not taken", "Case "+caseID[:8], "to decide")

		e2e.Browse(t, tab, "open the case", chromedp.Click(chromedp.CSS(`a[href="/console/cases/`+caseID+`"]`)), chromedp.WaitVisible(chromedp.CSS("section.candidate")))
		e2e.CheckPage(t, tab, "case", "Callixte Mbarushimana", "1963-07-24", "CDi.010", "Why it matched", "User (screened)", "Record the decision")
		e2e.Browse(t, tab, "take the case", chromedp.Click(chromedp.CSS(`form[action$="/take"] button`)), chromedp.WaitVisible(chromedp.CSS("p.notice")))
		if text := e2e.MainText(t, tab); !strings.Contains(text, "The case is yours") || !strings.Contains(text, "Held by\nyou") {
			t.Errorf("after taking the case:\n%s", text)
		}

		// The auditor reads the case, has no decision form, and a decision
		// posted anyway is refused.
		atab := e2e.NewTab(t)
		e2e.SignIn(t, atab, k.Base, auditor.Email, auditor.Password, auditor.Code)
		e2e.Browse(t, atab, "the auditor opens the case", chromedp.Navigate(k.Base+"/console/cases/"+caseID), chromedp.WaitVisible(chromedp.CSS("section.candidate")))
		if text := e2e.MainText(t, atab); strings.Contains(text, "Record the decision") || strings.Contains(text, "Take this case") || !strings.Contains(text, analyst.Email) {
			t.Errorf("the auditor's case page:\n%s", text)
		}
		e2e.SubmitForm(t, atab, "/console/cases/"+caseID+"/decision", map[string]string{"outcome": "false-positive", "reason": "I think not."})
		e2e.CheckPage(t, atab, "forbidden", "Your role does not allow this")

		// The analyst decides: a reason is required, then a true match.
		e2e.Browse(t, tab, "decide without a reason", chromedp.Click(chromedp.CSS("#o-true")),
			chromedp.RemoveAttribute(chromedp.CSS("#reason"), "required"),
			chromedp.Click(chromedp.CSS(`form[action$="/decision"] button`)), chromedp.WaitVisible(chromedp.CSS("p.error")))
		if text := e2e.MainText(t, tab); !strings.Contains(text, "Give reason") {
			t.Errorf("a decision without a reason:\n%s", text)
		}
		reason := "Same name, date of birth and nationality as the UN listing."
		e2e.Browse(t, tab, "decide", chromedp.Click(chromedp.CSS("#o-true")), chromedp.SendKeys(chromedp.CSS("#reason"), reason),
			chromedp.Click(chromedp.CSS(`form[action$="/decision"] button`)), chromedp.WaitVisible(chromedp.CSS("p.notice")))
		e2e.CheckPage(t, tab, "case-decided", "Your decision is recorded", "closed: true-match", "decided by "+analyst.Email)
		res := e2e.WaitScreening(t, k, tok, listed, "failed")
		if res.Get("processes.screening.output.result") != "rejected" {
			t.Errorf("the screening after a true match: %v", res.Get("processes.screening"))
		}

		// The user's file, found by exact email (any case).
		e2e.Browse(t, tab, "find the user", chromedp.Click(chromedp.CSS(`nav a[href="/console/users"]`)), chromedp.WaitVisible(chromedp.CSS("#q")),
			chromedp.SendKeys(chromedp.CSS("#q"), "Listed@Console.example"), chromedp.Click(chromedp.CSS("main button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS(`a[href="/console/cases/`+caseID+`"]`)))
		e2e.CheckPage(t, tab, "user", "Callixte Mbarushimana", "listed@console.example", "Summary: blocked", "screening\tfailed", "Case "+caseID[:8])
		e2e.Browse(t, tab, "look for nobody", chromedp.Navigate(k.Base+"/console/users"), chromedp.WaitVisible(chromedp.CSS("#q")),
			chromedp.SendKeys(chromedp.CSS("#q"), "nobody@console.example"), chromedp.Click(chromedp.CSS("main button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("p.error")))
		e2e.CheckPage(t, tab, "user-missing", "No user of your tenant matches")

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
		var auditRes *e2e.Response
		e2e.WaitUntil(t, "the reviewers' audit entries", func() bool {
			auditRes = k.Call(t, "GET", "/admin/audit?limit=1000", tok, "", nil)
			return !slices.ContainsFunc(wants, func(w struct{ actor, action, key, value string }) bool {
				return !e2e.HasAuditEntry(auditRes, w.actor, w.action, w.key, w.value)
			})
		})
		if audit := string(auditRes.Body); strings.Contains(audit, "Mbarushimana") || strings.Contains(audit, reason) {
			t.Error("the audit trail holds personal data")
		}

		// Another tenant's reviewer does not see the case.
		other := k.NewTenant(t, "console-other-"+db.Name)
		stranger := k.NewReviewer(t, other.ID, "stranger-"+db.Name+"@console.example", "supervisor")
		sc := e2e.NewConsoleClient(t, k.Base, stranger.Email, stranger.Password, stranger.Code(t))
		if res, body := sc.Get(t, "/console/cases/"+caseID); res.StatusCode != 404 || strings.Contains(body, "Mbarushimana") {
			t.Errorf("another tenant's case: %d", res.StatusCode)
		}
		if res, body := sc.Get(t, "/console/users/"+listed); res.StatusCode != 404 || strings.Contains(body, "Mbarushimana") {
			t.Errorf("another tenant's user: %d", res.StatusCode)
		}
		if res, _ := sc.Post(t, "/console/users/search", url.Values{"q": {"listed@console.example"}}, k.Base); res.Request.URL.Path != "/console/users" {
			t.Errorf("another tenant's user found by email: %s", res.Request.URL)
		}
		if res, _ := sc.Post(t, "/console/cases/"+caseID+"/take", nil, k.Base); res.StatusCode != 404 {
			t.Errorf("another tenant's case taken: %d", res.StatusCode)
		}
		if _, body := sc.Get(t, "/console/cases"); !strings.Contains(body, "<strong>0</strong> open") {
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
	db := e2e.Databases(t)[0]
	k := e2e.Start(t, db)
	tn, tok, listed, caseID := listedCase(t, k, "console-four-eyes", "listed@four-eyes.example", true)
	first := k.NewReviewer(t, tn.ID, "first@four-eyes.example", "supervisor")
	analyst := k.NewReviewer(t, tn.ID, "analyst@four-eyes.example", "analyst")
	second := k.NewReviewer(t, tn.ID, "second@four-eyes.example", "supervisor")
	decide := func(tab context.Context, wait string) {
		t.Helper()
		e2e.Browse(t, tab, "decide", chromedp.Navigate(k.Base+"/console/cases/"+caseID), chromedp.WaitVisible(chromedp.CSS("#reason")),
			chromedp.Click(chromedp.CSS("#o-true")), chromedp.SendKeys(chromedp.CSS("#reason"), "The UN listing's name, birth date and nationality."),
			chromedp.Click(chromedp.CSS(`form[action$="/decision"] button`)), chromedp.WaitVisible(chromedp.CSS(wait)))
	}

	tab := e2e.NewTab(t)
	e2e.SignIn(t, tab, k.Base, first.Email, first.Password, first.Code)
	decide(tab, "p.notice")
	e2e.CheckPage(t, tab, "case-proposed", "awaits a second reviewer's approval", "Awaiting a second approval", first.Email+" proposed true-match", "Second approval")
	decide(tab, "p.error")
	if text := e2e.MainText(t, tab); !strings.Contains(text, "a second, different reviewer must confirm") {
		t.Errorf("the same supervisor approving twice:\n%s", text)
	}

	atab := e2e.NewTab(t)
	e2e.SignIn(t, atab, k.Base, analyst.Email, analyst.Password, analyst.Code)
	e2e.Browse(t, atab, "the analyst opens the case", chromedp.Navigate(k.Base+"/console/cases/"+caseID), chromedp.WaitVisible(chromedp.CSS("section.pending")))
	if text := e2e.MainText(t, atab); strings.Contains(text, "Record the decision") {
		t.Errorf("an analyst is offered the second approval:\n%s", text)
	}
	e2e.SubmitForm(t, atab, "/console/cases/"+caseID+"/decision", map[string]string{"outcome": "true-match", "reason": "Agreed."})
	if text := e2e.MainText(t, atab); !strings.Contains(text, "a supervisor gives the second approval") {
		t.Errorf("an analyst's second approval:\n%s", text)
	}
	if s, _ := e2e.ScreeningOf(t, k, tok, listed); s != "running" {
		t.Fatalf("the screening before the second approval: %s", s)
	}

	stab := e2e.NewTab(t)
	e2e.SignIn(t, stab, k.Base, second.Email, second.Password, second.Code)
	decide(stab, "p.notice")
	e2e.CheckPage(t, stab, "case-confirmed", "Your decision is recorded", "closed: true-match", "confirmed by "+second.Email)
	e2e.WaitScreening(t, k, tok, listed, "failed")
}

// TestConsoleSession: serve --sandbox prints a console sign-in that works at
// once (no TOTP code); a wrong password is refused without saying which
// part was wrong; pages carry the security headers and the session cookie
// its flags; a session unused past the idle timeout (the sandbox clock
// moved) sends the reviewer to sign in again; signing out ends it.
func TestConsoleSession(t *testing.T) {
	t.Parallel()
	db := e2e.Databases(t)[0]
	k := e2e.Start(t, db, "--sandbox", "--sandbox-lists", "")
	m := regexp.MustCompile(`console at (\S+)[^\n]*\n\s+email:\s+(\S+)\s+password:\s+(\S+)`).FindStringSubmatch(k.Stdout.String())
	if m == nil || m[1] != k.Base+"/console/" {
		t.Fatalf("serve --sandbox printed no console sign-in:\n%s", k.Stdout.String())
	}
	email, password := m[2], m[3]

	tab := e2e.NewTab(t)
	e2e.Browse(t, tab, "a wrong password", chromedp.Navigate(k.Base+"/console/login"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), "not-the-password"),
		chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("p.error")))
	e2e.CheckPage(t, tab, "login-failed", "The email, password or code is wrong")
	e2e.SignIn(t, tab, k.Base, email, password, nil)
	e2e.CheckPage(t, tab, "queue-empty", "No open case here", "0 open")

	// Headers and cookie, outside the browser.
	jar, _ := cookiejar.New(nil)
	c := &e2e.ConsoleClient{Base: k.Base, HTTP: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	res, _ := c.Post(t, "/console/login", url.Values{"email": {email}, "password": {password}}, k.Base)
	cookie := res.Header.Get("Set-Cookie")
	if res.StatusCode != 303 || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") || !strings.Contains(cookie, "Path=/console/") ||
		strings.Contains(cookie, "Secure") {
		t.Errorf("sign-in: %d, cookie %q (not Secure on plain-http loopback only)", res.StatusCode, cookie)
	}
	res, body := c.Get(t, "/console/cases")
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
	tn := k.NewTenant(t, "console-clock")
	if res := k.Call(t, "POST", "/sandbox/clock", k.Token(t, tn, ""), "", map[string]any{"advance": "31m"}); res.Status != 200 {
		t.Fatalf("advance the clock: %d %s", res.Status, res.Body)
	}
	e2e.Browse(t, tab, "the queue after 31 idle minutes", chromedp.Navigate(k.Base+"/console/cases"), chromedp.WaitVisible(chromedp.CSS("#password")))
	if loc := e2e.Value(t, tab, "where", chromedp.Location()); !strings.HasSuffix(loc, "/console/login?next=%2Fconsole%2Fcases") {
		t.Errorf("an expired session went to %s", loc)
	}
	if res, _ := c.Get(t, "/console/cases"); res.StatusCode != 303 {
		t.Errorf("an expired session outside the browser: %d", res.StatusCode)
	}

	// Sign out.
	e2e.SignIn(t, tab, k.Base, email, password, nil)
	e2e.Browse(t, tab, "sign out", chromedp.Click(chromedp.CSS("form.who button")), chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.Navigate(k.Base+"/console/cases"), chromedp.WaitVisible(chromedp.CSS("#password")))
}
