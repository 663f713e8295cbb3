package main

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kycd/kycd/sqlstore/storetest"
)

// reviewableApplication makes a client's application for the entry level
// through the /v1 API (personal information, a phone signed with the
// sandbox's code, the legal documents) and sends it to review.
func reviewableApplication(t *testing.T, e *levelsEnv) string {
	t.Helper()
	info := e.v1("GET", "/v1/clients/kyc-level-info/", nil)
	avail, _ := info.JSON["available_levels_for_upgrade"].([]any)
	if info.Status != 200 || len(avail) == 0 {
		t.Fatalf("level info: %d %s", info.Status, info.Body)
	}
	res := e.v1("POST", "/v1/clients/kyc-level-info/", map[string]any{"kyc_level_uuid": avail[0].(map[string]any)["uuid"]})
	if res.Status != 201 {
		t.Fatalf("create an application: %d %s", res.Status, res.Body)
	}
	app := res.JSON["uuid"].(string)
	if res := e.patch(app, map[string]any{"first_name": "Jane", "last_name": "Queuedoe", "birth_date": "1985-02-03", "citizenship": "GB",
		"email": "jane@queues.example"}); res.Status != 200 {
		t.Fatalf("personal information: %d %s", res.Status, res.Body)
	}
	if res := e.patch(app, map[string]any{"phone": "+447911123456"}, "sms_sign_code", "111111"); res.Status != 200 {
		t.Fatalf("signed phone: %d %s", res.Status, res.Body)
	}
	legal := func(key string) string {
		docs := e.call(t, "GET", "/v1/legal_documents/?"+url.Values{"legal_entity_uuid": {e.tn.ID}, "client_type": {"individual"}, "key": {key}}.Encode(), e.tok, "", nil)
		results, _ := docs.JSON["results"].([]any)
		if docs.Status != 200 || len(results) == 0 {
			t.Fatalf("legal documents: %d %s", docs.Status, docs.Body)
		}
		return results[0].(map[string]any)["uuid"].(string)
	}
	if res := e.patch(app, map[string]any{"terms_and_conditions": legal("terms_and_conditions"), "privacy_policy": legal("privacy_policy")}); res.Status != 200 {
		t.Fatalf("legal documents: %d %s", res.Status, res.Body)
	}
	if res := e.v1("POST", "/v1/kyc/"+app+"/send-to-review/", nil); res.Status != 200 || res.JSON["status"] != "in_review" {
		t.Fatalf("send to review: %d %s", res.Status, res.Body)
	}
	return app
}

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
	forEachDB(t, func(t *testing.T, db storetest.Database) {
		e, k := newLevelsEnv(t, db)
		e.client = createUser(t, k.kycdProc, k.tok, "client@queues.example")
		officer := k.newClient(t, k.tn.ID, "queues-officer", "admin.audit:read")

		// What each queue holds, through the APIs.
		app := reviewableApplication(t, e)
		checker := &checksEnv{kycdProc: k.kycdProc, t: t, tn: k.tn, tok: k.tok}
		unfit := checker.decided(e.client, map[string]any{"type": "INSTRUMENT_FIT", "check_confirmed_at": time.Now().UTC().Format(time.RFC3339),
			"instrument_suitability": map[string]any{"suitability": false}})
		if unfit.JSON["status"] != "FAILED" {
			t.Fatalf("the unsuitable check: %s", unfit.Body)
		}
		failed := e.ingest(e.client, "sumsub", map[string]any{"applicantId": "000000000000000000000000", "processes": []string{"profile"}})
		wantResults(t, "unknown applicant", failed, map[string]string{"profile": "failed:sumsub_client_error"})
		hook := newReceiver(t)
		hook.script("", slices.Repeat([]int{500}, 50)...)
		ep := k.call(t, "POST", "/core/webhooks/endpoints", k.tok, "", map[string]any{"url": hook.URL + "/hooks?token=s3cret", "eventTypes": []string{"core.user.created"}})
		if ep.Status != 201 {
			t.Fatalf("create endpoint: %d %s", ep.Status, ep.Body)
		}
		endpointID := ep.get("endpoint.id").(string)
		createUser(t, k.kycdProc, k.tok, "hooked@queues.example")
		waitUntil(t, "a failed delivery", func() bool {
			hook.mu.Lock()
			defer hook.mu.Unlock()
			return hook.attempts > 0
		})

		analyst := k.newReviewer(t, k.tn.ID, "analyst-"+db.Name+"@queues.example", "analyst")
		auditor := k.newReviewer(t, k.tn.ID, "auditor-"+db.Name+"@queues.example", "auditor")
		tab := newTab(t)
		signIn(t, tab, k.base, analyst.Email, analyst.Password, analyst.code)

		// The failing endpoint is listed once its attempt is recorded.
		browse(t, tab, "the failing webhooks", chromedp.Navigate(k.base+"/console/webhooks"), chromedp.WaitVisible(chromedp.CSS("nav.queues")))
		waitUntil(t, "the failing endpoint in its queue", func() bool {
			if strings.Contains(mainText(t, tab), "HTTP 500") {
				return true
			}
			browse(t, tab, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("nav.queues")))
			return false
		})
		checkPage(t, tab, "webhooks", "Failing webhook endpoints", "1 failing", "1 still tried", endpointID[:8], strings.TrimPrefix(hook.URL, "http://")+"/hooks",
			"core.user.created, HTTP 500", "tried again")
		if text := mainText(t, tab); strings.Contains(text, "s3cret") || strings.Contains(text, "hooked@queues.example") {
			t.Errorf("the failing endpoint's page shows a token or a payload:\n%s", text)
		}
		nav := value(t, tab, "the queues' navigation", chromedp.Text(chromedp.CSS("nav.queues")))
		for _, want := range []string{"Screening cases 0", "Applications to review 1", "Failed checks 1", "Failed ingestions 1", "Failing webhooks 1"} {
			if !strings.Contains(strings.Join(strings.Fields(nav), " "), want) {
				t.Errorf("the navigation lacks %q: %s", want, nav)
			}
		}

		browse(t, tab, "the failed checks", chromedp.Click(chromedp.CSS(`nav.queues a[href="/console/checks"]`)), chromedp.WaitVisible(chromedp.CSS("table")))
		checkPage(t, tab, "checks", "Failed checks", "1 failed", "1 INSTRUMENT_FIT", "User "+e.client[:8], "instrument_not_suitable", "Failed checks, oldest first")
		browse(t, tab, "the failed POR checks", chromedp.Click(chromedp.CSS(`nav.filters a[href="/console/checks?type=POR"]`)), chromedp.WaitVisible(chromedp.CSS(`a[aria-current][href$="POR"]`)))
		if text := mainText(t, tab); !strings.Contains(text, "No failed check here") {
			t.Errorf("the failed POR checks:\n%s", text)
		}
		browse(t, tab, "the failed ingestions", chromedp.Click(chromedp.CSS(`nav.queues a[href="/console/ingestions"]`)), chromedp.WaitVisible(chromedp.CSS("table")))
		checkPage(t, tab, "ingestions", "Failed ingestions", "1 sumsub", "0 veriff", failed.get("ingestion.id").(string)[:8], "profile: sumsub_client_error at fetch-provider-data")

		// The review queue, the application, the take.
		browse(t, tab, "the applications", chromedp.Click(chromedp.CSS(`nav.queues a[href="/console/applications"]`)), chromedp.WaitVisible(chromedp.CSS("table")))
		checkPage(t, tab, "applications", "Applications to review", "1 in review", "1 not taken", "0 yours", "Application "+app[:8], "Basic")
		browse(t, tab, "open the application", chromedp.Click(chromedp.CSS(`a[href="/console/applications/`+app+`"]`)), chromedp.WaitVisible(chromedp.CSS("#decide")))
		if n := value(t, tab, "the page's size", chromedp.Evaluate[int](`document.documentElement.outerHTML.length`)); n > 100<<10 {
			t.Errorf("the application page weighs %d bytes", n)
		} else {
			t.Logf("the application page: %d bytes", n)
		}
		checkPage(t, tab, "application", "Jane", "Queuedoe", "1985-02-03", "+447911123456", "signed by", "Record the decision", "Take this application", "in_review")
		browse(t, tab, "take the application", chromedp.Click(chromedp.CSS(`form[action$="/take"] button`)), chromedp.WaitVisible(chromedp.CSS("p.notice")))
		if text := mainText(t, tab); !strings.Contains(text, "The application is yours") || !strings.Contains(text, "Held by\nyou") {
			t.Errorf("after taking the application:\n%s", text)
		}
		browse(t, tab, "the queue, taken", chromedp.Navigate(k.base+"/console/applications?assignee=me"), chromedp.WaitVisible(chromedp.CSS("table")))
		if text := mainText(t, tab); !strings.Contains(text, "1 yours") || !strings.Contains(text, "0 not taken") || !strings.Contains(text, "Application "+app[:8]) {
			t.Errorf("the analyst's applications:\n%s", text)
		}

		// The auditor reads, without a form; a decision posted anyway is
		// refused.
		atab := newTab(t)
		signIn(t, atab, k.base, auditor.Email, auditor.Password, auditor.code)
		browse(t, atab, "the auditor opens the application", chromedp.Navigate(k.base+"/console/applications/"+app), chromedp.WaitVisible(chromedp.CSS("table.attributes")))
		if text := mainText(t, atab); strings.Contains(text, "Record the decision") || strings.Contains(text, "Take this application") || !strings.Contains(text, analyst.Email) ||
			!strings.Contains(text, "Queuedoe") {
			t.Errorf("the auditor's application page:\n%s", text)
		}
		if n := value(t, atab, "correction fields", chromedp.Evaluate[int](`document.querySelectorAll('input[name^="correction."]').length`)); n != 0 {
			t.Errorf("the auditor is offered %d correction fields", n)
		}
		submitForm(t, atab, "/console/applications/"+app+"/decision", map[string]string{"status": "approved", "reason": "Looks fine to me."})
		checkPage(t, atab, "application-forbidden", "Your role does not allow this")

		// A correction with an approval is refused; a return for the
		// correction of one attribute is recorded.
		browse(t, tab, "back to the application", chromedp.Navigate(k.base+"/console/applications/"+app), chromedp.WaitVisible(chromedp.CSS("#decide")))
		browse(t, tab, "approve with a correction", chromedp.SendKeys(chromedp.CSS(`input[name="correction.first_name"]`), "Give the first name as on your ID"),
			chromedp.Click(chromedp.CSS("#s-approved")), chromedp.SendKeys(chromedp.CSS("#reason"), "Fine."),
			chromedp.Click(chromedp.CSS(`#decide button`)), chromedp.WaitVisible(chromedp.CSS("p.error")))
		if text := mainText(t, tab); !strings.Contains(text, "Ask for corrections only when returning the application") {
			t.Errorf("an approval with a correction:\n%s", text)
		}
		if v := value(t, tab, "the correction kept", chromedp.Value(chromedp.CSS(`input[name="correction.first_name"]`))); v != "Give the first name as on your ID" {
			t.Errorf("the refused form lost the correction: %q", v)
		}
		reason := "The first name differs from the ID document."
		browse(t, tab, "return for a correction", chromedp.Click(chromedp.CSS("#s-pending")), chromedp.SetValue(chromedp.CSS("#reason"), reason),
			chromedp.Click(chromedp.CSS(`#decide button`)), chromedp.WaitVisible(chromedp.CSS("p.notice")))
		checkPage(t, tab, "application-returned", "returned to the client", "pending by "+analyst.Email, "first_name: Give the first name as on your ID", "asked: Give the first name")
		got := e.v1("GET", "/v1/kyc/"+app+"/", nil)
		if got.JSON["status"] != "pending" || attr(got, "first_name")["correction"] != "Give the first name as on your ID" || attr(got, "last_name")["correction"] != nil {
			t.Fatalf("the returned application through the STASIS API: %s", got.Body)
		}
		if res := e.patch(app, map[string]any{"first_name": "Janet"}); res.Status != 200 {
			t.Fatalf("the correction: %d %s", res.Status, res.Body)
		}
		if res := e.v1("POST", "/v1/kyc/"+app+"/send-to-review/", nil); res.Status != 200 {
			t.Fatalf("sent to review again: %d %s", res.Status, res.Body)
		}

		// Approved, as the client sees it.
		browse(t, tab, "the corrected application", chromedp.Navigate(k.base+"/console/applications/"+app), chromedp.WaitVisible(chromedp.CSS("#decide")))
		if text := mainText(t, tab); !strings.Contains(text, "Janet") || !strings.Contains(text, "Held by\nyou") {
			t.Errorf("the corrected application:\n%s", text)
		}
		browse(t, tab, "approve", chromedp.Click(chromedp.CSS("#s-approved")), chromedp.SendKeys(chromedp.CSS("#reason"), "The corrected name matches the ID."),
			chromedp.Click(chromedp.CSS(`#decide button`)), chromedp.WaitVisible(chromedp.CSS("p.notice")))
		checkPage(t, tab, "application-approved", "The application is approved", "approved by "+analyst.Email)
		if text := mainText(t, tab); strings.Contains(text, "Record the decision") {
			t.Errorf("an approved application still offers a decision:\n%s", text)
		}
		if got := e.v1("GET", "/v1/kyc/"+app+"/", nil); got.Status != 200 || got.JSON["status"] != "approved" || attr(got, "first_name")["value"] != "Janet" {
			t.Fatalf("the approved application through the STASIS API: %d %s", got.Status, got.Body)
		}
		browse(t, tab, "the queue, emptied", chromedp.Navigate(k.base+"/console/applications"), chromedp.WaitVisible(chromedp.CSS("ul.counts")))
		checkPage(t, tab, "applications-empty", "0 in review", "No application to review here")

		// The audit trail names the person.
		wants := []struct{ actor, action, key, value string }{
			{"reviewer:" + analyst.ID, "kyc-application.viewed", "applicationId", app},
			{"reviewer:" + auditor.ID, "kyc-application.viewed", "reviewer", auditor.Email},
			{"reviewer:" + analyst.ID, "kyc-application.assigned", "assignee", analyst.ID},
			{"reviewer:" + analyst.ID, "kyc-application.reviewed", "status", "pending"},
			{"reviewer:" + analyst.ID, "kyc-application.reviewed", "status", "approved"},
			{"reviewer:" + analyst.ID, "kyc-application.reviewed", "reviewer", analyst.Email},
		}
		var auditRes *response
		auditTok := k.token(t, officer, "") // one token for every poll
		waitUntil(t, "the reviewers' audit entries", func() bool {
			auditRes = k.call(t, "GET", "/admin/audit?limit=1000", auditTok, "", nil)
			return !slices.ContainsFunc(wants, func(w struct{ actor, action, key, value string }) bool {
				return !hasAuditEntry(auditRes, w.actor, w.action, w.key, w.value)
			})
		})
		if hasAuditEntry(auditRes, "reviewer:"+auditor.ID, "kyc-application.reviewed", "", "") {
			t.Error("the auditor's refused decision is on the audit trail as a review")
		}

		// Another tenant's reviewer sees none of it.
		other := k.newTenant(t, "queues-other-"+db.Name)
		stranger := k.newReviewer(t, other.ID, "stranger-"+db.Name+"@queues.example", "supervisor")
		sc := newConsoleClient(t, k.base, stranger.Email, stranger.Password, stranger.code(t))
		if res, body := sc.get(t, "/console/applications/"+app); res.StatusCode != 404 || strings.Contains(body, "Janet") {
			t.Errorf("another tenant's application: %d", res.StatusCode)
		}
		if res, _ := sc.post(t, "/console/applications/"+app+"/take", nil, k.base); res.StatusCode != 404 {
			t.Errorf("another tenant's application taken: %d", res.StatusCode)
		}
		if res, _ := sc.post(t, "/console/applications/"+app+"/decision", url.Values{"status": {"rejected"}, "reason": {"no"}}, k.base); res.StatusCode != 404 {
			t.Errorf("another tenant's application decided: %d", res.StatusCode)
		}
		for path, want := range map[string]string{"/console/checks": "<strong>0</strong> failed", "/console/ingestions": "<strong>0</strong> failed",
			"/console/webhooks": "<strong>0</strong> failing", "/console/applications": "<strong>0</strong> in review"} {
			if res, body := sc.get(t, path); res.StatusCode != 200 || !strings.Contains(body, want) || strings.Contains(body, e.client[:8]) {
				t.Errorf("another tenant's %s: %d\n%s", path, res.StatusCode, body)
			}
		}
		if res, _ := sc.get(t, "/console/checks?after=not-a-uuid"); res.StatusCode != 422 {
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
	forEachDB(t, func(t *testing.T, db storetest.Database) {
		e, k := newLevelsEnv(t, db)
		if out, err := k.cli(t, "tenant", "settings", "--tenant", k.tn.ID, "--four-eyes", "on"); err != nil {
			t.Fatalf("four eyes: %q %v", out, err)
		}
		e.client = createUser(t, k.kycdProc, k.tok, "client@apps-four-eyes.example")
		app := reviewableApplication(t, e)
		first := k.newReviewer(t, k.tn.ID, "first-"+db.Name+"@apps-four-eyes.example", "supervisor")
		analyst := k.newReviewer(t, k.tn.ID, "analyst-"+db.Name+"@apps-four-eyes.example", "analyst")
		second := k.newReviewer(t, k.tn.ID, "second-"+db.Name+"@apps-four-eyes.example", "supervisor")
		decide := func(tab context.Context, status, reason, wait string) {
			t.Helper()
			browse(t, tab, "decide "+status, chromedp.Navigate(k.base+"/console/applications/"+app), chromedp.WaitVisible(chromedp.CSS("#reason")),
				chromedp.Click(chromedp.CSS("#s-"+status)), chromedp.SendKeys(chromedp.CSS("#reason"), reason),
				chromedp.Click(chromedp.CSS(`#decide button`)), chromedp.WaitVisible(chromedp.CSS(wait)))
		}
		inReview := func(what string) {
			t.Helper()
			if got := e.v1("GET", "/v1/kyc/"+app+"/", nil); got.JSON["status"] != "in_review" {
				t.Fatalf("the application %s: %s", what, got.Body)
			}
		}

		tab := newTab(t)
		signIn(t, tab, k.base, first.Email, first.Password, first.code)
		decide(tab, "approved", "Every answer matches the documents.", "p.notice")
		checkPage(t, tab, "application-proposed", "awaits a second reviewer's approval", "Four eyes\non", "Awaiting a second approval",
			first.Email+" proposed approved", "Every answer matches the documents.", "Second approval")
		inReview("after the proposal")
		decide(tab, "approved", "Still fine.", "p.error")
		checkPage(t, tab, "application-same-reviewer", "a second, different reviewer must confirm", "Awaiting a second approval")
		browse(t, tab, "the queue", chromedp.Navigate(k.base+"/console/applications"), chromedp.WaitVisible(chromedp.CSS("table")))
		if text := mainText(t, tab); !strings.Contains(text, "awaiting second approval") {
			t.Errorf("the queue does not say the application awaits its second approval:\n%s", text)
		}

		atab := newTab(t)
		signIn(t, atab, k.base, analyst.Email, analyst.Password, analyst.code)
		browse(t, atab, "the analyst opens the application", chromedp.Navigate(k.base+"/console/applications/"+app), chromedp.WaitVisible(chromedp.CSS("section.pending")))
		if text := mainText(t, atab); strings.Contains(text, "Record the decision") {
			t.Errorf("an analyst is offered the second approval:\n%s", text)
		}
		submitForm(t, atab, "/console/applications/"+app+"/decision", map[string]string{"status": "approved", "reason": "Agreed."})
		if text := mainText(t, atab); !strings.Contains(text, "a supervisor gives the second approval") {
			t.Errorf("an analyst's second approval:\n%s", text)
		}
		inReview("after the refusals")

		stab := newTab(t)
		signIn(t, stab, k.base, second.Email, second.Password, second.code)
		decide(stab, "rejected", "The address proof is missing.", "p.notice")
		checkPage(t, stab, "application-disputed", "You disputed the proposal", "rejected by "+second.Email+" (disputed)", "approved by "+first.Email+" (proposed)")
		if text := mainText(t, stab); strings.Contains(text, "Awaiting a second approval") {
			t.Errorf("the disputed proposal still awaits:\n%s", text)
		}
		inReview("after the dispute")
		decide(tab, "approved", "The address proof is not required at this level.", "p.notice")
		decide(stab, "approved", "Agreed: not required at this level.", "p.notice")
		checkPage(t, stab, "application-confirmed", "The application is approved", "approved by "+second.Email+" (confirmed)")
		if got := e.v1("GET", "/v1/kyc/"+app+"/", nil); got.JSON["status"] != "approved" {
			t.Errorf("the confirmed application through the STASIS API: %s", got.Body)
		}
	})
}
