package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/patchbay/patchbay/backend"
)

// Client calls the admin API. The CLI always goes through it: to a running
// instance over loopback, or, when none runs, to an in-process Server
// (NewInProcessClient), so both paths behave the same.
type Client struct {
	// BaseURL is http://127.0.0.1:PORT (no trailing slash).
	BaseURL string
	// Token is the admin token; empty for in-process clients.
	Token string
	HTTP  *http.Client
}

// NewInProcessClient returns a Client whose requests are served by h in
// this process, without a network.
func NewInProcessClient(h http.Handler) *Client {
	return &Client{BaseURL: "http://in-process", HTTP: &http.Client{Transport: handlerTransport{h}}}
}

// Do sends a request with in (when not nil) as JSON and decodes the answer
// into out (when not nil). API errors come back as *backend.Error.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.send(ctx, method, path, in, "application/json")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode answer to %s %s: %w", method, path, err)
	}
	return nil
}

func (c *Client) send(ctx context.Context, method, path string, in any, accept string) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", accept)
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			return nil, backend.Errorf(backend.EUNAVAILABLE, "Patchbay is not answering at %s.", c.BaseURL).
				WithSlug("instance_unreachable").WithFix("Start it with `patchbay serve` (or the desktop app).")
		}
		return nil, err
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
	return resp, nil
}

func decodeError(resp *http.Response) error {
	var eb ErrorBody
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := json.Unmarshal(data, &eb); err != nil || eb.Error.Message == "" {
		return backend.Errorf(backend.EINTERNAL, "Patchbay answered %s: %s", resp.Status, strings.TrimSpace(string(data)))
	}
	d := eb.Error
	return &backend.Error{Code: d.Code, Slug: d.Slug, Message: d.Message, SuggestedFix: d.SuggestedFix, Fields: d.Errors}
}

// Test runs a connection test (of a saved connector when ref is set, else
// of the unsaved connector c), calling onStep as each step starts and ends.
func (c *Client) Test(ctx context.Context, ref string, unsaved *backend.Connector, onStep func(backend.TestStep)) (*backend.TestResult, error) {
	path := "/api/v1/connectors/test"
	var in any
	if ref != "" {
		path = "/api/v1/connectors/" + url.PathEscape(ref) + "/test"
	} else {
		in = unsaved
	}
	resp, err := c.send(ctx, http.MethodPost, path, in, "text/event-stream")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		var res backend.TestResult
		return &res, json.NewDecoder(resp.Body).Decode(&res)
	}
	var res *backend.TestResult
	err = readSSE(resp.Body, func(event string, data []byte) error {
		switch event {
		case "step":
			var st backend.TestStep
			if err := json.Unmarshal(data, &st); err != nil {
				return err
			}
			if onStep != nil {
				onStep(st)
			}
		case "result":
			res = new(backend.TestResult)
			return json.Unmarshal(data, res)
		}
		return nil
	})
	if err == nil && res == nil {
		err = fmt.Errorf("the test stream ended without a result")
	}
	return res, err
}

// Events streams the event hub until ctx ends, calling fn for each event.
func (c *Client) Events(ctx context.Context, fn func(backend.Event)) error {
	resp, err := c.send(ctx, http.MethodGet, "/api/v1/events", nil, "text/event-stream")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	err = readSSE(resp.Body, func(event string, data []byte) error {
		fn(backend.Event{Type: event, Data: append(json.RawMessage(nil), data...)})
		return nil
	})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// readSSE parses a server-sent event stream.
func readSSE(r io.Reader, fn func(event string, data []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	var event string
	var data []byte
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if event != "" || data != nil {
				if err := fn(event, data); err != nil {
					return err
				}
			}
			event, data = "", nil
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			if data != nil {
				data = append(data, '\n')
			}
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")...)
		}
	}
	return sc.Err()
}

// handlerTransport serves requests with an in-process handler. The response
// body is a pipe, so streamed answers (tests, events) arrive as written.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	pr, pw := io.Pipe()
	w := &pipeWriter{header: http.Header{}, pw: pw, ready: make(chan struct{})}
	go func() {
		defer func() {
			w.WriteHeader(http.StatusOK) // no-op when already written
			pw.Close()
		}()
		t.h.ServeHTTP(w, req)
	}()
	<-w.ready
	return &http.Response{
		Status: fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)), StatusCode: w.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: w.sent, Body: pr, Request: req, ContentLength: -1,
	}, nil
}

type pipeWriter struct {
	header http.Header
	sent   http.Header // snapshot at WriteHeader, for the response
	pw     *io.PipeWriter
	once   sync.Once
	status int
	ready  chan struct{}
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) WriteHeader(status int) {
	w.once.Do(func() {
		w.status = status
		w.sent = w.header.Clone()
		close(w.ready)
	})
}

func (w *pipeWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.pw.Write(b)
}

func (w *pipeWriter) Flush() {}
