package clients

import (
	"context"
	"time"
)

// KV is the small namespaced store connections are recorded in
// (implemented by store.DB). Nothing recorded is secret.
type KV interface {
	GetKV(ctx context.Context, namespace, key string, v any) (bool, error)
	PutKV(ctx context.Context, namespace, key string, v any) error
}

const kvNamespace = "clients"

// maxHistory is how many changes per client can be undone.
const maxHistory = 20

// Connection is one Patchbay entry written into one client's file.
type Connection struct {
	Client       string    `json:"client"`
	Scope        string    `json:"scope"`
	ProjectDir   string    `json:"project_dir,omitempty"`
	ConfigPath   string    `json:"config_path"`
	Entry        string    `json:"entry"`
	Conversation string    `json:"conversation"`
	Method       string    `json:"method"`
	TokenID      string    `json:"token_id,omitempty"`
	TokenHint    string    `json:"token_hint,omitempty"`
	ConnectedAt  time.Time `json:"connected_at"`
	// CreatedFile and CreatedContainer say what Patchbay added besides the
	// entry, so that disconnecting can take it away again.
	CreatedFile      bool `json:"created_file,omitempty"`
	CreatedContainer bool `json:"created_container,omitempty"`
}

// change is one write to a client's file that can be undone.
type change struct {
	Op         string    `json:"op"` // connect, disconnect
	At         time.Time `json:"at"`
	ConfigPath string    `json:"config_path"`
	// Backup holds the bytes before the change; empty when the file did
	// not exist (every change to an existing file backs it up first).
	Backup string `json:"backup,omitempty"`
	// Written is the hash of what Patchbay left in the file, to notice
	// edits made since.
	Written string `json:"written"`
	// Before is the connection at ConfigPath before the change.
	Before *Connection `json:"before,omitempty"`
	// Issued is the token the change created, revoked by undo.
	Issued string `json:"issued,omitempty"`
}

func (s *Service) connections(ctx context.Context, clientID string) ([]Connection, error) {
	var out []Connection
	_, err := s.kv.GetKV(ctx, kvNamespace, "conn/"+clientID, &out)
	return out, err
}

func (s *Service) putConnections(ctx context.Context, clientID string, list []Connection) error {
	return s.kv.PutKV(ctx, kvNamespace, "conn/"+clientID, list)
}

// setConnection replaces the connection at path with c (removing it when c
// is nil).
func (s *Service) setConnection(ctx context.Context, clientID, path string, c *Connection) error {
	list, err := s.connections(ctx, clientID)
	if err != nil {
		return err
	}
	out := list[:0]
	for _, x := range list {
		if x.ConfigPath != path {
			out = append(out, x)
		}
	}
	if c != nil {
		out = append(out, *c)
	}
	return s.putConnections(ctx, clientID, out)
}

func (s *Service) history(ctx context.Context, clientID string) ([]change, error) {
	var out []change
	_, err := s.kv.GetKV(ctx, kvNamespace, "history/"+clientID, &out)
	return out, err
}

func (s *Service) putHistory(ctx context.Context, clientID string, h []change) error {
	return s.kv.PutKV(ctx, kvNamespace, "history/"+clientID, h)
}

// pushHistory records ch; the oldest changes (and their backups) beyond
// maxHistory are dropped.
func (s *Service) pushHistory(ctx context.Context, clientID string, ch change) error {
	h, err := s.history(ctx, clientID)
	if err != nil {
		return err
	}
	h = append(h, ch)
	for len(h) > maxHistory {
		s.dropBackup(h[0].Backup)
		h = h[1:]
	}
	return s.putHistory(ctx, clientID, h)
}
