//go:build browser

package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// stepTimeout bounds one step of a test (a wait, a click...).
const stepTimeout = 30 * time.Second

// page is one headless chromium tab on a weir server, for one test.
type page struct {
	t    *testing.T
	ctx  context.Context
	base string // the server's URL
	shot int    // screenshots taken

	mu     sync.Mutex
	errors []string // uncaught exceptions and console errors, in order
	thrown int      // how many of them are exceptions
}

// newPage starts a fresh chromium (its profile and home in the test's
// temporary directory) and stops it when the test ends.
func newPage(t *testing.T, base string) *page {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		// Its crash database, GTK settings and the like go to the home
		// directory whatever the profile: give it one in the temporary
		// directory too.
		chromedp.Env("HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"),
			"XDG_DATA_HOME="+filepath.Join(dir, "data")),
		chromedp.WindowSize(1440, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	p := &page{t: t, ctx: ctx, base: base}
	t.Cleanup(func() {
		p.mu.Lock()
		if p.thrown > 0 || (t.Failed() && len(p.errors) > 0) {
			t.Logf("browser console:\n\t%s", strings.Join(p.errors, "\n\t"))
		}
		if p.thrown > 0 {
			t.Errorf("the page threw %d uncaught exception(s)", p.thrown)
		}
		p.mu.Unlock()
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleException && m.Type != "error" {
				continue
			}
			p.mu.Lock()
			p.errors = append(p.errors, fmt.Sprintf("%s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line))
			if m.Type == chromedp.ConsoleException {
				p.thrown++
			}
			p.mu.Unlock()
		}
	}()
	return p
}

// fail ends the test with a screenshot of what the page showed.
func (p *page) fail(format string, args ...any) {
	p.t.Helper()
	p.screenshot("FAILED")
	loc, _ := chromedp.Run(p.ctx, chromedp.Location())
	p.t.Fatalf("at %s: %s", loc, fmt.Sprintf(format, args...))
}

// do runs actions, failing the test on an error or after stepTimeout.
func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.fail("%s: %v", what, err)
	}
}

// open navigates to a path of the server.
func (p *page) open(path string) {
	p.t.Helper()
	p.do("open "+path, chromedp.Navigate(p.base+path))
}

// click clicks the first element matching a CSS selector (a real mouse
// click, once it is visible).
func (p *page) click(sel string) {
	p.t.Helper()
	p.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// typeInto replaces the text of an input with text, typed key by key.
func (p *page) typeInto(sel, text string) {
	p.t.Helper()
	p.do("type into "+sel,
		chromedp.Focus(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%s).select()`, jsString(sel))),
		chromedp.SendKeys(chromedp.CSS(sel), text))
}

// key sends keys to the focused element.
func (p *page) key(keys string) {
	p.t.Helper()
	p.do("press "+keys, chromedp.KeyEvent(keys))
}

// waitFor waits until a JavaScript expression is truthy and returns its
// value, decoded into T.
func waitFor[T any](p *page, what, expr string, timeout time.Duration) T {
	p.t.Helper()
	v, err := poll[T](p, expr, timeout, chromedp.WithPollingInterval(50*time.Millisecond))
	if err != nil {
		p.fail("waiting for %s: %v", what, err)
	}
	return v
}

// poll evaluates expr until it is truthy (at every animation frame, unless
// opts say otherwise). An evaluation whose JavaScript context went away (the
// document it started in was replaced, as a navigation that has just ended
// may still do) is started again in the new one.
func poll[T any](p *page, expr string, timeout time.Duration, opts ...chromedp.PollOption) (T, error) {
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	opts = append(opts, chromedp.WithPollingTimeout(0))
	for {
		v, err := chromedp.Run(ctx, chromedp.Poll[T](expr, opts...))
		if err == nil || ctx.Err() != nil || !contextGone(err) {
			return v, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// contextGone reports the protocol's errors for an evaluation whose
// JavaScript context was destroyed under it.
func contextGone(err error) bool {
	s := err.Error()
	return strings.Contains(s, "Cannot find context with specified id") || strings.Contains(s, "Execution context was destroyed") ||
		strings.Contains(s, "Inspected target navigated or closed")
}

// waitVisible waits for an element matching a CSS selector to be visible.
func (p *page) waitVisible(sel string) {
	p.t.Helper()
	p.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// text waits for an element and returns its text.
func (p *page) text(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		p.fail("text of %s: %v", sel, err)
	}
	return s
}

// eval evaluates a JavaScript expression.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.fail("evaluating %s: %v", expr, err)
	}
	return v
}

// path returns the page's path and query.
func (p *page) path() string {
	p.t.Helper()
	return eval[string](p, `location.pathname + location.search`)
}

// dropFile drags a file from outside the browser and drops it on the
// element matching sel (Input.dispatchDragEvent: the page gets the drag
// events and the file as a person's drop gives them).
func (p *page) dropFile(sel, file string) {
	p.t.Helper()
	p.waitVisible(sel)
	xy := eval[[]float64](p, fmt.Sprintf(`(() => { const r = document.querySelector(%s).getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`, jsString(sel)))
	data := &input.DragData{Items: []*input.DragDataItem{}, Files: []string{file}, DragOperationsMask: 1}
	p.do("drop "+file+" on "+sel, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		for _, typ := range []input.DispatchDragEventType{input.DispatchDragEventTypeDragEnter, input.DispatchDragEventTypeDragOver, input.DispatchDragEventTypeDrop} {
			if _, err := chromedp.Call(ctx, input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: xy[0], Y: xy[1], Data: data}); err != nil {
				return fmt.Errorf("%s: %w", typ, err)
			}
		}
		return nil
	}))
}

// screenshot saves the whole page as <test>-<n>-<name>.png in shotDir.
func (p *page) screenshot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p.shot++
	file := filepath.Join(shotDir, fmt.Sprintf("%s-%02d-%s.png", strings.ReplaceAll(p.t.Name(), "/", "-"), p.shot, name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		p.t.Errorf("screenshot: %v", err)
	}
}

// jsString quotes a Go string as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
