package api

import (
	"fmt"
	"net/http"
	"time"
)

// streamEvents streams the event hub as server-sent events: one "event:"
// line with the type and one "data:" line with its JSON. A comment line
// every 15 seconds keeps proxies and idle timeouts from closing the stream.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) error {
	flusher, ok := w.(http.Flusher)
	if !ok {
		return fmt.Errorf("response writer cannot stream")
	}
	sub := s.opts.Events.Subscribe(512)
	defer sub.Close()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": patchbay events\n\n")
	flusher.Flush()
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case e, ok := <-sub.C:
			if !ok {
				return nil
			}
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, e.Data)
		}
		flusher.Flush()
	}
}
