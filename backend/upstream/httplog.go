package upstream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// exchange is what the RoundTripper saw of one HTTP request.
type exchange struct {
	Status      int // 0 when no reply came
	StatusText  string
	ContentType string
	// Body is a short, redacted, single-line excerpt of a failed reply:
	// the JSON-RPC error message when there is one, else the text.
	Body string
	At   time.Time
}

func (ex exchange) summary() string {
	if ex.Status == 0 {
		return "no reply"
	}
	s := fmt.Sprintf("HTTP %d %s", ex.Status, ex.StatusText)
	if ex.Body != "" {
		s += ": " + ex.Body
	}
	return s
}

// ok reports a successful reply.
func (ex exchange) ok() bool { return ex.Status >= 200 && ex.Status < 300 }

// mcpContent reports whether a successful reply looks like MCP: JSON, an
// event stream, or an empty acknowledgement.
func (ex exchange) mcpContent() bool {
	if ex.Status == http.StatusAccepted || ex.Status == http.StatusNoContent {
		return true
	}
	return ex.ContentType == "application/json" || ex.ContentType == "text/event-stream"
}

// httpLog keeps the few replies that explain a connection's fate. It is
// bounded: a session that lives for days records no more than at the start.
type httpLog struct {
	mu sync.Mutex
	v  logView
}

// logView is the content of an httpLog, read through snapshot.
type logView struct {
	first  *exchange // the first reply of any kind
	firstM *exchange // the first successful MCP-looking reply
	last   *exchange // the last failed request or reply
	auth   *exchange // the last 401/403
	notMCP *exchange // a successful reply that is not MCP (an HTML page, say)
	signIn error     // the OAuth layer said the person must sign in
}

func newHTTPLog() *httpLog { return &httpLog{} }

// record notes a reply; for a failed one it keeps an excerpt of the body and
// puts the bytes back for go-sdk to read.
func (l *httpLog) record(resp *http.Response, red *redactor) exchange {
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	ex := exchange{
		Status:      resp.StatusCode,
		StatusText:  http.StatusText(resp.StatusCode),
		ContentType: ct,
		At:          time.Now(),
	}
	if !ex.ok() {
		peek, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(peek), resp.Body), resp.Body}
		ex.Body = red.String(excerpt(peek, ct))
	}
	// Most replies are kept nowhere: copy ex only for a slot that keeps
	// it, once (diagnose compares the slots' pointers).
	var kept *exchange
	keep := func() *exchange {
		if kept == nil {
			kept = new(exchange)
			*kept = ex
		}
		return kept
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.v.first == nil {
		l.v.first = keep()
	}
	switch {
	case ex.ok() && ex.mcpContent():
		if l.v.firstM == nil {
			l.v.firstM = keep()
		}
	case ex.ok():
		l.v.notMCP = keep()
	default:
		l.v.last = keep()
		if ex.Status == http.StatusUnauthorized || ex.Status == http.StatusForbidden {
			l.v.auth = keep()
		}
	}
	return ex
}

// failed notes a request that got no reply.
func (l *httpLog) failed(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.v.last = &exchange{At: time.Now()}
	if s := asSignIn(err); s != nil {
		l.v.signIn = s
	}
}

func (l *httpLog) setSignIn(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.v.signIn = err
}

// snapshot returns a copy that can be read without locking.
func (l *httpLog) snapshot() logView {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.v
}

var (
	spaceRe = regexp.MustCompile(`\s+`)
	tagRe   = regexp.MustCompile(`<[^>]*>`)
)

// maxExcerpt bounds how much of a server's error text reaches the person.
const maxExcerpt = 300

// excerpt turns a failed reply's body into one line of plain text.
func excerpt(body []byte, contentType string) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return ""
	}
	var rpc struct {
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &rpc) == nil && rpc.Error != nil && rpc.Error.Message != "" {
		return clip(rpc.Error.Message)
	}
	s := string(body)
	if contentType == "text/html" || strings.HasPrefix(strings.TrimSpace(s), "<") {
		s = tagRe.ReplaceAllString(s, " ")
	}
	return clip(s)
}

func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(spaceRe.ReplaceAllString(s, " "))
	if len(s) > maxExcerpt {
		cut := maxExcerpt
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
