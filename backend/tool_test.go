package backend_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay/backend"
)

func searchDef() backend.ToolDef {
	return backend.ToolDef{
		Name:         "search",
		Title:        "Search issues",
		Description:  "Searches issues by text.",
		InputSchema:  json.RawMessage(`{"type":"object","properties":{"query":{"type":"string"},"limit":{"type":"integer","maximum":100}},"required":["query"]}`),
		OutputSchema: json.RawMessage(`{"type":"object","properties":{"issues":{"type":"array"}}}`),
		Annotations:  json.RawMessage(`{"readOnlyHint":true,"openWorldHint":false}`),
	}
}

func TestToolDefPinStableAcrossFormatting(t *testing.T) {
	a := searchDef()
	b := searchDef()
	b.InputSchema = json.RawMessage(`{
		"required": ["query"],
		"properties": {
			"limit": {"maximum": 100, "type": "integer"},
			"query": {"type": "string"}
		},
		"type": "object"
	}`)
	b.OutputSchema = json.RawMessage("  {\"properties\" : {\"issues\" : {\"type\":\"array\"}}, \"type\":\"object\"}\n")
	b.Annotations = json.RawMessage(`{"openWorldHint": false, "readOnlyHint": true}`)
	b.Meta = json.RawMessage(`{"ui":"not part of the pin"}`)
	if a.Pin() != b.Pin() {
		t.Errorf("pin changed with formatting, key order or _meta:\n%s\n%s", a.Pin(), b.Pin())
	}
	if !strings.HasPrefix(a.Pin(), "sha256:") || len(a.Pin()) != len("sha256:")+64 {
		t.Errorf("Pin() = %q, want sha256:<64 hex>", a.Pin())
	}
	if a.Pin() != a.Pin() {
		t.Error("Pin() is not deterministic")
	}
	// Absent, empty and null schemas are all "no schema".
	c, d, e := searchDef(), searchDef(), searchDef()
	c.OutputSchema, d.OutputSchema, e.OutputSchema = nil, json.RawMessage("null"), json.RawMessage(" ")
	if c.Pin() != d.Pin() || c.Pin() != e.Pin() {
		t.Error("absent, null and blank output schemas pin differently")
	}
}

func TestToolDefPinChangesWithEveryField(t *testing.T) {
	b := searchDef()
	base := b.Pin()
	changes := map[string]func(d *backend.ToolDef){
		"name":                 func(d *backend.ToolDef) { d.Name = "search2" },
		"title":                func(d *backend.ToolDef) { d.Title = "Search all issues" },
		"title removed":        func(d *backend.ToolDef) { d.Title = "" },
		"description":          func(d *backend.ToolDef) { d.Description += " Also deletes them." },
		"description spacing":  func(d *backend.ToolDef) { d.Description += " " },
		"input schema":         func(d *backend.ToolDef) { d.InputSchema = json.RawMessage(`{"type":"object"}`) },
		"input schema removed": func(d *backend.ToolDef) { d.InputSchema = nil },
		"input schema number": func(d *backend.ToolDef) {
			d.InputSchema = json.RawMessage(strings.Replace(string(d.InputSchema), "100", "101", 1))
		},
		"output schema":       func(d *backend.ToolDef) { d.OutputSchema = json.RawMessage(`{"type":"object"}`) },
		"annotations":         func(d *backend.ToolDef) { d.Annotations = json.RawMessage(`{"readOnlyHint":false}`) },
		"annotations removed": func(d *backend.ToolDef) { d.Annotations = nil },
		"invalid JSON schema": func(d *backend.ToolDef) { d.InputSchema = json.RawMessage(`{"type":`) },
		"trailing data after schema": func(d *backend.ToolDef) {
			d.InputSchema = append(append(json.RawMessage(nil), d.InputSchema...), ` {"x":1}`...)
		},
	}
	seen := map[string]string{base: "base"}
	for name, change := range changes {
		d := searchDef()
		change(&d)
		p := d.Pin()
		if p == base {
			t.Errorf("%s: pin did not change", name)
		}
		if other, ok := seen[p]; ok && other != "base" {
			t.Errorf("%s and %s pin alike", name, other)
		}
		seen[p] = name
	}
}

// Numbers beyond float64 precision must still change the pin: a schema whose
// maximum moves by one is a different schema.
func TestToolDefPinKeepsNumberPrecision(t *testing.T) {
	a, b := searchDef(), searchDef()
	a.InputSchema = json.RawMessage(`{"type":"integer","maximum":9007199254740993}`)
	b.InputSchema = json.RawMessage(`{"type":"integer","maximum":9007199254740992}`)
	if a.Pin() == b.Pin() {
		t.Error("schemas differing in a large integer pin alike")
	}
	c, d := searchDef(), searchDef()
	c.InputSchema = json.RawMessage(`{"const":0.10000000000000000001}`)
	d.InputSchema = json.RawMessage(`{"const":0.1}`)
	if c.Pin() == d.Pin() {
		t.Error("schemas differing in a long decimal pin alike")
	}
}

// Moving bytes from one field to the next must not give the same pin.
func TestToolDefPinNoCollisionByMovingBytes(t *testing.T) {
	pairs := [][2]backend.ToolDef{
		{{Name: "ab", Title: "c"}, {Name: "a", Title: "bc"}},
		{{Name: "a", Title: "", Description: "b"}, {Name: "a", Title: "b", Description: ""}},
		{{Title: "x", Description: ""}, {Title: "", Description: "x"}},
		{{Description: "{}"}, {InputSchema: json.RawMessage(`{}`)}},
		{{InputSchema: json.RawMessage(`{}`)}, {OutputSchema: json.RawMessage(`{}`)}},
		{{OutputSchema: json.RawMessage(`{}`)}, {Annotations: json.RawMessage(`{}`)}},
		{{Name: "t", Description: "d"}, {Name: "td"}},
		{{Name: "\x00\x00\x00\x00\x00\x00\x00\x00"}, {Title: ""}},
	}
	for i, p := range pairs {
		if p[0].Pin() == p[1].Pin() {
			t.Errorf("pair %d pins alike: %+v and %+v", i, p[0], p[1])
		}
	}
}

func TestToolDefReadOnly(t *testing.T) {
	tests := []struct {
		ann  string
		want bool
	}{
		{`{"readOnlyHint":true}`, true},
		{`{"readOnlyHint":true,"destructiveHint":false}`, true},
		{`{"readOnlyHint":false}`, false},
		{`{"destructiveHint":false}`, false},
		{`{"readOnlyHint":"true"}`, false},
		{`not json`, false},
		{``, false},
	}
	for _, tt := range tests {
		d := backend.ToolDef{Annotations: json.RawMessage(tt.ann)}
		if got := d.ReadOnly(); got != tt.want {
			t.Errorf("ReadOnly(%s) = %v, want %v", tt.ann, got, tt.want)
		}
	}
}

func TestInitialPolicy(t *testing.T) {
	ro := &backend.ToolDef{Name: "get", Annotations: json.RawMessage(`{"readOnlyHint":true}`)}
	rw := &backend.ToolDef{Name: "delete", Annotations: json.RawMessage(`{"destructiveHint":true}`)}
	bare := &backend.ToolDef{Name: "bare"}
	tests := []struct {
		name                 string
		def                  *backend.ToolDef
		connectorDef, global string
		want                 string
	}{
		{"read-only tool is allowed", ro, "", "", backend.PolicyAlwaysAllow},
		{"writing tool needs approval", rw, "", "", backend.PolicyNeedsApproval},
		{"tool without annotations needs approval", bare, "", "", backend.PolicyNeedsApproval},
		{"connector default beats read-only", ro, backend.PolicyNeedsApproval, "", backend.PolicyNeedsApproval},
		{"connector default allows writing tool", rw, backend.PolicyAlwaysAllow, "", backend.PolicyAlwaysAllow},
		{"connector default beats global", ro, backend.PolicyDisabled, backend.PolicyAlwaysAllow, backend.PolicyDisabled},
		{"global beats annotations", ro, "", backend.PolicyNeedsApproval, backend.PolicyNeedsApproval},
		{"global disables", rw, "", backend.PolicyDisabled, backend.PolicyDisabled},
		{"invalid connector default is ignored", rw, "bogus", backend.PolicyAlwaysAllow, backend.PolicyAlwaysAllow},
		{"invalid defaults fall back to annotations", ro, "bogus", "bogus", backend.PolicyAlwaysAllow},
	}
	for _, tt := range tests {
		if got := backend.InitialPolicy(tt.def, tt.connectorDef, tt.global); got != tt.want {
			t.Errorf("%s: InitialPolicy = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestValidPolicy(t *testing.T) {
	for _, p := range backend.Policies {
		if !backend.ValidPolicy(p) {
			t.Errorf("ValidPolicy(%q) = false", p)
		}
	}
	for _, p := range []string{"", "allow", "Always_Allow", "deny"} {
		if backend.ValidPolicy(p) {
			t.Errorf("ValidPolicy(%q) = true", p)
		}
	}
}

func TestToolHeldCallable(t *testing.T) {
	tests := []struct {
		name           string
		tool           backend.Tool
		held, callable bool
	}{
		{"allowed", backend.Tool{Policy: backend.PolicyAlwaysAllow}, false, true},
		{"needs approval", backend.Tool{Policy: backend.PolicyNeedsApproval}, false, true},
		{"disabled", backend.Tool{Policy: backend.PolicyDisabled}, false, false},
		{"held", backend.Tool{Policy: backend.PolicyAlwaysAllow, Pending: &backend.ToolDef{}}, true, false},
		{"removed", backend.Tool{Policy: backend.PolicyAlwaysAllow, Removed: true}, false, false},
	}
	for _, tt := range tests {
		if tt.tool.Held() != tt.held || tt.tool.Callable() != tt.callable {
			t.Errorf("%s: Held() = %v, Callable() = %v; want %v, %v", tt.name, tt.tool.Held(), tt.tool.Callable(), tt.held, tt.callable)
		}
	}
}

func TestToolAccept(t *testing.T) {
	old := searchDef()
	changed := searchDef()
	changed.Description = "Searches and deletes issues."
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	tool := backend.Tool{ToolDef: old, Pin: old.Pin(), Policy: backend.PolicyAlwaysAllow, Pending: &changed, PendingAt: at}
	tool.Accept()
	if tool.Description != changed.Description || tool.Pin != changed.Pin() {
		t.Errorf("after Accept: description %q pin %s; want the pending definition", tool.Description, tool.Pin)
	}
	if tool.Held() || !tool.PendingAt.IsZero() {
		t.Errorf("after Accept the tool is still held: %+v", tool)
	}
	if tool.Policy != backend.PolicyAlwaysAllow {
		t.Errorf("Accept changed the policy to %q", tool.Policy)
	}
	// Accept with nothing pending is a no-op.
	before := tool
	tool.Accept()
	if !reflect.DeepEqual(before, tool) {
		t.Error("Accept without a pending change modified the tool")
	}
}

func TestToolChangesEmpty(t *testing.T) {
	if !(backend.ToolChanges{}).Empty() {
		t.Error("zero ToolChanges is not Empty")
	}
	for _, c := range []backend.ToolChanges{{Added: []string{"a"}}, {Removed: []string{"a"}}, {Changed: []string{"a"}}} {
		if c.Empty() {
			t.Errorf("%+v is Empty", c)
		}
	}
}
