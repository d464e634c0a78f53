package clients

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/pelletier/go-toml/v2"
	"github.com/tailscale/hujson"
)

// fixtures returns the starting files for a client: missing, empty, with
// other servers (and other settings), and, where the format allows,
// comments, trailing commas, tabs and CRLF line ends. nil means missing.
func fixtures(c *Client) map[string][]byte {
	k := c.Container
	out := map[string][]byte{"missing": nil, "empty": {}}
	if c.Format == FormatTOML {
		out["other servers"] = []byte(`# Codex settings
model = "o4-mini"

[mcp_servers.github]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-github"]

[mcp_servers.github.env]
GITHUB_TOKEN = "ghp_canary"

# profiles below
[profiles.fast]
model = "gpt-4.1"
`)
		out["comments and tricky strings"] = []byte("model = 'o3' # trailing comment\r\n" +
			"notes = \"\"\"\r\n[mcp_servers.patchbay]\r\nnot a table\r\n\"\"\"\r\n" +
			"\r\n[mcp_servers.other]\r\nurl = \"https://example.com/mcp\" # remote\r\n" +
			"# a comment that belongs to the next table\r\n[tui]\r\nnotifications = true")
		return out
	}
	out["other servers"] = []byte(`{
    "numStartups": 12,
    "` + k + `": {
        "github": {
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-github"],
            "env": {"GITHUB_TOKEN": "ghp_canary"}
        }
    },
    "theme": "dark"
}
`)
	out["other settings, no servers"] = []byte("{\r\n  \"numStartups\": 3,\r\n  \"tips\": {\"shown\": [1, 2]}\r\n}")
	out["empty servers object"] = []byte(`{"` + k + `": {}}`)
	if c.Format == FormatJSONC {
		out["comments"] = []byte(`// My settings
{
	// tabs, comments and trailing commas
	"theme": "One Dark", /* inline */
	"` + k + `": {
		"other": { "url": "https://example.com/mcp" }, // trailing comment
	},
	"last": [1, 2, 3,],
}
`)
		out["byte order mark"] = []byte("\xEF\xBB\xBF{\r\n\t\"editor.fontSize\": 14\r\n}\r\n")
		out["comment after last server"] = []byte(`{
  "` + k + `": {
    "other": {
      "url": "https://example.com/mcp"
    } // keep me on this line
    /* and me
       below */
  }
}`)
	}
	return out
}

// parseAs decodes b the way the client's format allows.
func parseAs(t *testing.T, format string, b []byte) map[string]any {
	t.Helper()
	m := map[string]any{}
	b = bytes.TrimPrefix(b, utf8BOM) // editors on Windows write one; JSONC readers skip it
	if len(bytes.TrimSpace(b)) == 0 {
		return m
	}
	switch format {
	case FormatTOML:
		if err := toml.Unmarshal(b, &m); err != nil {
			t.Fatalf("result is not valid TOML: %v\n%s", err, b)
		}
	case FormatJSONC:
		v, err := hujson.Parse(bytes.Clone(b))
		if err != nil {
			t.Fatalf("result is not valid JSONC: %v\n%s", err, b)
		}
		v.Standardize()
		if err := json.Unmarshal(v.Pack(), &m); err != nil {
			t.Fatal(err)
		}
	default:
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("result is not valid strict JSON: %v\n%s", err, b)
		}
	}
	return m
}

// jsonPlain round-trips v through JSON, so Go values compare with decoded
// ones.
func jsonPlain(v any) any {
	b, _ := json.Marshal(v)
	var out any
	json.Unmarshal(b, &out)
	return out
}

// inserted returns the bytes added to orig to get res, and whether res
// holds every byte of orig in order (nothing of orig removed or changed).
func inserted(orig, res []byte) (string, bool) {
	a, b := make([]string, len(orig)), make([]string, len(res))
	for i := range orig {
		a[i] = string(orig[i : i+1])
	}
	for i := range res {
		b[i] = string(res[i : i+1])
	}
	var add strings.Builder
	for _, op := range diffLines(a, b) {
		switch op.kind {
		case '-':
			return "", false
		case '+':
			add.WriteString(op.text)
		}
	}
	return add.String(), true
}

func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == ',' {
			return -1
		}
		return r
	}, s)
}

// cutEntry splits the connected file into Patchbay's entry (the member,
// or the servers object Patchbay created, or the TOML table) and the rest.
func cutEntry(t *testing.T, c *Client, orig, got []byte) (entry string, rest []byte) {
	t.Helper()
	if len(bytes.TrimSpace(orig)) == 0 {
		return string(got), nil
	}
	if c.Format == FormatTOML {
		nl := "\n"
		if bytes.Contains(orig, []byte("\r\n")) {
			nl = "\r\n"
		}
		e, err := parseTOMLDoc(got, c.Container)
		if err != nil {
			t.Fatal(err)
		}
		tables, err := e.tables()
		if err != nil {
			t.Fatal(err)
		}
		i, end := -1, 0
		for _, tb := range tables {
			if reflect.DeepEqual(tb.path, []string{c.Container, "patchbay"}) {
				i, end = tb.start, tb.end
			}
		}
		if i < 0 || !strings.HasPrefix(string(got[i:]), "[mcp_servers.patchbay]"+nl) {
			t.Fatalf("no [%s.patchbay] table in\n%s", c.Container, got)
		}
		return string(got[i:end]), got[:i]
	}
	off := 0
	if bytes.HasPrefix(got, utf8BOM) {
		off = len(utf8BOM)
	}
	v, err := hujson.Parse(bytes.Clone(got[off:]))
	if err != nil {
		t.Fatal(err)
	}
	root := v.Value.(*hujson.Object)
	ci := member(root, c.Container)
	m := root.Members[ci]
	if o, ok := m.Value.Value.(*hujson.Object); ok && bytes.Contains(orig, []byte(jsonString(c.Container))) {
		m = o.Members[member(o, "patchbay")]
	}
	start, end := off+m.Name.StartOffset, off+m.Value.EndOffset
	return string(got[start:end]), append(append([]byte{}, got[:start]...), got[end:]...)
}

// TestWriteEveryClientFixture is the acceptance test of the issue: for
// every client and fixture, connect writes a file that parses in the
// client's format, holds the entry, keeps every other byte, and undo puts
// back the original bytes exactly; disconnect removes the entry and
// revokes its token.
func TestWriteEveryClientFixture(t *testing.T) {
	ctx := context.Background()
	for _, c := range Catalog() {
		for name, orig := range fixtures(c) {
			t.Run(c.ID+"/"+name, func(t *testing.T) {
				f := newFixture(t)
				path := c.UserPath(f.svc.env)
				if orig != nil {
					writeFile(t, path, orig)
				}
				res, err := f.svc.Connect(ctx, c.ID, ConnectRequest{})
				if err != nil {
					t.Fatal(err)
				}
				if !res.Connected || res.NeedsConfirmation || res.ConfigPath != path {
					t.Fatalf("connect: %+v", res)
				}
				got, ok := readFile(t, path)
				if !ok {
					t.Fatal("no file written")
				}
				before := parseAs(t, c.Format, orig)
				after := parseAs(t, c.Format, got)

				// The entry, as the client will read it.
				var want Object
				if c.Method == MethodStdio {
					want = c.Entry(Target{Command: testBinary, Args: []string{"stdio"}})
				} else {
					conns, _ := f.svc.connections(ctx, c.ID)
					value := f.tokens.values[conns[0].TokenID]
					if value == "" || f.tokens.live() != 1 {
						t.Fatalf("want one live token, got %d", f.tokens.live())
					}
					want = c.Entry(Target{URL: "http://127.0.0.1:47821/mcp", Token: value})
					if strings.Contains(res.Diff, value) {
						t.Fatal("the diff shows the token")
					}
				}
				servers, _ := after[c.Container].(map[string]any)
				if !reflect.DeepEqual(jsonPlain(servers["patchbay"]), jsonPlain(plain(want))) {
					t.Fatalf("entry = %#v, want %#v", servers["patchbay"], plain(want))
				}
				// Everything else decodes as before...
				if !reflect.DeepEqual(jsonPlain(without(after, c.Container, "patchbay")), jsonPlain(without(before, c.Container, "patchbay"))) {
					t.Fatalf("other settings changed:\nbefore %v\nafter  %v", before, after)
				}
				// ...and every original byte is still there, in order, with
				// nothing added but the entry (and the commas and line
				// breaks around it).
				entryText, rest := cutEntry(t, c, orig, got)
				var wantAdd string
				switch {
				case c.Format == FormatTOML:
					wantAdd = renderTOMLTable(c.Container, "patchbay", want, "\n")
				case len(bytes.TrimSpace(orig)) == 0:
					wantAdd = string(renderJSONCompact(Object{{c.Container, Object{{"patchbay", want}}}}))
				case before[c.Container] == nil:
					wantAdd = jsonString(c.Container) + ":" + string(renderJSONCompact(Object{{"patchbay", want}}))
				default:
					wantAdd = jsonString("patchbay") + ":" + string(renderJSONCompact(want))
				}
				if squeeze(entryText) != squeeze(wantAdd) {
					t.Fatalf("added entry:\n%q\nwant (ignoring spaces and commas)\n%q", entryText, wantAdd)
				}
				add, kept := inserted(orig, rest)
				if !kept || squeeze(add) != "" {
					t.Fatalf("original bytes were changed, or more than the entry was added (%q):\n--- before\n%s\n--- after\n%s", add, orig, got)
				}
				if bytes.Contains(orig, []byte("\r\n")) && bytes.Count(got, []byte("\n")) != bytes.Count(got, []byte("\r\n")) {
					t.Fatalf("a CRLF file got LF line ends:\n%q", got)
				}

				// Undo restores the exact original bytes (or no file).
				u, err := f.svc.Undo(ctx, c.ID, UndoRequest{})
				if err != nil || !u.Restored {
					t.Fatalf("undo: %+v %v", u, err)
				}
				back, exists := readFile(t, path)
				if exists != (orig != nil) || !bytes.Equal(back, orig) {
					t.Fatalf("undo did not restore the original:\n%q\nwant\n%q (exists %v)", back, orig, orig != nil)
				}
				if f.tokens.live() != 0 {
					t.Fatal("undo left the connect's token alive")
				}

				// Connect again, then disconnect: entry gone, token revoked.
				if _, err := f.svc.Connect(ctx, c.ID, ConnectRequest{}); err != nil {
					t.Fatal(err)
				}
				d, err := f.svc.Disconnect(ctx, c.ID, DisconnectRequest{})
				if err != nil || !d.Removed {
					t.Fatalf("disconnect: %+v %v", d, err)
				}
				if c.Method == MethodHTTP && (!d.TokenRevoked || f.tokens.live() != 0) {
					t.Fatalf("disconnect left the token: %+v", d)
				}
				gone, exists := readFile(t, path)
				if exists {
					m := parseAs(t, c.Format, gone)
					if s, _ := m[c.Container].(map[string]any); s["patchbay"] != nil {
						t.Fatalf("entry still there:\n%s", gone)
					}
					if !reflect.DeepEqual(jsonPlain(m), jsonPlain(before)) {
						t.Fatalf("disconnect changed other settings:\n%s", gone)
					}
				} else if orig != nil {
					t.Fatal("disconnect deleted a file Patchbay did not create")
				}
				// A TOML file without a final line break gets one (the new
				// table must start on a line of its own); undo removes it.
				exact := len(bytes.TrimSpace(orig)) > 0 && !strings.Contains(name, "empty servers") &&
					(c.Format != FormatTOML || bytes.HasSuffix(orig, []byte("\n")))
				if exact && !bytes.Equal(gone, orig) {
					t.Fatalf("connect + disconnect did not give back the original bytes:\n%q\nwant\n%q", gone, orig)
				}
				st, err := f.svc.Get(ctx, c.ID)
				if err != nil || st.Connected || len(st.Connections) != 0 {
					t.Fatalf("status after disconnect: %+v %v", st, err)
				}
			})
		}
	}
}

func TestDiffIsAValidPatch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	path := cursor.UserPath(f.svc.env)
	orig := fixtures(cursor)["comments"]
	writeFile(t, path, orig)
	res, err := f.svc.Connect(ctx, "cursor", ConnectRequest{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := readFile(t, path); !bytes.Equal(got, orig) || f.tokens.live() != 0 {
		t.Fatal("a dry run wrote the file or issued a token")
	}
	if !strings.Contains(res.Diff, TokenPlaceholder) || !strings.HasPrefix(res.Diff, "--- ") {
		t.Fatalf("dry-run diff:\n%s", res.Diff)
	}
	t.Log(res.Diff)
	applyPatch(t, path, res.Diff)
	got, _ := readFile(t, path)
	if !strings.Contains(string(got), `"Authorization": "Bearer <PATCHBAY_TOKEN>"`) {
		t.Fatalf("patched file:\n%s", got)
	}
}
