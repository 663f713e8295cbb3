package queues

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestConsoleQueues: each queue beside the screening queue lists what it
// should, made through the real APIs and the provider sandboxes: an
// application sent to review, a failed check, an ingestion that failed at
// Sumsub, an endpoint answering 500. The navigation counts each queue; the
// failing endpoint's page shows the last status and no payload. An analyst
// takes the application, returns it with a correction of one attribute
// (the client sees it through the STASIS API, corrects it and sends it
// again), and approves it; the client's application is approved through
// the STASIS API. The audit trail names the person for the view, the take
// and the decisions. An auditor reads the application without a form and
// a decision posted anyway is refused; a reviewer of another tenant gets
// 404 for the application, its take and its decision. Every page passes
// axe-core and is screenshotted.
func TestConsoleQueues(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e, k := e2e.NewLevelsEnv(t, db)
		e.Client = e2e.CreateUser(t, k.Proc, k.Tok, "client@queues.example")
		officer := k.NewClient(t, k.Tenant.ID, "queues-officer", "admin.audit:read")

		// What each queue holds, through the APIs.
		app := e2e.ReviewableApplication(t, e)
		checker := &e2e.ChecksEnv{Proc: k.Proc, T: t, Tenant: k.Tenant, Tok: k.Tok}
		unfit := checker.Decided(e.Client, map[string]any{"type": "INSTRUMENT_FIT", "check_confirmed_at": time.Now().UTC().Format(time.RFC3339),
			"instrument_suitability": map[string]any{"suitability": false}})
		if unfit.JSON["status"] != "FAILED" {
			t.Fatalf("the unsuitable check: %s", unfit.Body)
		}
		failed := e.Ingest(e.Client, "sumsub", map[string]any{"applicantId": "000000000000000000000000", "processes": []string{"profile"}})
		e2e.WantResults(t, "unknown applicant", failed, map[string]string{"profile": "failed:sumsub_client_error"})
		hook := e2e.NewReceiver(t)
		hook.Script("", slices.Repeat([]int{500}, 50)...)
		ep := k.Call(t, "POST", "/core/webhooks/endpoints", k.Tok, "", map[string]any{"url": hook.URL + "/hooks?token=s3cret", "eventTypes": []string{"core.user.created"}})
		if ep.Status != 201 {
			t.Fatalf("create endpoint: %d %s", ep.Status, ep.Body)
		}
		endpointID := ep.Get("endpoint.id").(string)
		e2e.CreateUser(t, k.Proc, k.Tok, "hooked@queues.example")
		e2e.WaitUntil(t, "a failed delivery", func() bool {
			return hook.AttemptCount() > 0
		})

		analyst := k.NewReviewer(t, k.Tenant.ID, "analyst-"+db.Name+"@queues.example", "analyst")
		auditor := k.NewReviewer(t, k.Tenant.ID, "auditor-"+db.Name+"@queues.example", "auditor")
		tab := e2e.NewTab(t)
		e2e.SignIn(t, tab, k.Base, analyst.Email, analyst.Password, analyst.Code)

		// The failing endpoint is listed once its attempt is recorded.
		e2e.Browse(t, tab, "the failing webhooks", chromedp.Navigate(k.Base+"/console/webhooks"), chromedp.WaitVisible(chromedp.CSS("nav.queues")))
		e2e.WaitUntil(t, "the failing endpoint in its queue", func() bool {
			if strings.Contains(e2e.MainText(t, tab), "HTTP 500") {
				return true
			}
			e2e.Browse(t, tab, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("nav.queues")))
			return false
		})
		e2e.CheckPage(t, tab, "webhooks", "Failing webhook endpoints", "1 failing", "1 still tried", endpointID[:8], strings.TrimPrefix(hook.URL, "http://")+"/hooks",
			"core.user.created, HTTP 500", "tried again")
		if text := e2e.MainText(t, tab); strings.Contains(text, "s3cret") || strings.Contains(text, "hooked@queues.example") {
			t.Errorf("the failing endpoint's page shows a token or a payload:\n%s", text)
		}
		nav := e2e.Value(t, tab, "the queues' navigation", chromedp.Text(chromedp.CSS("nav.queues")))
		for _, want := range []string{"Screening cases 0", "Applications to review 1", "Failed checks 1", "Failed ingestions 1", "Failing webhooks 1"} {
			if !strings.Contains(strings.Join(strings.Fields(nav), " "), want) {
				t.Errorf("the navigation lacks %q: %s", want, nav)
			}
		}

		e2e.Browse(t, tab, "the failed checks", chromedp.Click(chromedp.CSS(`nav.queues a[href="/console/checks"]`)), chromedp.WaitVisible(chromedp.CSS("table")))
		e2e.CheckPage(t, tab, "checks", "Failed checks", "1 failed", "1 INSTRUMENT_FIT", "User "+e.Client[:8], "instrument_not_suitable", "Failed checks, oldest first")
		e2e.Browse(t, tab, "the failed POR checks", chromedp.Click(chromedp.CSS(`nav.filters a[href="/console/checks?type=POR"]`)), chromedp.WaitVisible(chromedp.CSS(`a[aria-current][href$="POR"]`)))
		if text := e2e.MainText(t, tab); !strings.Contains(text, "No failed check here") {
			t.Errorf("the failed POR checks:\n%s", text)
		}
		e2e.Browse(t, tab, "the failed ingestions", chromedp.Click(chromedp.CSS(`nav.queues a[href="/console/ingestions"]`)), chromedp.WaitVisible(chromedp.CSS("table")))
		e2e.CheckPage(t, tab, "ingestions", "Failed ingestions", "1 sumsub", "0 veriff", failed.Get("ingestion.id").(string)[:8], "profile: sumsub_client_error at fetch-provider-data")

		// The review queue, the application, the take.
		e2e.Browse(t, tab, "the applications", chromedp.Click(chromedp.CSS(`nav.queues a[href="/console/applications"]`)), chromedp.WaitVisible(chromedp.CSS("table")))
		e2e.CheckPage(t, tab, "applications", "Applications to review", "1 in review", "1 not taken", "0 yours", "Application "+app[:8], "Basic")
		e2e.Browse(t, tab, "open the application", chromedp.Click(chromedp.CSS(`a[href="/console/applications/`+app+`"]`)), chromedp.WaitVisible(chromedp.CSS("#decide")))
		if n := e2e.Value(t, tab, "the page's size", chromedp.Evaluate[int](`document.documentElement.outerHTML.length`)); n > 100<<10 {
			t.Errorf("the application page weighs %d bytes", n)
		} else {
			t.Logf("the application page: %d bytes", n)
		}
		e2e.CheckPage(t, tab, "application", "Jane", "Queuedoe", "1985-02-03", "+447911123456", "signed by", "Record the decision", "Take this application", "in_review")
		e2e.Browse(t, tab, "take the application", chromedp.Click(chromedp.CSS(`form[action$="/take"] button`)), chromedp.WaitVisible(chromedp.CSS("p.notice")))
		if text := e2e.MainText(t, tab); !strings.Contains(text, "The application is yours") || !strings.Contains(text, "Held by\nyou") {
			t.Errorf("after taking the application:\n%s", text)
		}
		e2e.Browse(t, tab, "the queue, taken", chromedp.Navigate(k.Base+"/console/applications?assignee=me"), chromedp.WaitVisible(chromedp.CSS("table")))
		if text := e2e.MainText(t, tab); !strings.Contains(text, "1 yours") || !strings.Contains(text, "0 not taken") || !strings.Contains(text, "Application "+app[:8]) {
			t.Errorf("the analyst's applications:\n%s", text)
		}

		// The auditor reads, without a form; a decision posted anyway is
		// refused.
		atab := e2e.NewTab(t)
		e2e.SignIn(t, atab, k.Base, auditor.Email, auditor.Password, auditor.Code)
		e2e.Browse(t, atab, "the auditor opens the application", chromedp.Navigate(k.Base+"/console/applications/"+app), chromedp.WaitVisible(chromedp.CSS("table.attributes")))
		if text := e2e.MainText(t, atab); strings.Contains(text, "Record the decision") || strings.Contains(text, "Take this application") || !strings.Contains(text, analyst.Email) ||
			!strings.Contains(text, "Queuedoe") {
			t.Errorf("the auditor's application page:\n%s", text)
		}
		if n := e2e.Value(t, atab, "correction fields", chromedp.Evaluate[int](`document.querySelectorAll('input[name^="correction."]').length`)); n != 0 {
			t.Errorf("the auditor is offered %d correction fields", n)
		}
		e2e.SubmitForm(t, atab, "/console/applications/"+app+"/decision", map[string]string{"status": "approved", "reason": "Looks fine to me."})
		e2e.CheckPage(t, atab, "application-forbidden", "Your role does not allow this")

		// A correction with an approval is refused; a return for the
		// correction of one attribute is recorded.
		e2e.Browse(t, tab, "back to the application", chromedp.Navigate(k.Base+"/console/applications/"+app), chromedp.WaitVisible(chromedp.CSS("#decide")))
		e2e.Browse(t, tab, "approve with a correction", chromedp.SendKeys(chromedp.CSS(`input[name="correction.first_name"]`), "Give the first name as on your ID"),
			chromedp.Click(chromedp.CSS("#s-approved")), chromedp.SendKeys(chromedp.CSS("#reason"), "Fine."),
			chromedp.Click(chromedp.CSS(`#decide button`)), chromedp.WaitVisible(chromedp.CSS("p.error")))
		if text := e2e.MainText(t, tab); !strings.Contains(text, "Ask for corrections only when returning the application") {
			t.Errorf("an approval with a correction:\n%s", text)
		}
		if v := e2e.Value(t, tab, "the correction kept", chromedp.Value(chromedp.CSS(`input[name="correction.first_name"]`))); v != "Give the first name as on your ID" {
			t.Errorf("the refused form lost the correction: %q", v)
		}
		reason := "The first name differs from the ID document."
		e2e.Browse(t, tab, "return for a correction", chromedp.Click(chromedp.CSS("#s-pending")), chromedp.SetValue(chromedp.CSS("#reason"), reason),
			chromedp.Click(chromedp.CSS(`#decide button`)), chromedp.WaitVisible(chromedp.CSS("p.notice")))
		e2e.CheckPage(t, tab, "application-returned", "returned to the client", "pending by "+analyst.Email, "first_name: Give the first name as on your ID", "asked: Give the first name")
		got := e.V1("GET", "/v1/kyc/"+app+"/", nil)
		if got.JSON["status"] != "pending" || e2e.Attr(got, "first_name")["correction"] != "Give the first name as on your ID" || e2e.Attr(got, "last_name")["correction"] != nil {
			t.Fatalf("the returned application through the STASIS API: %s", got.Body)
		}
		if res := e.Patch(app, map[string]any{"first_name": "Janet"}); res.Status != 200 {
			t.Fatalf("the correction: %d %s", res.Status, res.Body)
		}
		if res := e.V1("POST", "/v1/kyc/"+app+"/send-to-review/", nil); res.Status != 200 {
			t.Fatalf("sent to review again: %d %s", res.Status, res.Body)
		}

		// Approved, as the client sees it.
		e2e.Browse(t, tab, "the corrected application", chromedp.Navigate(k.Base+"/console/applications/"+app), chromedp.WaitVisible(chromedp.CSS("#decide")))
		if text := e2e.MainText(t, tab); !strings.Contains(text, "Janet") || !strings.Contains(text, "Held by\nyou") {
			t.Errorf("the corrected application:\n%s", text)
		}
		e2e.Browse(t, tab, "approve", chromedp.Click(chromedp.CSS("#s-approved")), chromedp.SendKeys(chromedp.CSS("#reason"), "The corrected name matches the ID."),
			chromedp.Click(chromedp.CSS(`#decide button`)), chromedp.WaitVisible(chromedp.CSS("p.notice")))
		e2e.CheckPage(t, tab, "application-approved", "The application is approved", "approved by "+analyst.Email)
		if text := e2e.MainText(t, tab); strings.Contains(text, "Record the decision") {
			t.Errorf("an approved application still offers a decision:\n%s", text)
		}
		if got := e.V1("GET", "/v1/kyc/"+app+"/", nil); got.Status != 200 || got.JSON["status"] != "approved" || e2e.Attr(got, "first_name")["value"] != "Janet" {
			t.Fatalf("the approved application through the STASIS API: %d %s", got.Status, got.Body)
		}
		e2e.Browse(t, tab, "the queue, emptied", chromedp.Navigate(k.Base+"/console/applications"), chromedp.WaitVisible(chromedp.CSS("ul.counts")))
		e2e.CheckPage(t, tab, "applications-empty", "0 in review", "No application to review here")

		// The audit trail names the person.
		wants := []struct{ actor, action, key, value string }{
			{"reviewer:" + analyst.ID, "kyc-application.viewed", "applicationId", app},
			{"reviewer:" + auditor.ID, "kyc-application.viewed", "reviewer", auditor.Email},
			{"reviewer:" + analyst.ID, "kyc-application.assigned", "assignee", analyst.ID},
			{"reviewer:" + analyst.ID, "kyc-application.reviewed", "status", "pending"},
			{"reviewer:" + analyst.ID, "kyc-application.reviewed", "status", "approved"},
			{"reviewer:" + analyst.ID, "kyc-application.reviewed", "reviewer", analyst.Email},
		}
		var auditRes *e2e.Response
		auditTok := k.Token(t, officer, "") // one token for every poll
		e2e.WaitUntil(t, "the reviewers' audit entries", func() bool {
			auditRes = k.Call(t, "GET", "/admin/audit?limit=1000", auditTok, "", nil)
			return !slices.ContainsFunc(wants, func(w struct{ actor, action, key, value string }) bool {
				return !e2e.HasAuditEntry(auditRes, w.actor, w.action, w.key, w.value)
			})
		})
		if e2e.HasAuditEntry(auditRes, "reviewer:"+auditor.ID, "kyc-application.reviewed", "", "") {
			t.Error("the auditor's refused decision is on the audit trail as a review")
		}

		// Another tenant's reviewer sees none of it.
		other := k.NewTenant(t, "queues-other-"+db.Name)
		stranger := k.NewReviewer(t, other.ID, "stranger-"+db.Name+"@queues.example", "supervisor")
		sc := e2e.NewConsoleClient(t, k.Base, stranger.Email, stranger.Password, stranger.Code(t))
		if res, body := sc.Get(t, "/console/applications/"+app); res.StatusCode != 404 || strings.Contains(body, "Janet") {
			t.Errorf("another tenant's application: %d", res.StatusCode)
		}
		if res, _ := sc.Post(t, "/console/applications/"+app+"/take", nil, k.Base); res.StatusCode != 404 {
			t.Errorf("another tenant's application taken: %d", res.StatusCode)
		}
		if res, _ := sc.Post(t, "/console/applications/"+app+"/decision", url.Values{"status": {"rejected"}, "reason": {"no"}}, k.Base); res.StatusCode != 404 {
			t.Errorf("another tenant's application decided: %d", res.StatusCode)
		}
		for path, want := range map[string]string{"/console/checks": "<strong>0</strong> failed", "/console/ingestions": "<strong>0</strong> failed",
			"/console/webhooks": "<strong>0</strong> failing", "/console/applications": "<strong>0</strong> in review"} {
			if res, body := sc.Get(t, path); res.StatusCode != 200 || !strings.Contains(body, want) || strings.Contains(body, e.Client[:8]) {
				t.Errorf("another tenant's %s: %d\n%s", path, res.StatusCode, body)
			}
		}
		if res, _ := sc.Get(t, "/console/checks?after=not-a-uuid"); res.StatusCode != 422 {
			t.Errorf("a malformed cursor: %d", res.StatusCode)
		}
	})
}

// TestConsoleApplicationFourEyes: under four eyes a supervisor's approval
// of an application is a proposal the application page and the queue show;
// the same person deciding again is refused on the page; an analyst is not
// offered the second approval and one posted anyway is refused; a second
// supervisor's rejection disputes it (the application stays in review); a
// new proposal confirmed by the second supervisor approves the
// application, both reviewers in its reviews.
func TestConsoleApplicationFourEyes(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e, k := e2e.NewLevelsEnv(t, db)
		if out, err := k.CLI(t, "tenant", "settings", "--tenant", k.Tenant.ID, "--four-eyes", "on"); err != nil {
			t.Fatalf("four eyes: %q %v", out, err)
		}
		e.Client = e2e.CreateUser(t, k.Proc, k.Tok, "client@apps-four-eyes.example")
		app := e2e.ReviewableApplication(t, e)
		first := k.NewReviewer(t, k.Tenant.ID, "first-"+db.Name+"@apps-four-eyes.example", "supervisor")
		analyst := k.NewReviewer(t, k.Tenant.ID, "analyst-"+db.Name+"@apps-four-eyes.example", "analyst")
		second := k.NewReviewer(t, k.Tenant.ID, "second-"+db.Name+"@apps-four-eyes.example", "supervisor")
		decide := func(tab context.Context, status, reason, wait string) {
			t.Helper()
			e2e.Browse(t, tab, "decide "+status, chromedp.Navigate(k.Base+"/console/applications/"+app), chromedp.WaitVisible(chromedp.CSS("#reason")),
				chromedp.Click(chromedp.CSS("#s-"+status)), chromedp.SendKeys(chromedp.CSS("#reason"), reason),
				chromedp.Click(chromedp.CSS(`#decide button`)), chromedp.WaitVisible(chromedp.CSS(wait)))
		}
		inReview := func(what string) {
			t.Helper()
			if got := e.V1("GET", "/v1/kyc/"+app+"/", nil); got.JSON["status"] != "in_review" {
				t.Fatalf("the application %s: %s", what, got.Body)
			}
		}

		tab := e2e.NewTab(t)
		e2e.SignIn(t, tab, k.Base, first.Email, first.Password, first.Code)
		decide(tab, "approved", "Every answer matches the documents.", "p.notice")
		e2e.CheckPage(t, tab, "application-proposed", "awaits a second reviewer's approval", "Four eyes\non", "Awaiting a second approval",
			first.Email+" proposed approved", "Every answer matches the documents.", "Second approval")
		inReview("after the proposal")
		decide(tab, "approved", "Still fine.", "p.error")
		e2e.CheckPage(t, tab, "application-same-reviewer", "a second, different reviewer must confirm", "Awaiting a second approval")
		e2e.Browse(t, tab, "the queue", chromedp.Navigate(k.Base+"/console/applications"), chromedp.WaitVisible(chromedp.CSS("table")))
		if text := e2e.MainText(t, tab); !strings.Contains(text, "awaiting second approval") {
			t.Errorf("the queue does not say the application awaits its second approval:\n%s", text)
		}

		atab := e2e.NewTab(t)
		e2e.SignIn(t, atab, k.Base, analyst.Email, analyst.Password, analyst.Code)
		e2e.Browse(t, atab, "the analyst opens the application", chromedp.Navigate(k.Base+"/console/applications/"+app), chromedp.WaitVisible(chromedp.CSS("section.pending")))
		if text := e2e.MainText(t, atab); strings.Contains(text, "Record the decision") {
			t.Errorf("an analyst is offered the second approval:\n%s", text)
		}
		e2e.SubmitForm(t, atab, "/console/applications/"+app+"/decision", map[string]string{"status": "approved", "reason": "Agreed."})
		if text := e2e.MainText(t, atab); !strings.Contains(text, "a supervisor gives the second approval") {
			t.Errorf("an analyst's second approval:\n%s", text)
		}
		inReview("after the refusals")

		stab := e2e.NewTab(t)
		e2e.SignIn(t, stab, k.Base, second.Email, second.Password, second.Code)
		decide(stab, "rejected", "The address proof is missing.", "p.notice")
		e2e.CheckPage(t, stab, "application-disputed", "You disputed the proposal", "rejected by "+second.Email+" (disputed)", "approved by "+first.Email+" (proposed)")
		if text := e2e.MainText(t, stab); strings.Contains(text, "Awaiting a second approval") {
			t.Errorf("the disputed proposal still awaits:\n%s", text)
		}
		inReview("after the dispute")
		decide(tab, "approved", "The address proof is not required at this level.", "p.notice")
		decide(stab, "approved", "Agreed: not required at this level.", "p.notice")
		e2e.CheckPage(t, stab, "application-confirmed", "The application is approved", "approved by "+second.Email+" (confirmed)")
		if got := e.V1("GET", "/v1/kyc/"+app+"/", nil); got.JSON["status"] != "approved" {
			t.Errorf("the confirmed application through the STASIS API: %s", got.Body)
		}
	})
}
