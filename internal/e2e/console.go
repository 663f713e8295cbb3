package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// ReviewerCreds is a reviewer as `kycd reviewer create --json` prints it.
type ReviewerCreds struct {
	ID         string `json:"id"`
	Email      string `json:"email"`
	Password   string `json:"password"`
	TOTPSecret string `json:"totp_secret"`
}

// NewReviewer creates a reviewer of a tenant through the command line.
func (k *Proc) NewReviewer(t *testing.T, tenantID, email, role string) ReviewerCreds {
	t.Helper()
	var r ReviewerCreds
	k.CLIJSON(t, &r, "reviewer", "create", "--tenant", tenantID, "--email", email, "--role", role)
	if r.ID == "" || r.Password == "" || r.TOTPSecret == "" {
		t.Fatalf("reviewer create printed %+v", r)
	}
	return r
}

// Code is the reviewer's TOTP code now.
func (r ReviewerCreds) Code(t *testing.T) string {
	t.Helper()
	c, err := totp.GenerateCode(r.TOTPSecret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// SignIn signs a reviewer in in the browser (code nil when no TOTP code
// is needed; it is read just before it is typed) and waits for the
// screening queue.
func SignIn(t *testing.T, tab context.Context, base, email, password string, code func(*testing.T) string) {
	t.Helper()
	Browse(t, tab, "open the sign-in page", chromedp.Navigate(base+"/console/login"), chromedp.WaitVisible(chromedp.CSS("#email")))
	steps := []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), password)}
	if code != nil {
		steps = append(steps, chromedp.SendKeys(chromedp.CSS("#code"), code(t)))
	}
	steps = append(steps, chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("ul.counts")))
	Browse(t, tab, "sign in as "+email, steps...)
}

// SubmitForm posts a form from the page the tab shows, as the page's own
// form would (the browser adds Origin and Sec-Fetch-Site), and waits for
// the page that answers to show an error.
func SubmitForm(t *testing.T, tab context.Context, action string, fields map[string]string) {
	t.Helper()
	js := `(() => { const f = document.createElement('form'); f.method = 'post'; f.action = ` + jsString(action) + `;`
	for k, v := range fields {
		js += `{ const i = document.createElement('input'); i.type = 'hidden'; i.name = ` + jsString(k) + `; i.value = ` + jsString(v) + `; f.appendChild(i); }`
	}
	js += `document.body.appendChild(f); f.submit(); return true; })()`
	Value(t, tab, "submit "+action, chromedp.Evaluate[bool](js))
	Browse(t, tab, "the answer to "+action, chromedp.WaitVisible(chromedp.CSS("p.error")))
}

func jsString(s string) string {
	return `'` + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + `'`
}

// HasAuditEntry reports whether an audit page holds an entry of an actor
// and action whose details hold key: value (any details when key is "").
func HasAuditEntry(page *Response, actor, action, key, value string) bool {
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

// ConsoleClient is a reviewer's session outside the browser, for what a
// browser would never send.
type ConsoleClient struct {
	Base string
	HTTP *http.Client
}

// NewConsoleClient signs a reviewer in to the console without a browser (email,
// password and authenticator code in one form) and returns a client holding
// the session.
func NewConsoleClient(t *testing.T, base, email, password, code string) *ConsoleClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &ConsoleClient{Base: base, HTTP: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	res, body := c.Post(t, "/console/login", url.Values{"email": {email}, "password": {password}, "code": {code}}, base)
	if res.StatusCode != 200 || !strings.Contains(body, "Screening queue") {
		t.Fatalf("sign in %s: %d %s", email, res.StatusCode, body)
	}
	return c
}

// Post sends a form with an Origin header (none when origin is "").
func (c *ConsoleClient) Post(t *testing.T, path string, form url.Values, origin string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("POST", c.Base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return c.Do(t, req)
}

// Get fetches a console page and returns the response and its body.
func (c *ConsoleClient) Get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", c.Base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Do(t, req)
}

// Do sends a request with the session and returns the response and its body.
func (c *ConsoleClient) Do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

// RowsOf counts the rows of an audit page's entries table.
func RowsOf(body string) int {
	_, table, ok := strings.Cut(body, "<caption>Entries, newest first</caption>")
	if !ok {
		return 0
	}
	table, _, _ = strings.Cut(table, "</table>")
	return strings.Count(table, "<tr") - 1 // the header's
}

// NextCode is the reviewer's TOTP code of the next time step: good for a
// second sign-in within the same 30 seconds (a code is accepted once).
func (r ReviewerCreds) NextCode(t *testing.T) string {
	t.Helper()
	c, err := totp.GenerateCode(r.TOTPSecret, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
