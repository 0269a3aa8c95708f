// Package browsertest drives the console in a real headless Chromium for end-to-end tests.
//
// The tests of a test binary share one browser, started when the first of them asks for a tab
// (New) and closed when the last tab open is closed, so that no process and no profile directory
// outlives the tests; tests that run at the same time share it. Each test gets a tab in a browser
// context of its own: its cookies (the session, the language) are its own. The browser is
// $DISPATCH_CHROMIUM, else /usr/bin/chromium, run headless with --no-sandbox (the tests may run as
// root). A browser that cannot start fails the test: it is never skipped.
//
// Every helper fails the test with what it was doing when a step fails or takes longer than
// StepTimeout. Screenshot writes full-page PNGs into $DISPATCH_SCREENSHOTS when it is set.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The window of every tab, unless Resize changes it.
const (
	Width  = 1280
	Height = 900
)

// StepTimeout bounds each step of a helper: a page that does not load, an element that never
// appears.
var StepTimeout = 20 * time.Second

// DefaultPath is the browser used when DISPATCH_CHROMIUM is not set.
const DefaultPath = "/usr/bin/chromium"

// shared is the browser of the test binary, with the count of the tabs open in it.
var shared struct {
	mu     sync.Mutex
	ctx    context.Context // the browser's first context: tabs are its children
	cancel func()          // closes the browser and removes its profile directory
	tabs   int
}

// Path is the browser the tests start.
func Path() string {
	if p := os.Getenv("DISPATCH_CHROMIUM"); p != "" {
		return p
	}
	return DefaultPath
}

// acquire returns the shared browser, starting it when none runs; release gives it back.
func acquire() (context.Context, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.ctx == nil {
		path := Path()
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no browser at %s (set DISPATCH_CHROMIUM to Chromium's path, or install the chromium package): %w", path, err)
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.WindowSize(Width, Height),
			chromedp.Flag("hide-scrollbars", true),
			chromedp.Flag("font-render-hinting", "none"),
			chromedp.Flag("lang", "en-GB"),
			// Chromium's PDF viewer is a component extension: without it a letter's preview is a
			// blank box.
			chromedp.Flag("disable-extensions", false),
		)
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		start, stop := context.WithTimeout(bctx, 60*time.Second)
		defer stop()
		// The first Do starts the browser, bound to bctx (not to start's deadline): see chromedp's
		// docs/API.md, "Set a timeout for one action".
		errc := make(chan error, 1)
		go func() { errc <- chromedp.Do(bctx) }()
		var err error
		select {
		case err = <-errc:
		case <-start.Done():
			err = errors.New("it did not answer within 60 s")
		}
		if err != nil {
			bcancel()
			acancel()
			return nil, fmt.Errorf("cannot start the browser %s: %w", path, err)
		}
		shared.ctx, shared.cancel = bctx, func() { bcancel(); acancel() }
	}
	shared.tabs++
	return shared.ctx, nil
}

func release() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.tabs--; shared.tabs == 0 {
		shared.cancel()
		shared.ctx, shared.cancel = nil, nil
	}
}

// New opens a tab for the test, Width×Height, in a browser context of its own (no cookie is
// shared with another test), and closes it when the test ends.
func New(t testing.TB) context.Context {
	t.Helper()
	bctx, err := acquire()
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	t.Cleanup(func() { cancel(); release() })
	// The first Do opens the tab, bound to ctx.
	errc := make(chan error, 1)
	go func() { errc <- chromedp.Do(ctx) }()
	select {
	case err = <-errc:
	case <-time.After(StepTimeout):
		err = errors.New("timed out")
	}
	if err != nil {
		t.Fatalf("browsertest: open a tab: %v", err)
	}
	return ctx
}

// Do runs steps in the tab, failing the test with what when one fails or StepTimeout passes.
func Do(t testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		t.Fatalf("browser: %s: %v (at %s)", what, err, where(ctx))
	}
}

// Run runs an action that returns a value, failing the test as Do does.
func Run[T any](t testing.TB, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatalf("browser: %s: %v (at %s)", what, err, where(ctx))
	}
	return v
}

// where is the tab's address, for messages.
func where(ctx context.Context) string {
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	loc, err := chromedp.Run(sctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return loc
}

// Resize makes the tab's viewport w×h as a phone's (mobile, touch, scale 1).
func Resize(t testing.TB, ctx context.Context, w, h int64) {
	t.Helper()
	Do(t, ctx, fmt.Sprintf("resize to %d×%d", w, h), chromedp.EmulateViewport(w, h, chromedp.EmulateMobile, chromedp.EmulateTouch))
}

// Open loads the address and returns the HTTP status of its document (after redirects).
func Open(t testing.TB, ctx context.Context, addr string) int {
	t.Helper()
	resp := Run(t, ctx, "open "+addr, chromedp.NavigateResponse(addr))
	if resp == nil {
		t.Fatalf("browser: open %s: no response", addr)
	}
	return int(resp.Status)
}

// ClickNav clicks the element and waits for the document it leads to (a link, a form's button);
// it returns that document's HTTP status.
func ClickNav(t testing.TB, ctx context.Context, css string) int {
	t.Helper()
	Do(t, ctx, "find "+css, chromedp.WaitReady(chromedp.CSS(css)))
	Settle(t, ctx)
	sctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(sctx, chromedp.Click(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("browser: click %s and load the next page: %v (at %s)", css, err, where(ctx))
	}
	if resp == nil {
		t.Fatalf("browser: click %s: no page loaded (at %s)", css, where(ctx))
	}
	return int(resp.Status)
}

// Settle waits until no part of the page is still loading (no element is aria-busy="true", as a
// segment's size is while it is counted). A click aims at where the element is: a region that
// fills in meanwhile moves what is below it, and the click would land beside it.
func Settle(t testing.TB, ctx context.Context) {
	t.Helper()
	Run(t, ctx, "wait for the page to finish loading its parts",
		chromedp.Poll[bool](`document.readyState === "complete" && document.querySelector('[aria-busy="true"]') === null`))
}

// Click clicks the element (visible, waited for) without waiting for a page to load.
func Click(t testing.TB, ctx context.Context, css string) {
	t.Helper()
	Settle(t, ctx)
	Do(t, ctx, "click "+css, chromedp.Click(chromedp.CSS(css), chromedp.NodeVisible))
}

// Fill sets the value of a form field (input, textarea, select) and tells the page, as typing
// would (input and change events).
func Fill(t testing.TB, ctx context.Context, css, value string) {
	t.Helper()
	Do(t, ctx, "find "+css, chromedp.WaitReady(chromedp.CSS(css)))
	ok := Eval[bool](t, ctx, fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false;
		e.value = %s; e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true}));
		return e.value === %[2]s; })()`, js(css), js(value)))
	if !ok {
		t.Fatalf("browser: fill %s with %q: the field did not take the value (at %s)", css, value, where(ctx))
	}
}

// Check ticks (on) or clears a checkbox or radio button.
func Check(t testing.TB, ctx context.Context, css string, on bool) {
	t.Helper()
	Do(t, ctx, "find "+css, chromedp.WaitReady(chromedp.CSS(css)))
	Eval[chromedp.Void](t, ctx, fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.checked = %t;
		e.dispatchEvent(new Event("change", {bubbles: true})); })()`, js(css), on))
}

// Exists reports whether an element matches css now (no waiting).
func Exists(t testing.TB, ctx context.Context, css string) bool {
	t.Helper()
	return Eval[bool](t, ctx, fmt.Sprintf(`document.querySelector(%s) !== null`, js(css)))
}

// Count is the number of elements matching css now.
func Count(t testing.TB, ctx context.Context, css string) int {
	t.Helper()
	return Eval[int](t, ctx, fmt.Sprintf(`document.querySelectorAll(%s).length`, js(css)))
}

// Text waits for an element matching css and returns its text as shown (innerText), with runs of
// white space (no-break spaces too) made one space.
func Text(t testing.TB, ctx context.Context, css string) string {
	t.Helper()
	Do(t, ctx, "find "+css, chromedp.WaitReady(chromedp.CSS(css)))
	return squeeze(Eval[string](t, ctx, fmt.Sprintf(`document.querySelector(%s).innerText`, js(css))))
}

// Texts returns the texts of every element matching css now.
func Texts(t testing.TB, ctx context.Context, css string) []string {
	t.Helper()
	list := Eval[[]string](t, ctx, fmt.Sprintf(`Array.from(document.querySelectorAll(%s), e => e.innerText)`, js(css)))
	for i := range list {
		list[i] = squeeze(list[i])
	}
	return list
}

// WaitText waits up to timeout until the text of an element matching css holds want, and returns
// that text; the test fails with the last text seen when it does not come.
func WaitText(t testing.TB, ctx context.Context, css, want string, timeout time.Duration) string {
	t.Helper()
	return WaitFor(t, ctx, css+" to say "+js(want), timeout, func(text string) bool {
		return strings.Contains(text, want)
	}, css)
}

// WaitFor waits up to timeout until ok holds for the text of the element matching css (polled
// every 100 ms; a missing element is the text ""), and returns that text.
func WaitFor(t testing.TB, ctx context.Context, what string, timeout time.Duration, ok func(text string) bool, css string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	expr := fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e ? e.innerText : ""; })()`, js(css))
	var text string
	for {
		sctx, cancel := context.WithTimeout(ctx, StepTimeout)
		s, err := chromedp.Run(sctx, chromedp.Evaluate[string](expr))
		cancel()
		if err != nil {
			t.Fatalf("browser: wait for %s: %v (at %s)", what, err, where(ctx))
		}
		if text = squeeze(s); ok(text) {
			return text
		}
		if time.Now().After(deadline) {
			t.Fatalf("browser: timed out after %s waiting for %s; it says %q (at %s)", timeout, what, text, where(ctx))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Eval evaluates a JavaScript expression in the page (promises awaited) and returns its value.
func Eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	return Run(t, ctx, "evaluate "+firstLine(expr), chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// Value is the value of a form field.
func Value(t testing.TB, ctx context.Context, css string) string {
	t.Helper()
	Do(t, ctx, "find "+css, chromedp.WaitReady(chromedp.CSS(css)))
	return Eval[string](t, ctx, fmt.Sprintf(`document.querySelector(%s).value`, js(css)))
}

// Attr returns an attribute of the first element matching css ("" when missing).
func Attr(t testing.TB, ctx context.Context, css, name string) string {
	t.Helper()
	Do(t, ctx, "find "+css, chromedp.WaitReady(chromedp.CSS(css)))
	return Eval[string](t, ctx, fmt.Sprintf(`document.querySelector(%s).getAttribute(%s) || ""`, js(css), js(name)))
}

// Location is the tab's address now.
func Location(t testing.TB, ctx context.Context) string {
	t.Helper()
	return Run(t, ctx, "read the address", chromedp.Location())
}

// PathOf is the path and query of the tab's address now.
func PathOf(t testing.TB, ctx context.Context) string {
	t.Helper()
	u, err := url.Parse(Location(t, ctx))
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

// Response is what Fetch got.
type Response struct {
	Status      int    `json:"status"`
	ContentType string `json:"type"`
	// Disposition is the Content-Disposition header.
	Disposition string `json:"disposition"`
	// Body is the body when it is text (text/*, JSON, XML); else empty.
	Body string `json:"body"`
	// Head is the first 16 bytes of the body, as Latin-1 characters ("%PDF-" for a PDF).
	Head string `json:"head"`
	Size int    `json:"size"`
}

// Fetch requests an address from the page, as the page's own script would: with the tab's
// cookies (the session), following redirects.
func Fetch(t testing.TB, ctx context.Context, addr string) Response {
	t.Helper()
	raw := Eval[string](t, ctx, fmt.Sprintf(`fetch(%s, {credentials: "same-origin"}).then(async r => {
		const type = r.headers.get("content-type") || "";
		const buf = new Uint8Array(await r.arrayBuffer());
		const text = /^(text\/|application\/(json|xml|[a-z.+-]*\+json))/.test(type);
		return JSON.stringify({status: r.status, type: type, disposition: r.headers.get("content-disposition") || "",
			body: text ? new TextDecoder().decode(buf) : "",
			head: String.fromCharCode.apply(null, Array.from(buf.slice(0, 16))), size: buf.length});
	})`, js(addr)))
	var r Response
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		t.Fatalf("browser: fetch %s: %v", addr, err)
	}
	return r
}

// SignIn signs the tab in at base (the staff listener) as user with token, in the language lang
// ("en" or "fi"; "" keeps the tab's), and fails the test when the console does not take it.
func SignIn(t testing.TB, ctx context.Context, base, user, token, lang string) {
	t.Helper()
	if lang != "" {
		Open(t, ctx, base+"/lang?to="+url.QueryEscape(lang)+"&next=/login")
	} else {
		Open(t, ctx, base+"/login")
	}
	Fill(t, ctx, "#name", user)
	Fill(t, ctx, "#token", token)
	if status := ClickNav(t, ctx, `form[action="/login"] button[type=submit]`); status != 200 {
		msg := ""
		if Exists(t, ctx, ".error") {
			msg = Text(t, ctx, ".error")
		}
		t.Fatalf("browser: sign in as %s: HTTP %d %s", user, status, msg)
	}
	if p := PathOf(t, ctx); strings.HasPrefix(p, "/login") {
		t.Fatalf("browser: sign in as %s: still on the sign-in page", user)
	}
}

// Screenshot saves the whole page (beyond the viewport) as name.png in $DISPATCH_SCREENSHOTS,
// when that is set; otherwise it does nothing.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("DISPATCH_SCREENSHOTS")
	if dir == "" {
		return
	}
	// Let the fonts settle and the page's own script run its first fills; a PDF shown in the page
	// (an <object> or <embed>) draws a while after the page has loaded.
	Eval[chromedp.Void](t, ctx, `document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(() => r())))`)
	var png []byte
	if Exists(t, ctx, `object[type="application/pdf"], embed[type="application/pdf"]`) {
		// Chromium's PDF viewer draws only what is in the viewport: make the viewport the whole
		// page for the picture.
		size := Eval[[]int64](t, ctx, `[window.innerWidth, window.innerHeight, document.documentElement.scrollHeight]`)
		Do(t, ctx, "grow the viewport", chromedp.EmulateViewport(size[0], size[2]))
		time.Sleep(3 * time.Second)
		png = Run(t, ctx, "screenshot "+name, chromedp.CaptureScreenshot())
		Do(t, ctx, "restore the viewport", chromedp.EmulateViewport(size[0], size[1]))
	} else {
		png = Run(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// js writes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func squeeze(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u00a0' || r == '\u202f'
	}), " ")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + "…"
	}
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}
