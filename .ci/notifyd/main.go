// Command notifyd is a minimal desktop notification server
// (org.freedesktop.Notifications on the session bus) for the window test:
// it records every notification it is asked to show and every one it is
// asked to close ({"closed":ID}), one JSON object per line, and can "click"
// the first few, as a person would, so that the test can check that a click
// brings Patchbay's window up and that an answered request withdraws its
// notification.
//
//	notifyd -log FILE [-click 2s] [-max-clicks N]
//
// It prints "ready" once it owns the bus name and runs until killed.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
)

const (
	name = "org.freedesktop.Notifications"
	path = dbus.ObjectPath("/org/freedesktop/Notifications")
)

type server struct {
	conn      *dbus.Conn
	click     time.Duration
	maxClicks int

	mu     sync.Mutex
	log    *os.File
	next   uint32
	clicks int
}

// record appends one JSON line to the log.
func (s *server) record(v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, _ := json.Marshal(v)
	fmt.Fprintf(s.log, "%s\n", b)
	s.log.Sync()
}

// Notify implements the specification's Notify method.
func (s *server) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	s.mu.Lock()
	s.next++
	id := s.next
	click := s.click > 0 && len(actions) > 0 && (s.maxClicks == 0 || s.clicks < s.maxClicks)
	if click {
		s.clicks++
	}
	s.mu.Unlock()
	s.record(map[string]any{"id": id, "app": app, "summary": summary, "body": body, "actions": actions})
	if click {
		go func() {
			time.Sleep(s.click)
			// actions alternate key, label; the first key is the default.
			s.conn.Emit(path, name+".ActionInvoked", id, actions[0])
			s.conn.Emit(path, name+".NotificationClosed", id, uint32(2))
		}()
	}
	return id, nil
}

// CloseNotification implements the specification's method.
func (s *server) CloseNotification(id uint32) *dbus.Error {
	s.record(map[string]any{"closed": id})
	s.conn.Emit(path, name+".NotificationClosed", id, uint32(3))
	return nil
}

// GetCapabilities implements the specification's method.
func (s *server) GetCapabilities() ([]string, *dbus.Error) {
	return []string{"actions", "body"}, nil
}

// GetServerInformation implements the specification's method.
func (s *server) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "patchbay-test-notifyd", "patchbay", "1.0", "1.2", nil
}

func main() {
	logPath := flag.String("log", "", "file to append notifications to (JSON lines)")
	click := flag.Duration("click", 0, "click each notification after this long (0: never)")
	maxClicks := flag.Int("max-clicks", 0, "click only the first N notifications (0: all)")
	flag.Parse()
	if *logPath == "" {
		fmt.Fprintln(os.Stderr, "usage: notifyd -log FILE [-click 2s] [-max-clicks N]")
		os.Exit(2)
	}
	f, err := os.OpenFile(*logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "notifyd:", err)
		os.Exit(1)
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		fmt.Fprintln(os.Stderr, "notifyd: no session bus:", err)
		os.Exit(1)
	}
	s := &server{conn: conn, click: *click, maxClicks: *maxClicks, log: f}
	if err := conn.Export(s, path, name); err != nil {
		fmt.Fprintln(os.Stderr, "notifyd:", err)
		os.Exit(1)
	}
	reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		fmt.Fprintln(os.Stderr, "notifyd: another notification server owns", name, err)
		os.Exit(1)
	}
	fmt.Println("ready")
	select {}
}
