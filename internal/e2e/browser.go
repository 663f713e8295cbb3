package e2e

import (
	"bytes"
	"context"
	_ "embed"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The browser tests drive Debian's Chromium through chromedp: one browser
// per test binary, started at the first test that needs it; each test works
// in tabs of a browser context of its own (its own cookies), so tests run
// in parallel without seeing each other's sessions.

// chromiumPath is Debian's Chromium (.ci/run installs it when missing).
const chromiumPath = "/usr/bin/chromium"

//go:embed testdata/axe/axe.min.js
var axeSource string

var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	dir    string
	err    error
}

// closeBrowser stops the shared browser (Main, after the tests).
func closeBrowser() {
	if browser.cancel != nil {
		browser.cancel()
		os.RemoveAll(browser.dir)
	}
}

// NewTab opens a tab in a fresh browser context (no cookies shared with
// any other test's tabs); it closes when the test ends.
func NewTab(t *testing.T) context.Context {
	t.Helper()
	browser.once.Do(func() {
		if _, err := os.Stat(chromiumPath); err != nil {
			browser.err = err
			return
		}
		if browser.dir, browser.err = os.MkdirTemp("", "kycd-chromium-"); browser.err != nil {
			return
		}
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(chromiumPath), chromedp.UserDataDir(browser.dir),
			chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
			chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.WindowSize(1280, 900),
		}
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelBrowser := chromedp.NewContext(alloc)
		browser.ctx = ctx
		browser.cancel = func() { cancelBrowser(); cancelAlloc() }
		browser.err = chromedp.Do(ctx) // starts the browser
	})
	if browser.err != nil {
		if _, err := exec.LookPath("chromium"); err != nil && os.Getenv("CI") == "" {
			t.Skipf("no Chromium here (apt-get install -y chromium): %v", browser.err)
		}
		t.Fatalf("start Chromium: %v", browser.err)
	}
	tab, cancelTab := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	ctx, cancel := context.WithTimeout(tab, 8*time.Minute)
	t.Cleanup(func() { cancel(); cancelTab() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return ctx
}

// stepTimeout bounds one step of a browser test: generous, for -race on a
// busy machine.
const stepTimeout = 2 * time.Minute

// Browse runs browser actions in order, failing the test on an error.
func Browse(t *testing.T, tab context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, pageState(tab))
	}
}

// pageState says where a tab is and what it shows, for a failure's message.
func pageState(tab context.Context) string {
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState + '\n' + document.documentElement.outerHTML.slice(0, 3000)`))
	if err != nil {
		text = err.Error()
	}
	return "at " + loc + ":\n" + text
}

// Value runs one browser action that gives a value.
func Value[T any](t *testing.T, tab context.Context, what string, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		t.Fatalf("%s: %v\n%s", what, err, pageState(tab))
	}
	return v
}

// MainText is the text of the page's main region.
func MainText(t *testing.T, tab context.Context) string {
	t.Helper()
	return Value(t, tab, "read the page", chromedp.Text(chromedp.CSS("main")))
}

// CheckPage checks the page the tab shows: its main region holds each
// wanted text, axe-core finds no serious or critical accessibility
// violation, and a screenshot (saved under the test's temp folder) is a
// real picture, not a blank one.
func CheckPage(t *testing.T, tab context.Context, name string, want ...string) {
	t.Helper()
	text := MainText(t, tab)
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("page %s lacks %q:\n%s", name, w, text)
		}
	}
	Value(t, tab, "load axe-core", chromedp.Evaluate[bool](axeSource+";\ntypeof axe === 'object'"))
	type axeResult struct {
		Passes     int      `json:"passes"`
		Violations []string `json:"violations"`
	}
	res := Value(t, tab, "axe on "+name, chromedp.Evaluate[axeResult](`axe.run(document).then(r => ({passes: r.passes.length, violations: r.violations
			.filter(v => v.impact === 'serious' || v.impact === 'critical')
			.map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', '))}))`, chromedp.EvalAwaitPromise))
	if res.Passes < 10 {
		t.Errorf("page %s: axe-core passed only %d rules: did it run?", name, res.Passes)
	}
	for _, v := range res.Violations {
		t.Errorf("page %s: accessibility: %s", name, v)
	}
	shot := Value(t, tab, "screenshot of "+name, pageShot)
	path := filepath.Join(t.TempDir(), name+".png")
	if err := os.WriteFile(path, shot, 0o600); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot of %s is no PNG: %v", name, err)
	}
	if colours := distinctColours(img, 16*shotScale); colours < 8 {
		t.Errorf("screenshot of %s (%s) looks blank: %d colours", name, path, colours)
	}
}

// shotScale is the scale of checkPage's screenshots: the whole page, at
// half its size in each direction. Chromium encodes a quarter of the
// pixels and the race-instrumented test decodes a quarter (a full-size
// PNG took 0.8-1.0 s of a check, more than axe-core's run); distinctColours
// samples the same points of the page as at full size.
const shotScale = 0.5

// pageShot is a PNG screenshot of the whole page (beyond the viewport)
// at shotScale.
var pageShot chromedp.Action[[]byte] = func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
	m, err := cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
	if err != nil {
		return nil, err
	}
	size := m.CSSContentSize
	r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Format: page.CaptureScreenshotFormatPng, CaptureBeyondViewport: ptr(true), FromSurface: ptr(true), OptimizeForSpeed: ptr(true),
		Clip: &page.Viewport{Width: size.Width, Height: size.Height, Scale: shotScale},
	})
	if err != nil {
		return nil, err
	}
	return r.Data, nil
}

func ptr[T any](v T) *T { return &v }

// distinctColours counts the colours of a sample of an image's pixels
// (every step-th pixel of every step-th row).
func distinctColours(img image.Image, step int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += step {
		for x := b.Min.X; x < b.Max.X; x += step {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	return len(seen)
}
