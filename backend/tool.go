package backend

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
	"time"
)

// Tool policies.
const (
	PolicyAlwaysAllow   = "always_allow"   // calls go through
	PolicyNeedsApproval = "needs_approval" // each call waits for a person
	PolicyDisabled      = "disabled"       // not listed, never callable
)

// Policies lists the valid policies in the order the UI shows them.
var Policies = []string{PolicyAlwaysAllow, PolicyNeedsApproval, PolicyDisabled}

// ValidPolicy reports whether p is one of Policies.
func ValidPolicy(p string) bool { return slices.Contains(Policies, p) }

// ToolDef is a tool as the upstream server reports it. Schemas and
// annotations are kept as raw JSON so that they pass through unchanged.
type ToolDef struct {
	Name         string          `json:"name"`
	Title        string          `json:"title,omitempty"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"input_schema,omitempty"`
	OutputSchema json.RawMessage `json:"output_schema,omitempty"`
	Annotations  json.RawMessage `json:"annotations,omitempty"`
	// Meta is the tool's _meta, passed through to clients.
	Meta json.RawMessage `json:"meta,omitempty"`
}

// Pin returns a hash of everything about the definition that a model reads
// or relies on: name, title, description, schemas and annotations. JSON is
// compacted first so that formatting does not change the pin.
func (d *ToolDef) Pin() string {
	h := sha256.New()
	for _, part := range [][]byte{
		[]byte(d.Name), []byte(d.Title), []byte(d.Description),
		compactJSON(d.InputSchema), compactJSON(d.OutputSchema), compactJSON(d.Annotations),
	} {
		// Length-prefix each part so that no two definitions hash alike by
		// moving bytes between fields.
		var n [8]byte
		for i, l := 0, len(part); i < 8; i, l = i+1, l>>8 {
			n[i] = byte(l)
		}
		h.Write(n[:])
		h.Write(part)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// compactJSON canonicalises raw JSON: objects with sorted keys, no spaces.
// Numbers keep their text (UseNumber): going through float64 would make
// schemas that differ only in a large or long number pin alike.
// Invalid JSON is returned as is.
func compactJSON(raw json.RawMessage) []byte {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return raw
	}
	if _, err := dec.Token(); err != io.EOF {
		return raw // trailing data: not one JSON value
	}
	b, err := json.Marshal(v) // map keys are sorted by encoding/json
	if err != nil {
		return raw
	}
	return b
}

// ReadOnly reports whether the annotations say the tool does not modify its
// environment (readOnlyHint).
func (d *ToolDef) ReadOnly() bool {
	var a struct {
		ReadOnlyHint bool `json:"readOnlyHint"`
	}
	_ = json.Unmarshal(d.Annotations, &a)
	return a.ReadOnlyHint
}

// Tool is a connector's tool as Patchbay keeps it: the definition the person
// accepted, its policy, and any change seen upstream since.
type Tool struct {
	ConnectorID string `json:"connector_id"`
	ToolDef
	// Pin is the hash of the accepted definition.
	Pin    string `json:"pin"`
	Policy string `json:"policy"`
	// Pending is a changed definition seen upstream and not yet accepted.
	// While it is set the tool is held: listed to nobody, callable by nobody.
	Pending   *ToolDef  `json:"pending,omitempty"`
	PendingAt time.Time `json:"pending_at,omitzero"`
	// Removed is set when the upstream stopped reporting the tool. The
	// record (and its policy) is kept in case the tool comes back.
	Removed   bool      `json:"removed,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Held reports whether the tool has an unreviewed change.
func (t *Tool) Held() bool { return t.Pending != nil }

// Callable reports whether a call to the tool may proceed at all (subject to
// approval when the policy says so).
func (t *Tool) Callable() bool {
	return !t.Removed && !t.Held() && t.Policy != PolicyDisabled
}

// InitialPolicy is the policy a newly seen tool gets: the connector's default
// when set, else always allow for read-only tools and needs approval for the
// rest. A settings-wide default, when set, replaces the annotation rule.
func InitialPolicy(def *ToolDef, connectorDefault, globalDefault string) string {
	switch {
	case ValidPolicy(connectorDefault):
		return connectorDefault
	case ValidPolicy(globalDefault):
		return globalDefault
	case def.ReadOnly():
		return PolicyAlwaysAllow
	default:
		return PolicyNeedsApproval
	}
}

// ToolChanges summarises a refresh of a connector's tool list.
type ToolChanges struct {
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	// Changed lists tools whose definition changed and are now held.
	Changed []string `json:"changed,omitempty"`
}

// Empty reports whether nothing changed.
func (c ToolChanges) Empty() bool {
	return len(c.Added)+len(c.Removed)+len(c.Changed) == 0
}

// MergeTools reconciles the stored tools of a connector with the definitions
// the server reports now. New tools get their initial policy; tools whose pin
// differs from the accepted one are held with the new definition pending;
// tools no longer reported are marked removed. It returns the new set and a
// summary. The inputs are not modified.
func MergeTools(connector *Connector, stored []*Tool, current []ToolDef, globalDefault string, now time.Time) ([]*Tool, ToolChanges) {
	var ch ToolChanges
	byName := make(map[string]*Tool, len(stored))
	for _, t := range stored {
		c := *t
		byName[t.Name] = &c
	}
	seen := make(map[string]bool, len(current))
	var out []*Tool
	for i := range current {
		def := current[i]
		if seen[def.Name] {
			continue // a server listing a name twice: keep the first
		}
		seen[def.Name] = true
		pin := def.Pin()
		t, ok := byName[def.Name]
		switch {
		case !ok:
			t = &Tool{
				ConnectorID: connector.ID,
				ToolDef:     def,
				Pin:         pin,
				Policy:      InitialPolicy(&def, connector.DefaultPolicy, globalDefault),
				FirstSeen:   now,
			}
			ch.Added = append(ch.Added, def.Name)
		case pin == t.Pin:
			// Unchanged, or changed back: the accepted definition holds.
			if t.Pending != nil || t.Removed {
				t.Pending, t.PendingAt = nil, time.Time{}
			}
			if t.Removed {
				ch.Added = append(ch.Added, def.Name)
			}
			t.Removed = false
			t.Meta = def.Meta
		default:
			if t.Pending == nil || t.Pending.Pin() != pin {
				p := def
				t.Pending, t.PendingAt = &p, now
				ch.Changed = append(ch.Changed, def.Name)
			}
			t.Removed = false
		}
		t.LastSeen = now
		out = append(out, t)
		delete(byName, def.Name)
	}
	// What is left was not reported this time.
	for _, s := range stored {
		t, ok := byName[s.Name]
		if !ok {
			continue
		}
		if !t.Removed {
			t.Removed = true
			ch.Removed = append(ch.Removed, t.Name)
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Tool) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out, ch
}

// Accept makes the pending definition the accepted one.
func (t *Tool) Accept() {
	if t.Pending == nil {
		return
	}
	t.ToolDef = *t.Pending
	t.Pin = t.Pending.Pin()
	t.Pending, t.PendingAt = nil, time.Time{}
}
