package upstream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patchbay/patchbay/backend"
)

// stableSession is how long a session must have lived for its loss to be
// treated as news rather than as one more flap of a failing server.
const stableSession = 30 * time.Second

// conn is the connection state of one connector: its live session, the
// attempt under way, the retry timer and what the status shows of the past.
type conn struct {
	m      *Manager
	id     string
	ctx    context.Context // ends when the connector is forgotten or the Manager closes
	cancel context.CancelFunc

	mu      sync.Mutex
	sess    *session // the live session, nil when there is none
	pending *attempt // the connection attempt under way, if any
	// The status keeps only what the session and the attempt cannot tell
	// (see statusLocked): the state with neither of them (idle, or how the
	// last one failed), the last problem and the tool count.
	state        string
	problem      problem
	toolCount    int
	timer        *time.Timer
	failures     int // failed attempts in a row
	flaps        int // sessions lost soon after they were made
	forgotten    bool
	refreshing   bool
	refreshAgain bool

	pubMu     sync.Mutex // keeps status events in order
	refreshMu sync.Mutex // one tool refresh at a time
	// Refresh tickets join concurrent requests: a listing that started
	// after a request was made answers it too. Right after a connect the
	// connect's own refresh, the caller's (the gateway's first list) and
	// the 2026-07-28 subscription acknowledgement would otherwise list the
	// tools two or three times in a row.
	tickets      atomic.Uint64
	listedTicket uint64 // guarded by refreshMu: ticket of the last listing that succeeded
}

// problem is the last failure the status shows.
type problem struct {
	message, fix string
	at           time.Time
}

// attempt is one connection attempt; everyone who needs the connector while
// it runs waits for the same outcome.
type attempt struct {
	done chan struct{}
	sess *session
	err  error
}

func (c *conn) statusSnapshot() backend.ConnectorStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.statusLocked()
}

// statusLocked derives the status: connected with the live session's
// details, connecting while an attempt runs, else the state kept.
func (c *conn) statusLocked() backend.ConnectorStatus {
	st := backend.ConnectorStatus{ConnectorID: c.id, State: c.state, ToolCount: c.toolCount,
		LastError: c.problem.message, LastErrorFix: c.problem.fix, LastErrorAt: c.problem.at}
	switch s := c.sess; {
	case s != nil:
		st.State, st.Transport, st.ProtocolVersion, st.ConnectedAt = backend.StateConnected, s.transport, s.protocol, s.connectedAt
		if info := s.cs.InitializeResult(); info != nil && info.ServerInfo != nil {
			st.ServerName, st.ServerVersion = info.ServerInfo.Name, info.ServerInfo.Version
		}
	case c.pending != nil:
		st.State = backend.StateConnecting
	}
	return st
}

// publishNow publishes the current status. Taking the snapshot under pubMu
// means the last event published is always the latest state.
func (c *conn) publishNow() {
	c.pubMu.Lock()
	defer c.pubMu.Unlock()
	c.m.pub.Publish(backend.NewEvent(backend.EventConnectorStatus, c.statusSnapshot()))
}

// session returns the live session, connecting (or joining the attempt
// under way) when there is none.
func (c *conn) session(ctx context.Context) (*session, error) {
	c.mu.Lock()
	if c.forgotten {
		c.mu.Unlock()
		return nil, errManagerClosed()
	}
	if s := c.sess; s != nil {
		c.mu.Unlock()
		return s, nil
	}
	a := c.startAttemptLocked()
	c.mu.Unlock()
	c.publishNow()
	select {
	case <-a.done:
		return a.sess, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *conn) startAttemptLocked() *attempt {
	if c.pending != nil {
		return c.pending
	}
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	a := &attempt{done: make(chan struct{})}
	c.pending = a
	c.m.wg.Add(1)
	go c.run(a)
	return a
}

// run makes one connection attempt and records its outcome.
func (c *conn) run(a *attempt) {
	defer c.m.wg.Done()
	s, state, err := c.m.connectStored(c.ctx, c)
	c.mu.Lock()
	c.pending = nil
	if c.forgotten {
		c.mu.Unlock()
		if s != nil {
			s.close()
		}
		a.err = errManagerClosed()
		close(a.done)
		return
	}
	if err != nil {
		c.failures++
		c.setFailedLocked(state, err)
		if state == backend.StateError && backend.ErrorCode(err) != backend.ENOTFOUND {
			c.scheduleLocked(c.m.backoff(c.failures))
		}
	} else {
		c.failures = 0
		c.sess = s
		c.problem = problem{}
		c.m.wg.Add(1)
		go c.watch(s)
		// Every (re)connect refreshes the tool list: the server may have
		// changed while we were away.
		c.scheduleRefreshLocked()
	}
	c.mu.Unlock()
	c.publishNow()
	a.sess, a.err = s, err
	close(a.done)
}

func (c *conn) setFailedLocked(state string, err error) {
	c.state = state
	c.problem = problem{message: backend.ErrorMessage(err), at: time.Now()}
	var be *backend.Error
	if errors.As(err, &be) {
		c.problem.fix = be.SuggestedFix
	}
}

// scheduleLocked arranges a connection attempt after d.
func (c *conn) scheduleLocked(d time.Duration) {
	if c.timer != nil {
		c.timer.Stop()
	}
	c.timer = time.AfterFunc(d, func() {
		c.mu.Lock()
		if c.forgotten || c.sess != nil || c.pending != nil {
			c.mu.Unlock()
			return
		}
		c.timer = nil
		c.startAttemptLocked()
		c.mu.Unlock()
		c.publishNow()
	})
}

// watch waits for the session to end and treats an end it did not ask for
// as a lost connection.
func (c *conn) watch(s *session) {
	defer c.m.wg.Done()
	err := s.cs.Wait()
	reason := "the server closed the connection"
	if err != nil {
		reason = s.red.String(err.Error())
	}
	c.lost(s, reason)
}

// lost retires a session that broke and starts recovering: at once the
// first time, with backoff when sessions keep breaking soon after they
// were made.
func (c *conn) lost(s *session, reason string) {
	c.mu.Lock()
	if c.sess != s || c.forgotten {
		c.mu.Unlock()
		return
	}
	c.sess = nil
	if time.Since(s.connectedAt) > stableSession {
		c.flaps = 0
	}
	c.flaps++
	c.state = backend.StateError
	c.problem = problem{message: fmt.Sprintf("The connection to %q was lost: %s", s.connector.Name, reason),
		fix: "Patchbay reconnects by itself; if this keeps happening, check the server.", at: time.Now()}
	if c.flaps == 1 {
		c.startAttemptLocked()
	} else {
		c.scheduleLocked(c.m.backoff(c.flaps - 1))
	}
	c.mu.Unlock()
	s.log.Info("upstream session lost; reconnecting", "reason", reason)
	c.m.closeAsync(s)
	c.publishNow()
}

// shutdown closes the session and stops all activity for the connector.
func (c *conn) shutdown() {
	c.mu.Lock()
	c.forgotten = true
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	s := c.sess
	c.sess = nil
	c.mu.Unlock()
	c.cancel()
	if s != nil {
		c.m.closeAsync(s)
	}
}

// scheduleRefreshLocked refreshes the tool list in the background,
// coalescing notifications that arrive while a refresh runs.
func (c *conn) scheduleRefreshLocked() {
	if c.forgotten {
		return
	}
	if c.refreshing {
		c.refreshAgain = true
		return
	}
	c.refreshing = true
	c.m.wg.Add(1)
	go c.refreshLoop()
}

func (c *conn) refreshLoop() {
	defer c.m.wg.Done()
	for {
		c.mu.Lock()
		refused := c.sess == nil && c.pending == nil && (c.state == backend.StateNeedsAttention || c.state == backend.StateNeedsSignIn)
		if refused {
			// The server refused the credentials: a background refresh
			// must not reconnect (and be refused again) on its own; the
			// next call, a sign-in or an edit will.
			c.refreshing, c.refreshAgain = false, false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		ctx, cancel := context.WithTimeout(c.ctx, 2*c.m.opts.ConnectTimeout)
		_, err := c.refresh(ctx)
		cancel()
		if err != nil && c.ctx.Err() == nil {
			c.m.log.Warn("refreshing upstream tools failed", "connector", c.id, "error", backend.ErrorMessage(err))
		}
		c.mu.Lock()
		if !c.refreshAgain || c.forgotten {
			c.refreshing = false
			c.mu.Unlock()
			return
		}
		c.refreshAgain = false
		c.mu.Unlock()
	}
}
