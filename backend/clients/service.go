package clients

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/patchbay/patchbay/backend"
)

// EventClientsChanged is published (Data: {"client","change"}) when a
// client's setup changed, so open Clients screens refresh.
const EventClientsChanged = "clients.changed"

// Options configure a Service. KV, Tokens, Conversations, BaseURL and
// BackupDir are required.
type Options struct {
	KV            KV
	Tokens        backend.TokenService
	Conversations backend.ConversationService
	// BaseURL returns the endpoint's base (http://127.0.0.1:PORT).
	BaseURL func() string
	// BackupDir receives a copy of every file before Patchbay changes it.
	BackupDir string
	// Env is the machine; nil means OSEnv().
	Env *Env
	// Binary returns the absolute path of the patchbay binary that stdio
	// clients launch; nil means this process's executable.
	Binary func() (string, error)
	// StdioEnv is extra environment for the stdio bridge, such as
	// PATCHBAY_HOME when Patchbay runs on a data directory of its own.
	StdioEnv map[string]string
	// Hostname names this machine in token labels; empty means
	// os.Hostname.
	Hostname string
	Now      func() time.Time
	Logger   *slog.Logger
	// Publisher hears EventClientsChanged after every change; nil discards.
	Publisher backend.Publisher
}

// Service connects desktop clients to Patchbay: it writes their
// configuration files, with backups, undo and per-connection tokens.
type Service struct {
	kv      KV
	tokens  backend.TokenService
	convs   backend.ConversationService
	baseURL func() string
	backups string
	env     *Env
	binary  func() (string, error)
	stdio   Object
	host    string
	now     func() time.Time
	log     *slog.Logger
	pub     backend.Publisher

	// mu serialises changes: two connects must not interleave their
	// read-modify-write of one file.
	mu sync.Mutex
}

// New returns a Service.
func New(o Options) *Service {
	s := &Service{
		kv: o.KV, tokens: o.Tokens, convs: o.Conversations, baseURL: o.BaseURL,
		backups: o.BackupDir, env: o.Env, binary: o.Binary, host: o.Hostname, now: o.Now, log: o.Logger, pub: o.Publisher,
	}
	if s.pub == nil {
		s.pub = backend.NopPublisher{}
	}
	if s.env == nil {
		s.env = OSEnv()
	}
	if s.binary == nil {
		s.binary = executable
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.host == "" {
		s.host, _ = os.Hostname()
	}
	keys := make([]string, 0, len(o.StdioEnv))
	for k := range o.StdioEnv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s.stdio = append(s.stdio, Field{k, o.StdioEnv[k]})
	}
	return s
}

// executable returns this program's absolute, symlink-free path.
func executable() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", err
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	return filepath.Abs(p)
}

// EntryName is the name of the entry for a conversation: "patchbay" for
// the default one, "patchbay-<slug>" for the others.
func EntryName(slug string) string {
	if slug == "" || slug == backend.DefaultConversationSlug {
		return "patchbay"
	}
	return "patchbay-" + slug
}

// Status is one client as the Clients screen shows it.
type Status struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Installed    bool   `json:"installed"`
	ConfigPath   string `json:"config_path"`
	ConfigExists bool   `json:"config_exists"`
	// Connected and Conversation describe the user-scope file.
	Connected    bool     `json:"connected"`
	Conversation string   `json:"conversation"`
	Method       string   `json:"method"`
	Notes        string   `json:"notes"`
	Format       string   `json:"format"`
	Scopes       []string `json:"scopes"`
	HasCommand   bool     `json:"has_command"`
	CanUndo      bool     `json:"can_undo"`
	// Connections lists every file Patchbay wrote for this client (user
	// and project scope).
	Connections []ConnectionStatus `json:"connections"`
}

// ConnectionStatus is a recorded connection and whether its entry is still
// in the file.
type ConnectionStatus struct {
	Connection
	EntryPresent bool `json:"entry_present"`
}

// List returns every supported client with what was detected.
func (s *Service) List(ctx context.Context) ([]Status, error) {
	out := make([]Status, 0, len(Catalog()))
	for _, c := range Catalog() {
		st, err := s.status(ctx, c)
		if err != nil {
			return nil, err
		}
		out = append(out, *st)
	}
	return out, nil
}

// Get returns one client's status.
func (s *Service) Get(ctx context.Context, id string) (*Status, error) {
	c, err := Lookup(id)
	if err != nil {
		return nil, err
	}
	return s.status(ctx, c)
}

func (s *Service) status(ctx context.Context, c *Client) (*Status, error) {
	path := c.UserPath(s.env)
	st := &Status{
		ID: c.ID, Name: c.Name, Installed: c.Installed(s.env), ConfigPath: path, ConfigExists: s.env.exists(path),
		Method: c.Method, Notes: c.Notes, Format: c.Format, Scopes: []string{ScopeUser},
		HasCommand: c.Command != nil, Connections: []ConnectionStatus{},
	}
	if c.SupportsProject() {
		st.Scopes = append(st.Scopes, ScopeProject)
	}
	conns, err := s.connections(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	for _, x := range conns {
		cs := ConnectionStatus{Connection: x, EntryPresent: entryPresent(c, x.ConfigPath, x.Entry)}
		st.Connections = append(st.Connections, cs)
		if x.ConfigPath == path && cs.EntryPresent {
			st.Connected, st.Conversation = true, x.Conversation
		}
	}
	h, err := s.history(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	st.CanUndo = len(h) > 0
	return st, nil
}

func entryPresent(c *Client, path, name string) bool {
	b, ok, err := readConfig(path)
	if err != nil || !ok {
		return false
	}
	ed, err := openEditor(c, path, b)
	return err == nil && ed.has(name)
}

// scopeOf defaults a requested scope (the project one when a folder is
// given) and checks that the client has it.
func scopeOf(c *Client, scope, dir string) (string, error) {
	if scope == "" {
		scope = ScopeUser
		if dir != "" {
			scope = ScopeProject
		}
	}
	var p backend.Problems
	switch {
	case scope != ScopeUser && scope != ScopeProject:
		p.Add("scope", "must be user or project, not %q", scope)
	case scope == ScopeProject && !c.SupportsProject():
		p.Add("scope", "%s has no project configuration; use the user scope", c.Name)
	}
	return scope, p.Err("request")
}

// resolve returns the scope and file a request is about.
func (s *Service) resolve(c *Client, scope, dir string) (string, string, string, error) {
	scope, err := scopeOf(c, scope, dir)
	if err != nil {
		return "", "", "", err
	}
	if scope == ScopeUser {
		return scope, "", c.UserPath(s.env), nil
	}
	var p backend.Problems
	switch {
	case strings.TrimSpace(dir) == "":
		p.Add("project_dir", "is required for the project scope: the project's folder")
	case !s.env.IsAbs(dir):
		p.Add("project_dir", "must be an absolute path, not %q", dir)
	}
	if err := p.Err("request"); err != nil {
		return "", "", "", err
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", "", "", backend.Errorf(backend.ENOTFOUND, "The project folder %s does not exist.", dir).
			WithSlug("no_project_dir").WithFix("Pick the folder you open in " + c.Name + ".")
	}
	return scope, dir, c.ProjectPath(s.env, filepath.Clean(dir)), nil
}

// conversation resolves a reference to a slug and a display name.
func (s *Service) conversation(ctx context.Context, ref string) (slug, name string, err error) {
	if ref == "" {
		ref = backend.DefaultConversationSlug
	}
	c, err := s.convs.GetConversation(ctx, ref)
	if err != nil {
		return "", "", err
	}
	return c.Slug, c.Name, nil
}

// target builds what an entry points at; token may be a placeholder.
func (s *Service) target(c *Client, slug, token string) (Target, error) {
	t := Target{Name: EntryName(slug), URL: strings.TrimRight(s.baseURL(), "/") + backend.ConversationPath(slug), Token: token}
	if c.Method == MethodStdio {
		bin, err := s.binary()
		if err != nil {
			return t, backend.Errorf(backend.EINTERNAL, "Cannot find Patchbay's own program file: %v.", err)
		}
		t.Command = bin
		t.Args = []string{"stdio"}
		if slug != backend.DefaultConversationSlug {
			t.Args = append(t.Args, "--conversation", slug)
		}
		t.Env = s.stdio
	}
	return t, nil
}

func (s *Service) tokenLabel(c *Client, scope, dir string) string {
	label := c.Name
	if s.host != "" {
		label += " on " + s.host
	}
	if scope == ScopeProject {
		label += " (project " + filepath.Base(dir) + ")"
	}
	if utf8.RuneCountInString(label) > 100 {
		label = string([]rune(label)[:99]) + "…"
	}
	return label
}

func (s *Service) revoke(ctx context.Context, id string) bool {
	if id == "" {
		return false
	}
	err := s.tokens.RevokeToken(context.WithoutCancel(ctx), id)
	if err != nil && backend.ErrorCode(err) != backend.ENOTFOUND {
		s.log.Warn("could not revoke a client token", "token_id", id, "err", err)
		return false
	}
	return err == nil
}

func (s *Service) tokenExists(ctx context.Context, id string) bool {
	list, err := s.tokens.ListTokens(ctx)
	if err != nil {
		return false
	}
	for _, t := range list {
		if t.ID == id {
			return true
		}
	}
	return false
}

func (s *Service) dropBackup(p string) {
	if p != "" && s.backups != "" && filepath.Dir(p) == filepath.Clean(s.backups) {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("could not remove an old backup", "path", p, "err", err)
		}
	}
}

// replaceFile puts after in place of before, the file at path as it was
// read (removing the file when !afterExists), and returns the path of the
// backup of before. When the file changed since it was read, or the write
// fails, it fails, and the file and the backups are as they were.
func (s *Service) replaceFile(c *Client, path string, before []byte, existed bool, after []byte, afterExists bool) (string, error) {
	var bak string
	if existed {
		var err error
		if bak, err = backup(s.backups, c.ID, path, before, s.now()); err != nil {
			return "", err
		}
	}
	err := checkUnchanged(c, path, before, existed)
	switch {
	case err != nil:
	case afterExists:
		err = writeConfig(path, after)
	default:
		err = removeConfig(path)
	}
	if err != nil {
		s.dropBackup(bak)
		return "", err
	}
	return bak, nil
}

// checkUnchanged fails when the file changed since it was read, so that a
// write never loses an edit made in between.
func checkUnchanged(c *Client, path string, before []byte, existed bool) error {
	cur, ok, err := readConfig(path)
	if err != nil {
		return err
	}
	if hashBytes(cur, ok) != hashBytes(before, existed) {
		return backend.Errorf(backend.ECONFLICT, "%s's configuration file %s changed while Patchbay was preparing its change.", c.Name, path).
			WithSlug("config_changed").WithFix("Try again.")
	}
	return nil
}

func validAfter(c *Client, path string, before, after []byte, existed bool) error {
	if c.Format == FormatTOML {
		return nil // tomlDoc.commit checked it
	}
	if existed && validJSON(before, c.Format) != nil {
		return nil // it was not valid for the client before either
	}
	if err := validJSON(after, c.Format); err != nil {
		return uneditable(c, path, fmt.Errorf("the result would not be valid %s (%v)", c.Format, err))
	}
	return nil
}

// publish tells whoever listens (open Clients screens) that a client's
// setup changed.
func (s *Service) publish(id, change string) {
	s.pub.Publish(backend.NewEvent(EventClientsChanged, map[string]string{"client": id, "change": change}))
}
