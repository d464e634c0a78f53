package oauth

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/patchbay/patchbay/backend"
)

// callbackServer is the one-shot loopback listener that receives the
// browser when the provider sends it back. It binds 127.0.0.1 only (not
// "localhost", which may resolve elsewhere), answers only GET /callback,
// accepts one answer and closes when the sign-in ends.
type callbackServer struct {
	port        int
	redirectURI string
	srv         *http.Server
	used        atomic.Bool
	results     chan *callback // buffered: the one answer
	done        chan struct{}  // closed by close
}

// callback is one browser request to /callback, waiting for the page to
// show.
type callback struct {
	query url.Values
	host  string
	reply chan page
}

// page is what the browser shows at the end.
type page struct {
	ok          bool
	title, text string
}

// listenLoopback opens the redirect listener: on the first free port of
// ports, else on remembered (the port of the last sign-in) if it is free,
// else on an ephemeral port.
func listenLoopback(ports []int, remembered int) (*callbackServer, error) {
	var ln net.Listener
	var err error
	switch {
	case len(ports) > 0:
		for _, p := range ports {
			if ln, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
				break
			}
		}
		if ln == nil {
			return nil, errPortBusy(ports)
		}
	default:
		if remembered > 0 {
			ln, _ = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", remembered))
		}
		if ln == nil {
			if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
				return nil, backend.Errorf(backend.EUNAVAILABLE, "Cannot open a port on 127.0.0.1 to receive the sign-in: %s.", err).
					WithSlug("oauth_listen_failed")
			}
		}
	}
	port := ln.Addr().(*net.TCPAddr).Port
	s := &callbackServer{
		port:        port,
		redirectURI: fmt.Sprintf("http://127.0.0.1:%d/callback", port),
		results:     make(chan *callback, 1),
		done:        make(chan struct{}),
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *callbackServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	// The URL carries the code: no page we show may leak it onwards.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	if r.URL.Path != "/callback" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !s.used.CompareAndSwap(false, true) {
		writePage(w, page{title: "This sign-in is over", text: "Patchbay already received an answer for this sign-in. If you need to sign in again, start over from Patchbay."})
		return
	}
	cb := &callback{query: r.URL.Query(), host: r.Host, reply: make(chan page, 1)}
	s.results <- cb
	select {
	case p := <-cb.reply:
		writePage(w, p)
	case <-s.done:
		select {
		case p := <-cb.reply: // the answer's page, sent just before the end
			writePage(w, p)
		default:
			writePage(w, page{title: "This sign-in is over", text: "The sign-in ended before this answer arrived. Start over from Patchbay."})
		}
	case <-r.Context().Done():
	}
}

// close stops the listener once the last page is written.
func (s *callbackServer) close() {
	close(s.done)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
		_ = s.srv.Close()
	}
}

func writePage(w http.ResponseWriter, p page) {
	status := http.StatusOK
	if !p.ok {
		status = http.StatusBadRequest
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	mark, color := "✗", "#b3261e"
	if p.ok {
		mark, color = "✓", "#1e7b34"
	}
	fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Patchbay: %[1]s</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34em;margin:15vh auto;padding:0 1em;color:#222}
h1{font-size:1.4em}h1 span{color:%[3]s}</style></head>
<body><h1><span>%[4]s</span> %[1]s</h1><p>%[2]s</p></body></html>
`, html.EscapeString(p.title), html.EscapeString(p.text), color, mark)
}

func successPage(c *backend.Connector) page {
	return page{ok: true, title: fmt.Sprintf("Signed in to %s", c.Name),
		text: "Patchbay is signed in. You can close this tab and go back to Patchbay."}
}

func failurePage(err error) page {
	var be *backend.Error
	text := "The sign-in failed."
	if errors.As(err, &be) {
		text = be.Message
		if be.SuggestedFix != "" {
			text += " " + be.SuggestedFix
		}
	}
	return page{title: "Sign-in failed", text: text}
}
