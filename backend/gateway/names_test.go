package gateway

import (
	"strings"
	"testing"

	"github.com/patchbay/patchbay/backend"
)

func TestExposedNames(t *testing.T) {
	long := strings.Repeat("very_long_tool_name_", 5)
	tools := []string{"echo", "get-sum", "files.read", "files_read", "files/read", "", "ünïcode tool", long, long + "2", "a_b_c"}
	got := exposedNames("docs", tools)
	if got["echo"] != "docs_echo" || got["get-sum"] != "docs_get-sum" || got["files_read"] != "docs_files_read" || got["a_b_c"] != "docs_a_b_c" {
		t.Fatalf("valid names changed: %v", got)
	}
	seen := map[string]string{}
	for _, tool := range tools {
		name := got[tool]
		if !backend.ValidToolName(name) {
			t.Errorf("%q → %q is not a valid client name", tool, name)
		}
		if !strings.HasPrefix(name, "docs_") {
			t.Errorf("%q → %q lacks the connector prefix", tool, name)
		}
		if other, dup := seen[name]; dup {
			t.Errorf("%q and %q both → %q", tool, other, name)
		}
		seen[name] = tool
	}
	if !strings.HasPrefix(got["files.read"], "docs_files_read_") || got["files.read"] == got["files/read"] {
		t.Fatalf("sanitised names: %q %q", got["files.read"], got["files/read"])
	}
	// Stable: the same set in another order gives the same names.
	rev := make([]string, len(tools))
	for i, s := range tools {
		rev[len(tools)-1-i] = s
	}
	again := exposedNames("docs", rev)
	for k, v := range got {
		if again[k] != v {
			t.Fatalf("%q → %q then %q", k, v, again[k])
		}
	}
	// A long slug still leaves valid names.
	slug := strings.Repeat("s", backend.MaxSlugLen)
	for tool, name := range exposedNames(slug, tools) {
		if !backend.ValidToolName(name) {
			t.Errorf("slug %d chars: %q → %q", len(slug), tool, name)
		}
	}
}

// A sanitised name never takes the name a valid tool has, even when the
// valid tool is named exactly like the sanitised form.
func TestExposedNamesCollisions(t *testing.T) {
	first := exposedNames("x", []string{"a.b"})["a.b"] // x_a_b_<hash>
	clash := strings.TrimPrefix(first, "x_")
	got := exposedNames("x", []string{"a.b", clash})
	if got[clash] != first || got["a.b"] == first || !backend.ValidToolName(got["a.b"]) {
		t.Fatalf("collision: %v", got)
	}
	// Connectors never collide: the slug has no "_".
	a := exposedNames("a-b", []string{"c"})["c"]
	b := exposedNames("a", []string{"b_c"})["b_c"]
	if a == b {
		t.Fatalf("%q from two connectors", a)
	}
}
