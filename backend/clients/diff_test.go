package clients

import (
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// applyPatch applies diff to the file at path with GNU patch, the tool a
// person would use, so the preview is proven to be a real unified diff.
func applyPatch(t *testing.T, path, diff string) {
	t.Helper()
	if _, err := exec.LookPath("patch"); err != nil {
		t.Fatal("patch is not installed: apt-get install patch")
	}
	cmd := exec.Command("patch", "--silent", "--no-backup-if-mismatch", "-u", path)
	cmd.Stdin = strings.NewReader(diff)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("patch rejected the diff: %v\n%s\n%s", err, out, diff)
	}
}

func TestUnifiedDiffAppliesWithPatch(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	dir := t.TempDir()
	for i := 0; i < 200; i++ {
		var a []string
		for j := r.Intn(40); j > 0; j-- {
			a = append(a, string(rune('a'+r.Intn(5)))+"\n")
		}
		b := append([]string(nil), a...)
		for j := r.Intn(6); j > 0; j-- {
			switch k := r.Intn(3); {
			case k == 0 || len(b) == 0:
				p := r.Intn(len(b) + 1)
				b = append(b[:p], append([]string{"new\n"}, b[p:]...)...)
			case k == 1:
				p := r.Intn(len(b))
				b = append(b[:p], b[p+1:]...)
			default:
				b[r.Intn(len(b))] = "changed\n"
			}
		}
		before, after := strings.Join(a, ""), strings.Join(b, "")
		if r.Intn(4) == 0 && after != "" {
			after = strings.TrimSuffix(after, "\n") // no newline at end
		}
		p := filepath.Join(dir, "f.txt")
		os.WriteFile(p, []byte(before), 0o600)
		d := unifiedDiff(p, []byte(before), []byte(after), true, true)
		if before == after {
			if d != "" {
				t.Fatalf("diff of equal texts: %q", d)
			}
			continue
		}
		applyPatch(t, p, d)
		got, _ := os.ReadFile(p)
		if string(got) != after {
			t.Fatalf("case %d: patched %q, want %q\n%s", i, got, after, d)
		}
	}
}

func TestUnifiedDiffNewAndDeletedFile(t *testing.T) {
	d := unifiedDiff("/x/mcp.json", nil, []byte("{\n}\n"), false, true)
	if !strings.HasPrefix(d, "--- /dev/null\n+++ /x/mcp.json\n@@ -0,0 +1,2 @@\n+{\n+}\n") {
		t.Fatalf("new file diff:\n%s", d)
	}
	d = unifiedDiff("/x/mcp.json", []byte("{}\n"), nil, true, false)
	if !strings.HasPrefix(d, "--- /x/mcp.json\n+++ /dev/null\n@@ -1 +0,0 @@\n-{}\n") {
		t.Fatalf("deleted file diff:\n%s", d)
	}
}

func TestRedactTokens(t *testing.T) {
	tok := "pbt_ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abcdefghijklmnopqrstuvwxyz"
	got := redactTokens(`"Authorization": "Bearer ` + tok + `"`)
	if strings.Contains(got, tok) || !strings.Contains(got, "pbt_ABCDEF…") {
		t.Fatalf("redacted: %s", got)
	}
}

func BenchmarkDiffLargeClaudeJSON(b *testing.B) {
	var lines []string
	for i := 0; i < 20000; i++ {
		lines = append(lines, `    "key`+strings.Repeat("x", i%13)+`": "value",`+"\n")
	}
	before := strings.Join(lines, "")
	after := strings.Join(append(append(append([]string{}, lines[:10000]...), "    \"patchbay\": {},\n"), lines[10000:]...), "")
	for b.Loop() {
		unifiedDiff("/h/.claude.json", []byte(before), []byte(after), true, true)
	}
}
