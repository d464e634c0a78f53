//go:build desktop && !headless

package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/signal"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/api"
	"github.com/patchbay/patchbay/backend/secrets"
	"github.com/patchbay/patchbay/backend/store"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/menu"
	"github.com/wailsapp/wails/v2/pkg/menu/keys"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	wruntime "github.com/wailsapp/wails/v2/pkg/runtime"
)

// HasWindow reports whether this binary was built with the desktop window.
const HasWindow = true

// RunWindow runs the desktop app: the backend with its loopback listener
// (the MCP endpoint keeps serving while the window is hidden) and a Wails
// window whose UI talks to the admin API in-process.
//
// Closing the window hides it (the person is told so once); Quit in the
// app menu, or SIGINT/SIGTERM, stops everything: the window, then the
// listener (in-flight calls finish), then the core (the store is closed).
func RunWindow(ctx context.Context, o Options, frontend fs.FS) error {
	o.NeedAdminToken = true
	core, err := Open(ctx, o)
	if err != nil {
		var be *backend.Error
		if errors.As(err, &be) && be.Slug == "already_running" && showRunningWindow(ctx, o.Dir) {
			fmt.Fprintln(os.Stderr, "Patchbay is already running; its window was brought to the front.")
			return nil
		}
		return err
	}
	defer core.Close()
	lightweight()
	w := &window{core: core, stop: ctx, signals: make(chan os.Signal, 1)}
	// Wails turns SIGINT/SIGTERM into a close request; this channel tells
	// beforeClose that the close is a quit, not the person closing.
	signal.Notify(w.signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(w.signals)
	// A second launch finds the store taken and asks this route to show
	// the window (see showRunningWindow).
	core.API.Handle("POST "+showWindowPath, func(rw http.ResponseWriter, r *http.Request) error {
		w.show()
		rw.WriteHeader(http.StatusNoContent)
		return nil
	})
	l, err := core.Listen(ListenOptions{})
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l.Shutdown(sctx)
	}()
	return wails.Run(&options.App{
		Title:     "Patchbay",
		Width:     1180,
		Height:    780,
		MinWidth:  760,
		MinHeight: 520,
		AssetServer: &assetserver.Options{
			Assets:  frontend,
			Handler: flushing(core.API.InProcessHandler()),
		},
		Menu:             w.menu(),
		BackgroundColour: options.NewRGB(246, 247, 249),
		// Closing hides the window; OnBeforeClose does it, so that the
		// person can be told once and Quit can still close for real.
		HideWindowOnClose: false,
		OnBeforeClose:     w.beforeClose,
		SingleInstanceLock: &options.SingleInstanceLock{
			UniqueId:               "dev.patchbay.app",
			OnSecondInstanceLaunch: func(options.SecondInstanceData) { w.show() },
		},
		OnStartup:  w.startup,
		OnShutdown: w.shutdown,
		Linux:      &linux.Options{ProgramName: "patchbay", Icon: o.Icon, WebviewGpuPolicy: linux.WebviewGpuPolicyNever},
	})
}

// window is the native side of the desktop app: menu, close and quit,
// showing the window, notifications and event forwarding.
type window struct {
	core *Core
	// stop is cancelled on SIGINT/SIGTERM; signals receives them too.
	stop    context.Context
	signals chan os.Signal

	mu        sync.Mutex
	ctx       context.Context // the Wails context, set at startup
	quitting  bool
	shutDown  bool
	lastCall  time.Time // the last tool call seen (trimWhenIdle)
	hidden    bool
	attention attention
	notify    *notifier
	forward   func() // stops event forwarding
}

func (w *window) startup(ctx context.Context) {
	w.mu.Lock()
	w.ctx = ctx
	w.attention = attention{Focused: true, Visible: true}
	w.mu.Unlock()
	w.notify = newNotifier(ctx, w.core.Log, w.show)
	w.forward = w.forwardEvents(ctx)
	w.listenAttention(ctx)
	go w.trimWhenIdle(ctx)
	go func() {
		// Wails itself closes on SIGINT/SIGTERM; this is the fallback for
		// a cancellation that did not come with a signal.
		<-w.stop.Done()
		time.Sleep(time.Second)
		w.mu.Lock()
		done := w.shutDown
		w.mu.Unlock()
		if !done {
			w.quit()
		}
	}()
	w.core.Log.Info(fmt.Sprintf("Patchbay window ready; endpoint %s/mcp", w.core.BaseURL()))
}

func (w *window) shutdown(ctx context.Context) {
	w.mu.Lock()
	w.shutDown = true
	w.mu.Unlock()
	if w.forward != nil {
		w.forward()
	}
	w.notify.close()
}

func (w *window) menu() *menu.Menu {
	m := menu.NewMenu()
	if goruntime.GOOS == "darwin" {
		m.Append(menu.AppMenu())
	}
	app := m.AddSubmenu("Patchbay")
	app.AddText("Show Patchbay", nil, func(*menu.CallbackData) { w.show() })
	app.AddText("Close Window", keys.CmdOrCtrl("w"), func(*menu.CallbackData) { w.hide() })
	app.AddSeparator()
	app.AddText("Quit Patchbay", keys.CmdOrCtrl("q"), func(*menu.CallbackData) { w.quit() })
	if goruntime.GOOS == "darwin" {
		// Without an Edit menu, copy and paste shortcuts do nothing in a
		// macOS WebView.
		m.Append(menu.EditMenu())
	}
	return m
}

// beforeClose runs when the person closes the window, and on Quit. Closing
// only hides: the endpoint keeps serving the person's AI clients.
func (w *window) beforeClose(ctx context.Context) (prevent bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-w.signals:
		w.quitting = true
	default:
	}
	if w.quitting || w.stop.Err() != nil {
		return false
	}
	go w.hide()
	return true
}

// hide hides the window; the first time (ever) it first says that Patchbay
// keeps running and how to quit it.
func (w *window) hide() {
	w.mu.Lock()
	ctx := w.ctx
	w.mu.Unlock()
	if ctx == nil {
		return
	}
	w.closeHintOnce(ctx)
	wruntime.WindowHide(ctx)
	w.mu.Lock()
	w.hidden = true
	w.mu.Unlock()
}

// closeHintOnce tells the person, the first time they close the window,
// that Patchbay keeps running and how to quit it; Settings remembers it.
func (w *window) closeHintOnce(ctx context.Context) {
	st, err := w.core.Registry.GetSettings(ctx)
	if err != nil || st.CloseHintShown {
		return
	}
	_, _ = wruntime.MessageDialog(ctx, wruntime.MessageDialogOptions{
		Type:  wruntime.InfoDialog,
		Title: "Patchbay keeps running",
		Message: "Closing the window does not stop Patchbay: your AI clients stay connected and " +
			"approval requests still reach you as notifications.\n\n" +
			"Open Patchbay again to bring the window back. To stop it, choose Quit Patchbay " +
			"in the Patchbay menu (" + quitShortcut() + ").",
	})
	st.CloseHintShown = true
	if _, err := w.core.Registry.UpdateSettings(ctx, st); err != nil {
		w.core.Log.Warn("could not remember that the close hint was shown", "err", err)
	}
}

func quitShortcut() string {
	if goruntime.GOOS == "darwin" {
		return "⌘Q"
	}
	return "Ctrl+Q"
}

// show brings the window up: a second launch, a notification click, the
// menu.
func (w *window) show() {
	w.mu.Lock()
	ctx := w.ctx
	w.hidden = false
	w.mu.Unlock()
	if ctx == nil {
		return
	}
	wruntime.WindowShow(ctx)
	wruntime.WindowUnminimise(ctx)
}

// quit stops the app for real; wails.Run then returns and RunWindow's
// deferred calls stop the listener and close the core.
func (w *window) quit() {
	w.mu.Lock()
	w.quitting = true
	ctx := w.ctx
	w.mu.Unlock()
	if ctx != nil {
		wruntime.Quit(ctx)
	}
}

// lightweight trims the window's memory, which stays resident all day
// (BENCHMARKS.md, "Window memory"); each knob yields to the person's own
// environment setting:
//   - JavaScriptCore runs without its JIT: the UI is small and event-driven,
//     the interpreter is fast enough, and the WebView process is ~8 MB
//     smaller;
//   - WebKitGTK's DMA-BUF renderer is off: the window asks for no GPU
//     acceleration anyway (WebviewGpuPolicyNever), and the fallback avoids
//     blank windows on some GPU drivers.
//
// The Go heap is trimmed while idle (see trimWhenIdle) rather than by a
// lower GOGC, which would slow tool calls (main.go, tuneGC).
func lightweight() {
	for k, v := range map[string]string{"JSC_useJIT": "0", "WEBKIT_DISABLE_DMABUF_RENDERER": "1"} {
		if _, set := os.LookupEnv(k); !set {
			os.Setenv(k, v)
		}
	}
}

// trimWhenIdle returns the Go heap's free memory to the system while the
// app is idle: the high GOGC that keeps tool calls fast otherwise lets an
// idle heap sit at several times its live size. It trims again whenever the
// heap the process holds has grown since the last trim (connectors
// connecting, the UI loading lists), not only once.
func (w *window) trimWhenIdle(ctx context.Context) {
	const idle = 10 * time.Second
	const growth = 4 << 20
	t := time.NewTicker(idle)
	defer t.Stop()
	var lastHeld uint64
	held := func() uint64 {
		var ms goruntime.MemStats
		goruntime.ReadMemStats(&ms)
		return ms.HeapSys - ms.HeapReleased
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.stop.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		busy := time.Since(w.lastCall) < idle
		w.mu.Unlock()
		if !busy && held() > lastHeld+growth {
			debug.FreeOSMemory()
			lastHeld = held()
		}
	}
}

// showWindowPath is the admin API route, added by the window, that a second
// launch calls to bring the running window up.
const showWindowPath = "/api/v1/window/show"

// showRunningWindow asks a running desktop instance to show its window and
// reports whether it did. A running `patchbay serve` has no window (the
// route is missing) and the caller then reports the conflict as it is.
func showRunningWindow(ctx context.Context, dir string) bool {
	if dir == "" {
		d, err := store.DefaultDir()
		if err != nil {
			return false
		}
		dir = d
	}
	inst := ReadInstance(dir)
	if inst == nil || !processAlive(inst.PID) {
		return false
	}
	tok := strings.TrimSpace(os.Getenv("PATCHBAY_ADMIN_TOKEN"))
	if tok == "" {
		t, err := secrets.NewKeychain(nil).Get(ctx, backend.AdminTokenKey)
		if err != nil {
			return false
		}
		tok = t
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	cl := &api.Client{BaseURL: inst.URL(), Token: tok, HTTP: &http.Client{}}
	return cl.Do(cctx, http.MethodPost, showWindowPath, nil, nil) == nil
}

// flushing lets handlers stream through the Wails asset server: on Linux
// and macOS its response writer sends every Write straight to the WebView
// but does not say it can flush, so streaming handlers (the connection
// test's live steps) would otherwise fall back to one answer at the end.
// (On Windows it buffers the whole answer; the UI then reads the steps at
// the end.)
func flushing(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Flusher); ok {
			h.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(flushWriter{w}, r)
	})
}

type flushWriter struct{ http.ResponseWriter }

// Flush is a no-op: writes already reach the WebView unbuffered.
func (flushWriter) Flush() {}
