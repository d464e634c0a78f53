package backend_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/patchbay/patchbay/backend"
)

func def(name, desc string) backend.ToolDef {
	return backend.ToolDef{Name: name, Description: desc, InputSchema: json.RawMessage(`{"type":"object"}`)}
}

func readOnlyDef(name string) backend.ToolDef {
	d := def(name, "reads")
	d.Annotations = json.RawMessage(`{"readOnlyHint":true}`)
	return d
}

// accepted returns a stored tool whose accepted definition is d.
func accepted(d backend.ToolDef, policy string, first time.Time) *backend.Tool {
	return &backend.Tool{ConnectorID: "c_1", ToolDef: d, Pin: d.Pin(), Policy: policy, FirstSeen: first, LastSeen: first}
}

func cloneDef(d backend.ToolDef) backend.ToolDef {
	c := d
	c.InputSchema = slices.Clone(d.InputSchema)
	c.OutputSchema = slices.Clone(d.OutputSchema)
	c.Annotations = slices.Clone(d.Annotations)
	c.Meta = slices.Clone(d.Meta)
	return c
}

func cloneTools(ts []*backend.Tool) []*backend.Tool {
	var out []*backend.Tool
	for _, t := range ts {
		c := *t
		c.ToolDef = cloneDef(t.ToolDef)
		if t.Pending != nil {
			p := cloneDef(*t.Pending)
			c.Pending = &p
		}
		out = append(out, &c)
	}
	return out
}

func byName(ts []*backend.Tool) map[string]*backend.Tool {
	m := map[string]*backend.Tool{}
	for _, t := range ts {
		m[t.Name] = t
	}
	return m
}

func TestMergeTools(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	now := t1.Add(time.Hour)

	changedSearch := def("search", "Searches and quietly deletes.")
	olderPending := def("pending_same", "pending v2")
	stalePending := def("pending_new", "pending v2")

	keep := accepted(def("keep", "unchanged"), backend.PolicyAlwaysAllow, t0)
	search := accepted(def("search", "Searches."), backend.PolicyAlwaysAllow, t0)
	revert := accepted(def("revert", "v1"), backend.PolicyNeedsApproval, t0)
	revertPending := def("revert", "v2")
	revert.Pending, revert.PendingAt = &revertPending, t1
	gone := accepted(def("gone", "bye"), backend.PolicyDisabled, t0)
	goneAlready := accepted(def("gone_already", "long gone"), backend.PolicyAlwaysAllow, t0)
	goneAlready.Removed = true
	back := accepted(def("back", "same as before"), backend.PolicyDisabled, t0)
	back.Removed = true
	backChanged := accepted(def("back_changed", "v1"), backend.PolicyAlwaysAllow, t0)
	backChanged.Removed = true
	pendingSame := accepted(def("pending_same", "v1"), backend.PolicyAlwaysAllow, t0)
	pendingSame.Pending, pendingSame.PendingAt = &olderPending, t1
	pendingNew := accepted(def("pending_new", "v1"), backend.PolicyAlwaysAllow, t0)
	pendingNew.Pending, pendingNew.PendingAt = &stalePending, t1

	stored := []*backend.Tool{keep, search, revert, gone, goneAlready, back, backChanged, pendingSame, pendingNew}

	keepNow := def("keep", "unchanged")
	keepNow.Meta = json.RawMessage(`{"new":"meta"}`) // _meta is not pinned, but kept fresh
	current := []backend.ToolDef{
		def("zeta_new", "writes"),
		keepNow,
		changedSearch,
		def("revert", "v1"),
		def("back", "same as before"),
		def("back_changed", "v2"),
		def("pending_same", "pending v2"),
		def("pending_new", "pending v3"),
		readOnlyDef("alpha_new"),
		def("dup", "first"),
		def("dup", "second"),
	}

	storedBefore := cloneTools(stored)
	var currentBefore []backend.ToolDef
	for _, d := range current {
		currentBefore = append(currentBefore, cloneDef(d))
	}

	conn := &backend.Connector{ID: "c_1"}
	out, ch := backend.MergeTools(conn, stored, current, "", now)

	// Inputs are untouched, and the result shares no tool with them.
	if !reflect.DeepEqual(stored, storedBefore) {
		t.Error("MergeTools modified the stored tools")
	}
	if !reflect.DeepEqual(current, currentBefore) {
		t.Error("MergeTools modified the current definitions")
	}
	for _, o := range out {
		for _, s := range stored {
			if o == s {
				t.Errorf("result tool %q is the stored pointer itself", o.Name)
			}
		}
	}

	// The summary.
	wantCh := backend.ToolChanges{
		Added:   []string{"zeta_new", "back", "alpha_new", "dup"},
		Removed: []string{"gone"},
		Changed: []string{"search", "back_changed", "pending_new"},
	}
	if !reflect.DeepEqual(ch, wantCh) {
		t.Errorf("changes = %+v\nwant      %+v", ch, wantCh)
	}

	// The result: every tool once, sorted by name.
	var names []string
	for _, o := range out {
		names = append(names, o.Name)
	}
	wantNames := []string{"alpha_new", "back", "back_changed", "dup", "gone", "gone_already", "keep", "pending_new", "pending_same", "revert", "search", "zeta_new"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Fatalf("tools = %v\nwant    %v", names, wantNames)
	}
	m := byName(out)

	t.Run("added", func(t *testing.T) {
		a, z := m["alpha_new"], m["zeta_new"]
		if a.Policy != backend.PolicyAlwaysAllow || z.Policy != backend.PolicyNeedsApproval {
			t.Errorf("initial policies %q, %q; want always_allow for read-only, needs_approval otherwise", a.Policy, z.Policy)
		}
		for _, n := range []*backend.Tool{a, z} {
			if n.ConnectorID != "c_1" || n.Pin != n.ToolDef.Pin() || !n.FirstSeen.Equal(now) || !n.LastSeen.Equal(now) || n.Held() || n.Removed {
				t.Errorf("new tool %q = %+v", n.Name, n)
			}
		}
	})
	t.Run("duplicate from server keeps the first", func(t *testing.T) {
		if d := m["dup"]; d.Description != "first" {
			t.Errorf("dup description = %q, want the first listing", d.Description)
		}
	})
	t.Run("unchanged", func(t *testing.T) {
		k := m["keep"]
		if k.Held() || k.Removed || k.Pin != keep.Pin || !k.FirstSeen.Equal(t0) || !k.LastSeen.Equal(now) {
			t.Errorf("keep = %+v", k)
		}
		if string(k.Meta) != `{"new":"meta"}` {
			t.Errorf("keep meta = %s, want the fresh _meta", k.Meta)
		}
	})
	t.Run("changed is held with the new definition pending", func(t *testing.T) {
		s := m["search"]
		if !s.Held() || s.Callable() {
			t.Fatalf("changed tool is not held: %+v", s)
		}
		if s.Description != "Searches." || s.Pin != search.Pin {
			t.Errorf("accepted definition changed to %q", s.Description)
		}
		if s.Pending.Description != changedSearch.Description || !s.PendingAt.Equal(now) {
			t.Errorf("pending = %+v at %v", s.Pending, s.PendingAt)
		}
		if s.Policy != backend.PolicyAlwaysAllow {
			t.Errorf("policy changed to %q", s.Policy)
		}
	})
	t.Run("changed back is unheld", func(t *testing.T) {
		r := m["revert"]
		if r.Held() || !r.PendingAt.IsZero() || !r.Callable() {
			t.Errorf("revert = %+v, want no pending change", r)
		}
	})
	t.Run("removed", func(t *testing.T) {
		g := m["gone"]
		if !g.Removed || g.Callable() || g.Policy != backend.PolicyDisabled || !g.LastSeen.Equal(t0) {
			t.Errorf("gone = %+v, want removed with its policy and last-seen kept", g)
		}
		if ga := m["gone_already"]; !ga.Removed {
			t.Errorf("gone_already = %+v", ga)
		}
	})
	t.Run("re-added keeps its policy", func(t *testing.T) {
		b := m["back"]
		if b.Removed || b.Held() || b.Policy != backend.PolicyDisabled || !b.FirstSeen.Equal(t0) || !b.LastSeen.Equal(now) {
			t.Errorf("back = %+v", b)
		}
	})
	t.Run("re-added with a change is held", func(t *testing.T) {
		b := m["back_changed"]
		if b.Removed || !b.Held() || b.Pending.Description != "v2" {
			t.Errorf("back_changed = %+v", b)
		}
	})
	t.Run("same pending change is not reported again", func(t *testing.T) {
		p := m["pending_same"]
		if !p.Held() || !p.PendingAt.Equal(t1) || p.Pending.Description != "pending v2" {
			t.Errorf("pending_same = %+v at %v", p.Pending, p.PendingAt)
		}
	})
	t.Run("a newer change replaces the pending one", func(t *testing.T) {
		p := m["pending_new"]
		if !p.Held() || !p.PendingAt.Equal(now) || p.Pending.Description != "pending v3" {
			t.Errorf("pending_new = %+v at %v", p.Pending, p.PendingAt)
		}
	})
}

func TestMergeToolsDefaults(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	current := []backend.ToolDef{readOnlyDef("get"), def("put", "writes")}

	out, _ := backend.MergeTools(&backend.Connector{ID: "c", DefaultPolicy: backend.PolicyDisabled}, nil, current, backend.PolicyAlwaysAllow, now)
	for _, o := range out {
		if o.Policy != backend.PolicyDisabled {
			t.Errorf("connector default: %s policy = %q, want disabled", o.Name, o.Policy)
		}
	}
	out, _ = backend.MergeTools(&backend.Connector{ID: "c"}, nil, current, backend.PolicyNeedsApproval, now)
	for _, o := range out {
		if o.Policy != backend.PolicyNeedsApproval {
			t.Errorf("global default: %s policy = %q, want needs_approval", o.Name, o.Policy)
		}
	}
}

func TestMergeToolsNoChange(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	current := []backend.ToolDef{def("a", "x"), def("b", "y")}
	first, ch := backend.MergeTools(&backend.Connector{ID: "c"}, nil, current, "", now)
	if !reflect.DeepEqual(ch.Added, []string{"a", "b"}) {
		t.Fatalf("first merge added %v", ch.Added)
	}
	second, ch := backend.MergeTools(&backend.Connector{ID: "c"}, first, current, "", now.Add(time.Minute))
	if !ch.Empty() {
		t.Errorf("second merge of the same list reports %+v", ch)
	}
	if len(second) != 2 || !second[0].LastSeen.Equal(now.Add(time.Minute)) || !second[0].FirstSeen.Equal(now) {
		t.Errorf("second merge = %+v", second)
	}
	// Everything gone, then back.
	empty, ch := backend.MergeTools(&backend.Connector{ID: "c"}, second, nil, "", now)
	if !reflect.DeepEqual(ch.Removed, []string{"a", "b"}) || len(empty) != 2 || !empty[0].Removed || !empty[1].Removed {
		t.Errorf("empty list: changes %+v, tools %+v", ch, empty)
	}
	_, ch = backend.MergeTools(&backend.Connector{ID: "c"}, empty, current, "", now)
	if !reflect.DeepEqual(ch.Added, []string{"a", "b"}) || len(ch.Removed)+len(ch.Changed) != 0 {
		t.Errorf("back again: changes %+v", ch)
	}
}

// Accepting a held change and merging the same list again leaves it unheld.
func TestMergeToolsAcceptThenMerge(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	conn := &backend.Connector{ID: "c"}
	tools, _ := backend.MergeTools(conn, nil, []backend.ToolDef{def("a", "v1")}, "", now)
	tools, ch := backend.MergeTools(conn, tools, []backend.ToolDef{def("a", "v2")}, "", now)
	if !reflect.DeepEqual(ch.Changed, []string{"a"}) || !tools[0].Held() {
		t.Fatalf("change not held: %+v", ch)
	}
	tools[0].Accept()
	tools, ch = backend.MergeTools(conn, tools, []backend.ToolDef{def("a", "v2")}, "", now)
	if !ch.Empty() || tools[0].Held() || tools[0].Description != "v2" {
		t.Errorf("after accept: changes %+v, tool %+v", ch, tools[0])
	}
}
