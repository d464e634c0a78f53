package clients

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/patchbay/patchbay/backend"
)

// ConnectRequest asks to add Patchbay to a client's configuration.
type ConnectRequest struct {
	// Conversation is a conversation's slug, name or ID; empty means the
	// default conversation.
	Conversation string `json:"conversation"`
	// DryRun computes the change without issuing a token or writing.
	DryRun bool `json:"dry_run"`
	// Overwrite replaces an entry of the same name that Patchbay did not
	// write (the person confirmed it).
	Overwrite bool `json:"overwrite"`
	// Scope is "user" (the default) or "project" with ProjectDir.
	Scope      string `json:"scope,omitempty"`
	ProjectDir string `json:"project_dir,omitempty"`
}

// ConnectResult says what changed, or what would change.
type ConnectResult struct {
	ConfigPath string `json:"config_path"`
	// Diff is a unified diff of the file, with tokens shortened to hints.
	Diff       string `json:"diff"`
	BackupPath string `json:"backup_path"`
	// NeedsConfirmation is set, and nothing written, when an entry of the
	// same name exists that Patchbay did not write: connect again with
	// overwrite to replace it.
	NeedsConfirmation bool   `json:"needs_confirmation"`
	Message           string `json:"message"`
	Connected         bool   `json:"connected"`
	DryRun            bool   `json:"dry_run"`
	Entry             string `json:"entry"`
	Conversation      string `json:"conversation"`
	Method            string `json:"method"`
	Scope             string `json:"scope"`
	TokenHint         string `json:"token_hint,omitempty"`
}

// Connect writes the entry for a conversation into a client's file: one
// token per connection (HTTP clients) or the stdio bridge, a backup first,
// and a record so that disconnect and undo can take it back.
func (s *Service) Connect(ctx context.Context, id string, req ConnectRequest) (*ConnectResult, error) {
	res, err := s.connect(ctx, id, req)
	if err == nil && res.Connected {
		s.publish(id, "connected")
	}
	return res, err
}

func (s *Service) connect(ctx context.Context, id string, req ConnectRequest) (*ConnectResult, error) {
	c, err := Lookup(id)
	if err != nil {
		return nil, err
	}
	scope, dir, path, err := s.resolve(c, req.Scope, req.ProjectDir)
	if err != nil {
		return nil, err
	}
	slug, convName, err := s.conversation(ctx, req.Conversation)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	before, existed, err := readConfig(path)
	if err != nil {
		return nil, err
	}
	ed, err := openEditor(c, path, before)
	if err != nil {
		return nil, err
	}
	conns, err := s.connections(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	prev := findConnection(conns, path)
	name := EntryName(slug)
	res := &ConnectResult{ConfigPath: path, Entry: name, Conversation: slug, Method: c.Method, Scope: scope, DryRun: req.DryRun}
	ours := prev != nil && prev.Entry == name
	res.NeedsConfirmation = ed.has(name) && !ours && !req.Overwrite

	token := TokenPlaceholder
	var issued *backend.ClientToken
	if c.Method == MethodHTTP && !req.DryRun && !res.NeedsConfirmation {
		if token, issued, err = s.tokens.IssueToken(ctx, s.tokenLabel(c, scope, dir), c.ID); err != nil {
			return nil, err
		}
	}
	fail := func(err error) (*ConnectResult, error) {
		if issued != nil {
			s.revoke(ctx, issued.ID)
		}
		return nil, err
	}
	t, err := s.target(c, slug, token)
	if err != nil {
		return fail(err)
	}
	if prev != nil && prev.Entry != name {
		// One connection per file: switching conversations replaces
		// Patchbay's entry for the old one.
		if _, err := ed.remove(prev.Entry, false); err != nil {
			return fail(uneditable(c, path, err))
		}
	}
	createdContainer, err := ed.set(name, c.Entry(t))
	if err != nil {
		return fail(uneditable(c, path, err))
	}
	after := ed.bytes()
	if err := validAfter(c, path, before, after, existed); err != nil {
		return fail(err)
	}
	res.Diff = redactTokens(unifiedDiff(path, before, after, existed, true))

	switch {
	case res.NeedsConfirmation:
		res.Message = fmt.Sprintf("%s already has a server called %q that Patchbay did not add. Replace it? The file is backed up first, and undo puts it back.", c.Name, name)
		return res, nil
	case req.DryRun:
		res.Message = fmt.Sprintf("This is the change connecting %s to the conversation %q would make; nothing was written.", c.Name, convName)
		if c.Method == MethodHTTP {
			res.Message += " The real change carries a new token where " + TokenPlaceholder + " stands."
		}
		return res, nil
	}

	if res.BackupPath, err = s.replaceFile(c, path, before, existed, after, true); err != nil {
		return fail(err)
	}
	if prev != nil {
		s.revoke(ctx, prev.TokenID)
	}
	conn := Connection{
		Client: c.ID, Scope: scope, ProjectDir: dir, ConfigPath: path, Entry: name, Conversation: slug,
		Method: c.Method, ConnectedAt: s.now().UTC(),
		CreatedFile:      !existed || prev != nil && prev.CreatedFile,
		CreatedContainer: createdContainer || prev != nil && prev.CreatedContainer,
	}
	ch := change{Op: "connect", At: s.now().UTC(), ConfigPath: path, Backup: res.BackupPath,
		Written: hashBytes(after, true), Before: prev}
	if issued != nil {
		conn.TokenID, conn.TokenHint = issued.ID, issued.Hint
		ch.Issued = issued.ID
		res.TokenHint = issued.Hint
	}
	if err := s.setConnection(ctx, c.ID, path, &conn); err != nil {
		return nil, err
	}
	if err := s.pushHistory(ctx, c.ID, ch); err != nil {
		return nil, err
	}
	res.Connected = true
	res.Message = fmt.Sprintf("Connected %s to the conversation %q (%s). %s", c.Name, convName, path, c.AfterConnect)
	if strings.Contains(t.Command, "go-build") {
		res.Message += " Note: Patchbay runs from a temporary build (go run); install it and connect again, or the entry breaks when that build is deleted."
	}
	return res, nil
}

func findConnection(list []Connection, path string) *Connection {
	for i := range list {
		if list[i].ConfigPath == path {
			c := list[i]
			return &c
		}
	}
	return nil
}

// DisconnectRequest names the file to disconnect (the user scope unless a
// project is given).
type DisconnectRequest struct {
	Scope      string `json:"scope,omitempty"`
	ProjectDir string `json:"project_dir,omitempty"`
	DryRun     bool   `json:"dry_run,omitempty"`
}

// DisconnectResult says what was removed.
type DisconnectResult struct {
	ConfigPath   string `json:"config_path"`
	BackupPath   string `json:"backup_path"`
	Removed      bool   `json:"removed"`
	TokenRevoked bool   `json:"token_revoked"`
	Diff         string `json:"diff"`
	Message      string `json:"message"`
}

// Disconnect removes Patchbay's entry from a client's file and revokes its
// token. It touches only the entry it recorded writing.
func (s *Service) Disconnect(ctx context.Context, id string, req DisconnectRequest) (*DisconnectResult, error) {
	res, err := s.disconnect(ctx, id, req)
	if err == nil && !req.DryRun {
		s.publish(id, "disconnected")
	}
	return res, err
}

func (s *Service) disconnect(ctx context.Context, id string, req DisconnectRequest) (*DisconnectResult, error) {
	c, err := Lookup(id)
	if err != nil {
		return nil, err
	}
	_, _, path, err := s.resolve(c, req.Scope, req.ProjectDir)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	conns, err := s.connections(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	prev := findConnection(conns, path)
	if prev == nil {
		return nil, backend.Errorf(backend.ENOTFOUND, "%s is not connected to Patchbay in %s.", c.Name, path).
			WithSlug("not_connected").
			WithFix("Nothing to do. An entry added by hand is yours to remove from the file.")
	}
	res := &DisconnectResult{ConfigPath: path}
	before, existed, err := readConfig(path)
	if err != nil {
		return nil, err
	}
	after, afterExists := before, existed
	if existed {
		ed, err := openEditor(c, path, before)
		if err != nil {
			return nil, err
		}
		if res.Removed, err = ed.remove(prev.Entry, prev.CreatedContainer); err != nil {
			return nil, uneditable(c, path, err)
		}
		after = ed.bytes()
		if res.Removed && prev.CreatedFile && ed.empty() {
			afterExists = false // Patchbay created the file and nothing else is in it
		}
	}
	res.Diff = redactTokens(unifiedDiff(path, before, after, existed, afterExists))
	if req.DryRun {
		res.Message = "This is what disconnecting would change; nothing was written."
		return res, nil
	}
	if res.Removed {
		if res.BackupPath, err = s.replaceFile(c, path, before, existed, after, afterExists); err != nil {
			return nil, err
		}
	}
	res.TokenRevoked = s.revoke(ctx, prev.TokenID)
	if err := s.setConnection(ctx, c.ID, path, nil); err != nil {
		return nil, err
	}
	if res.Removed {
		ch := change{Op: "disconnect", At: s.now().UTC(), ConfigPath: path, Backup: res.BackupPath,
			Written: hashBytes(after, afterExists), Before: prev}
		if err := s.pushHistory(ctx, c.ID, ch); err != nil {
			return nil, err
		}
		res.Message = fmt.Sprintf("Removed %q from %s.", prev.Entry, path)
	} else {
		res.Message = fmt.Sprintf("The entry %q was already gone from %s.", prev.Entry, path)
	}
	if res.TokenRevoked {
		res.Message += " Its token is revoked."
	}
	return res, nil
}

// UndoRequest confirms undoing over edits made since Patchbay's change.
type UndoRequest struct {
	Force  bool `json:"force,omitempty"`
	DryRun bool `json:"dry_run,omitempty"`
}

// UndoResult says what was restored.
type UndoResult struct {
	ConfigPath string `json:"config_path"`
	Restored   bool   `json:"restored"`
	// NeedsConfirmation is set, and nothing restored, when the file changed
	// since Patchbay wrote it: undo with force to discard those changes.
	NeedsConfirmation bool   `json:"needs_confirmation"`
	BackupPath        string `json:"backup_path"`
	Diff              string `json:"diff"`
	Message           string `json:"message"`
}

// Undo reverts the client's last change: the file gets back the exact
// bytes it had (or is deleted when it did not exist), a token that change
// issued is revoked, and the connection record is what it was.
func (s *Service) Undo(ctx context.Context, id string, req UndoRequest) (*UndoResult, error) {
	res, err := s.undo(ctx, id, req)
	if err == nil && res.Restored {
		s.publish(id, "undone")
	}
	return res, err
}

func (s *Service) undo(ctx context.Context, id string, req UndoRequest) (*UndoResult, error) {
	c, err := Lookup(id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h, err := s.history(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if len(h) == 0 {
		return nil, backend.Errorf(backend.ENOTFOUND, "There is nothing to undo for %s.", c.Name).WithSlug("nothing_to_undo")
	}
	ch := h[len(h)-1]
	res := &UndoResult{ConfigPath: ch.ConfigPath}
	var want []byte
	existed := ch.Backup != ""
	if existed {
		if want, err = os.ReadFile(ch.Backup); err != nil {
			return nil, &backend.Error{Code: backend.ENOTFOUND, Slug: "backup_missing", Err: err,
				Message:      fmt.Sprintf("The backup of %s from %s is gone (%s).", ch.ConfigPath, ch.At.Local().Format("2006-01-02 15:04"), ch.Backup),
				SuggestedFix: "Undo is not possible; edit the file by hand."}
		}
	}
	cur, curExists, err := readConfig(ch.ConfigPath)
	if err != nil {
		return nil, err
	}
	res.Diff = redactTokens(unifiedDiff(ch.ConfigPath, cur, want, curExists, existed))
	if hashBytes(cur, curExists) != ch.Written && !req.Force {
		res.NeedsConfirmation = true
		res.Message = fmt.Sprintf("%s changed since Patchbay's %s on %s (perhaps %s itself saved it). Undo would throw those changes away; undo again with force to do it anyway.",
			ch.ConfigPath, ch.Op, ch.At.Local().Format("2006-01-02 15:04"), c.Name)
		return res, nil
	}
	if req.DryRun {
		res.Message = "This is what undo would restore; nothing was written."
		return res, nil
	}
	// What is there now is backed up too, in case undo was a mistake.
	if res.BackupPath, err = s.replaceFile(c, ch.ConfigPath, cur, curExists, want, existed); err != nil {
		return nil, err
	}
	res.Restored = true
	s.revoke(ctx, ch.Issued)
	restore := ch.Before
	res.Message = fmt.Sprintf("Restored %s as it was before Patchbay's %s.", ch.ConfigPath, ch.Op)
	if restore != nil && restore.TokenID != "" && !s.tokenExists(ctx, restore.TokenID) {
		res.Message += fmt.Sprintf(" The restored entry %q uses a token that has been revoked since, so %s will be refused: connect again for a fresh one.", restore.Entry, c.Name)
		restore = nil
	}
	if err := s.setConnection(ctx, c.ID, ch.ConfigPath, restore); err != nil {
		return nil, err
	}
	return res, s.putHistory(ctx, c.ID, h[:len(h)-1])
}
