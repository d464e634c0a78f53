package clients

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// tomlDoc is a TOML configuration file being edited (Codex CLI's
// config.toml). No TOML library writes a document back unchanged, so
// entries are edited as text: an entry is its own [container.name] table,
// appended at the end and removed line by line. go-toml's parser finds the
// table headers (it knows multi-line strings), and every edit is checked by
// decoding the result: the entry must read back as written and everything
// else must decode exactly as before, or the edit is refused.
type tomlDoc struct {
	key  string // the table of servers ("mcp_servers")
	src  []byte
	bom  bool
	nl   string
	data map[string]any
}

func parseTOMLDoc(b []byte, key string) (*tomlDoc, error) {
	d := &tomlDoc{key: key, nl: "\n"}
	if bytes.HasPrefix(b, utf8BOM) {
		d.bom, b = true, b[len(utf8BOM):]
	}
	if bytes.Contains(b, []byte("\r\n")) {
		d.nl = "\r\n"
	}
	d.src = b
	data, err := decodeTOML(b)
	if err != nil {
		return nil, err
	}
	d.data = data
	return d, nil
}

func decodeTOML(b []byte) (map[string]any, error) {
	data := map[string]any{}
	if err := toml.Unmarshal(b, &data); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, fmt.Errorf("line %d, column %d: %s", row, col, de.Error())
		}
		return nil, err
	}
	return data, nil
}

func (d *tomlDoc) bytes() []byte {
	if d.bom {
		return append(append([]byte{}, utf8BOM...), d.src...)
	}
	return d.src
}

// has reports whether there is an entry called name (a table or not).
func (d *tomlDoc) has(name string) bool {
	c, _ := d.data[d.key].(map[string]any)
	_, ok := c[name]
	return ok
}

// set replaces (or adds) the entry called name and reports whether the
// table of servers is new.
func (d *tomlDoc) set(name string, entry Object) (createdContainer bool, err error) {
	_, had := d.data[d.key]
	src := d.src
	if d.has(name) {
		if src, err = d.cut(name); err != nil {
			return false, err
		}
	}
	var b bytes.Buffer
	b.Write(src)
	if len(src) > 0 && !bytes.HasSuffix(src, []byte("\n")) {
		b.WriteString(d.nl)
	}
	if len(bytes.TrimSpace(src)) > 0 {
		b.WriteString(d.nl)
	}
	b.WriteString(renderTOMLTable(d.key, name, entry, d.nl))
	return !had, d.commit(b.Bytes(), name, entry)
}

// remove deletes the entry called name and reports whether it was there.
// dropEmpty needs no work: a table of servers Patchbay created exists only
// through the [key.name] header, so it goes with that entry.
func (d *tomlDoc) remove(name string, _ bool) (bool, error) {
	if !d.has(name) {
		return false, nil
	}
	src, err := d.cut(name)
	if err != nil {
		return false, err
	}
	return true, d.commit(src, name, nil)
}

// empty reports whether nothing is left in the file.
func (d *tomlDoc) empty() bool { return len(d.data) == 0 && isBlank(d.src) }

// commit checks the edited text and makes it the document: the entry must
// decode as want (absent when nil) and the rest exactly as before.
func (d *tomlDoc) commit(src []byte, name string, want Object) error {
	key := d.key
	data, err := decodeTOML(src)
	if err != nil {
		return fmt.Errorf("the edited file would not be valid TOML (%v)", err)
	}
	var got any
	if c, ok := data[key].(map[string]any); ok {
		got = c[name]
	}
	if want == nil && got != nil || want != nil && !reflect.DeepEqual(got, plain(want)) {
		return fmt.Errorf("the entry [%s.%s] would not read back as written", key, name)
	}
	if !reflect.DeepEqual(without(data, key, name), without(d.data, key, name)) {
		return fmt.Errorf("the edit would change other settings")
	}
	d.src, d.data = src, data
	return nil
}

// without returns data without the entry key.name (and without key when
// that leaves it empty), copying only what it changes.
func without(data map[string]any, key, name string) map[string]any {
	out := make(map[string]any, len(data))
	for k, v := range data {
		out[k] = v
	}
	if c, ok := data[key].(map[string]any); ok {
		cc := make(map[string]any, len(c))
		for k, v := range c {
			if k != name {
				cc[k] = v
			}
		}
		if len(cc) == 0 {
			delete(out, key)
		} else {
			out[key] = cc
		}
	}
	return out
}

// tomlTable is one [table] or [[array table]] header and the lines up to
// the next header, as byte offsets.
type tomlTable struct {
	start, end int
	path       []string
}

func (d *tomlDoc) tables() ([]tomlTable, error) {
	var p unstable.Parser
	p.Reset(d.src)
	var out []tomlTable
	for p.NextExpression() {
		e := p.Expression()
		if e.Kind != unstable.Table && e.Kind != unstable.ArrayTable {
			continue
		}
		t := tomlTable{start: -1}
		for it := e.Key(); it.Next(); {
			n := it.Node()
			if t.start < 0 {
				t.start = bytes.LastIndexByte(d.src[:n.Raw.Offset], '\n') + 1
			}
			t.path = append(t.path, string(n.Data))
		}
		out = append(out, t)
	}
	if err := p.Error(); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].end = len(d.src)
		if i+1 < len(out) {
			out[i].end = out[i+1].start
		}
	}
	return out, nil
}

// cut returns the text without the tables of entry key.name: its header
// and its sub-tables, each up to the next header, leaving comment and blank
// lines that precede the next header in place (they describe that one).
func (d *tomlDoc) cut(name string) ([]byte, error) {
	key := d.key
	tables, err := d.tables()
	if err != nil {
		return nil, err
	}
	src := d.src
	found := false
	for i := len(tables) - 1; i >= 0; i-- {
		t := tables[i]
		if len(t.path) < 2 || t.path[0] != key || t.path[1] != name {
			continue
		}
		found = true
		end := trimTrailingNotes(src, t.start, t.end)
		start := t.start
		// Take one blank line before the header along, when it would
		// otherwise leave two blank lines (or one at the end of the file).
		if prev := lineBefore(src, start); prev >= 0 && isBlank(src[prev:start]) {
			if end == len(src) || isBlank(src[end:lineEnd(src, end)]) {
				start = prev
			}
		}
		src = append(append([]byte{}, src[:start]...), src[end:]...)
	}
	if !found {
		return nil, fmt.Errorf("the entry %q is not written as its own [%s.%s] table, so Patchbay cannot change it safely", name, key, name)
	}
	return src, nil
}

// trimTrailingNotes moves end back over blank and comment-only lines.
func trimTrailingNotes(src []byte, start, end int) int {
	for end > start {
		ls := lineBefore(src, end)
		if ls <= start {
			break
		}
		line := bytes.TrimSpace(src[ls:end])
		if len(line) != 0 && line[0] != '#' {
			break
		}
		end = ls
	}
	return end
}

// lineBefore returns the start of the line that ends just before offset
// (which is the start of a line), or -1 at the start of the text.
func lineBefore(src []byte, offset int) int {
	if offset == 0 {
		return -1
	}
	return bytes.LastIndexByte(src[:offset-1], '\n') + 1
}

// lineEnd returns the offset after the line break of the line at offset.
func lineEnd(src []byte, offset int) int {
	if i := bytes.IndexByte(src[offset:], '\n'); i >= 0 {
		return offset + i + 1
	}
	return len(src)
}

// renderTOMLTable writes an entry as its own table.
func renderTOMLTable(key, name string, entry Object, nl string) string {
	var b strings.Builder
	b.WriteString("[" + tomlKey(key) + "." + tomlKey(name) + "]" + nl)
	for _, f := range entry {
		b.WriteString(tomlKey(f.Key) + " = " + tomlValue(f.Value) + nl)
	}
	return b.String()
}

func tomlKey(k string) string {
	bare := k != ""
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			bare = false
		}
	}
	if bare {
		return k
	}
	return tomlString(k)
}

func tomlValue(v any) string {
	switch v := v.(type) {
	case string:
		return tomlString(v)
	case []string:
		parts := make([]string, len(v))
		for i, s := range v {
			parts[i] = tomlString(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case Object:
		parts := make([]string, len(v))
		for i, f := range v {
			parts[i] = tomlKey(f.Key) + " = " + tomlValue(f.Value)
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	default:
		panic(fmt.Sprintf("clients: unsupported value %T", v))
	}
}

// tomlString writes s as a TOML basic string: backslashes (Windows paths)
// and quotes are escaped, control characters too.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
