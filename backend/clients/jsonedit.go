package clients

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/tailscale/hujson"
)

// jsonDoc is a JSON or JSONC configuration file being edited. It works on
// hujson's exact syntax tree, so every byte outside the entry Patchbay
// touches (comments, indentation, key order, trailing commas) is written
// back as it was read.
type jsonDoc struct {
	key   string // the table of servers ("mcpServers", "servers", …)
	root  hujson.Value
	bom   bool
	nl    string // "\n" or "\r\n", as the file uses
	unit  string // one level of indentation, as the file uses
	fresh bool   // the file was missing or blank
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// parseJSONDoc parses b (nil or blank for a new file), whose servers are in
// the object key.
func parseJSONDoc(b []byte, key string) (*jsonDoc, error) {
	d := &jsonDoc{key: key, nl: "\n", unit: "  "}
	if bytes.HasPrefix(b, utf8BOM) {
		d.bom, b = true, b[len(utf8BOM):]
	}
	if bytes.Contains(b, []byte("\r\n")) {
		d.nl = "\r\n"
	}
	// hujson's tree points into its input; own it.
	b = bytes.Clone(b)
	if len(bytes.TrimSpace(b)) == 0 {
		d.fresh = true
		d.root = hujson.Value{Value: &hujson.Object{}, AfterExtra: []byte(d.nl)}
		return d, nil
	}
	v, err := hujson.Parse(b)
	if err != nil {
		return nil, err
	}
	if _, ok := v.Value.(*hujson.Object); !ok {
		return nil, fmt.Errorf("the file holds a JSON %s, not an object", kindName(v.Value.Kind()))
	}
	d.root = v
	if obj := d.rootObject(); len(obj.Members) > 0 {
		if ind, ok := lineIndent(obj.Members[0].Name.BeforeExtra); ok && ind != "" {
			d.unit = ind
		}
	}
	return d, nil
}

func kindName(k hujson.Kind) string {
	switch k {
	case '[':
		return "list"
	case '"':
		return "string"
	case '0':
		return "number"
	case 'n':
		return "null"
	default:
		return "true/false value"
	}
}

func (d *jsonDoc) rootObject() *hujson.Object { return d.root.Value.(*hujson.Object) }

// bytes returns the document.
func (d *jsonDoc) bytes() []byte {
	out := d.root.Pack()
	if d.bom {
		out = append(append([]byte{}, utf8BOM...), out...)
	}
	return out
}

// member returns the index of the member called name in obj, or -1. When
// a name repeats, the last one wins, as in JavaScript's JSON.parse.
func member(obj *hujson.Object, name string) int {
	for i := len(obj.Members) - 1; i >= 0; i-- {
		if lit, ok := obj.Members[i].Name.Value.(hujson.Literal); ok && lit.String() == name {
			return i
		}
	}
	return -1
}

// container returns the object of servers, nil when there is none, or an
// error when the key holds something other than an object.
func (d *jsonDoc) container() (*hujson.Object, int, error) {
	root := d.rootObject()
	i := member(root, d.key)
	if i < 0 {
		return nil, -1, nil
	}
	if obj, ok := root.Members[i].Value.Value.(*hujson.Object); ok {
		return obj, i, nil
	}
	if root.Members[i].Value.Value.Kind() == 'n' {
		return nil, i, nil // "mcpServers": null is as good as missing
	}
	return nil, i, fmt.Errorf("%q is a %s, not an object", d.key, kindName(root.Members[i].Value.Value.Kind()))
}

// has reports whether there is an entry called name.
func (d *jsonDoc) has(name string) bool {
	c, _, _ := d.container()
	return c != nil && member(c, name) >= 0
}

// set adds or replaces the entry called name in the servers object,
// creating that object when needed. It reports whether it created it.
func (d *jsonDoc) set(name string, entry Object) (createdContainer bool, err error) {
	root := d.rootObject()
	c, ci, err := d.container()
	if err != nil {
		return false, err
	}
	if c == nil {
		obj := Object{{name, entry}}
		if ci >= 0 { // "key": null
			m := &root.Members[ci]
			ind := indentOf(m.Name.BeforeExtra, d.unit)
			m.Value.Value = d.value(obj, ind)
			return true, nil
		}
		d.insert(root, "", d.key, obj)
		return true, nil
	}
	parentIndent := indentOf(root.Members[ci].Name.BeforeExtra, "")
	if i := member(c, name); i >= 0 {
		m := &c.Members[i]
		m.Value.Value = d.value(entry, indentOf(m.Name.BeforeExtra, parentIndent+d.unit))
		return false, nil
	}
	d.insert(c, parentIndent, name, entry)
	return false, nil
}

// remove deletes the entry called name; when dropEmpty is set and the
// servers object is left empty, it is deleted too. It reports whether the
// entry was there.
func (d *jsonDoc) remove(name string, dropEmpty bool) (bool, error) {
	c, ci, err := d.container()
	if err != nil || c == nil {
		return false, err
	}
	i := member(c, name)
	if i < 0 {
		return false, nil
	}
	removeMember(c, i)
	if dropEmpty && len(c.Members) == 0 && isBlank(c.AfterExtra) {
		removeMember(d.rootObject(), ci)
	}
	return true, nil
}

// empty reports whether the document is an empty object with no comments,
// as a file Patchbay created is after its entry is removed.
func (d *jsonDoc) empty() bool {
	obj := d.rootObject()
	return len(obj.Members) == 0 && isBlank(obj.AfterExtra) && isBlank(d.root.BeforeExtra) && isBlank(d.root.AfterExtra)
}

// value renders o as a member value whose member line starts at indent.
func (d *jsonDoc) value(o Object, indent string) hujson.ValueTrimmed {
	v, err := hujson.Parse(renderJSON(o, indent, d.unit, d.nl))
	if err != nil {
		panic("clients: rendered JSON does not parse: " + err.Error())
	}
	return v.Value
}

// insert appends a member to obj, whose own line starts at parentIndent.
// The new member goes after the last one, on its own line, indented like
// its siblings. A comment that trailed the last member stays on that
// member's line; a trailing comma style is kept.
func (d *jsonDoc) insert(obj *hujson.Object, parentIndent, name string, o Object) {
	indent := parentIndent + d.unit
	if n := len(obj.Members); n > 0 {
		indent = indentOf(obj.Members[n-1].Name.BeforeExtra, indent)
	}
	first, rest := splitFirstLine(obj.AfterExtra)
	m := hujson.ObjectMember{
		Name:  hujson.Value{BeforeExtra: []byte(string(first) + d.nl + indent), Value: hujson.String(name)},
		Value: hujson.Value{BeforeExtra: []byte(" "), Value: d.value(o, indent)},
	}
	if n := len(obj.Members); n > 0 && obj.Members[n-1].Value.AfterExtra != nil {
		m.Value.AfterExtra = []byte{} // the object had a trailing comma: keep one
	}
	obj.Members = append(obj.Members, m)
	if bytes.Contains(rest, []byte("\n")) {
		obj.AfterExtra = rest
	} else {
		obj.AfterExtra = []byte(string(rest) + d.nl + parentIndent)
	}
}

// removeMember deletes obj.Members[i], undoing what insert did: a comment
// that trailed the previous member's line stays there, and a trailing
// comma appears only if the object had one.
func removeMember(obj *hujson.Object, i int) {
	m := obj.Members[i]
	first, _ := splitFirstLine(m.Name.BeforeExtra)
	n := len(obj.Members)
	switch {
	case i < n-1:
		next := &obj.Members[i+1].Name
		next.BeforeExtra = append(append([]byte{}, first...), next.BeforeExtra...)
	case i > 0:
		prev := &obj.Members[i-1].Value
		if m.Value.AfterExtra == nil {
			// No trailing comma: what sat before the previous comma moves
			// before the closing brace.
			obj.AfterExtra = concat(prev.AfterExtra, first, obj.AfterExtra)
			prev.AfterExtra = nil
		} else {
			if prev.AfterExtra == nil {
				prev.AfterExtra = []byte{}
			}
			obj.AfterExtra = concat(first, obj.AfterExtra)
		}
	default:
		obj.AfterExtra = concat(first, obj.AfterExtra)
		if isBlank(obj.AfterExtra) {
			obj.AfterExtra = nil
		}
	}
	obj.Members = append(obj.Members[:i:i], obj.Members[i+1:]...)
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func isBlank(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }

// splitFirstLine splits extra (whitespace and comments) after the end of
// its first line: first is what trails on the current line (spaces, a
// comment), rest starts with the line break. A line break inside a block
// comment does not count.
func splitFirstLine(extra []byte) (first, rest []byte) {
	for i := 0; i < len(extra); i++ {
		switch {
		case extra[i] == '\n':
			j := i
			if j > 0 && extra[j-1] == '\r' {
				j--
			}
			return extra[:j], extra[j:]
		case bytes.HasPrefix(extra[i:], []byte("/*")):
			end := bytes.Index(extra[i+2:], []byte("*/"))
			if end < 0 {
				return extra, nil
			}
			i += 2 + end + 1
		case bytes.HasPrefix(extra[i:], []byte("//")):
			end := bytes.IndexByte(extra[i:], '\n')
			if end < 0 {
				return extra, nil
			}
			i += end - 1
		}
	}
	return extra, nil
}

// lineIndent returns the leading whitespace of the last line of extra, and
// whether extra has a line break at all.
func lineIndent(extra []byte) (string, bool) {
	i := bytes.LastIndexByte(extra, '\n')
	if i < 0 {
		return "", false
	}
	last := extra[i+1:]
	n := 0
	for n < len(last) && (last[n] == ' ' || last[n] == '\t') {
		n++
	}
	return string(last[:n]), true
}

// indentOf is lineIndent with a fallback for members that share a line.
func indentOf(extra []byte, fallback string) string {
	if ind, ok := lineIndent(extra); ok {
		return ind
	}
	return fallback
}

// validJSON checks that b parses with the client's format: strict JSON, or
// JSON with comments and trailing commas.
func validJSON(b []byte, format string) error {
	b = bytes.TrimPrefix(b, utf8BOM)
	if format == FormatJSONC {
		b = bytes.Clone(b) // Standardize blanks comments in place
		v, err := hujson.Parse(b)
		if err != nil {
			return err
		}
		v.Standardize()
		b = v.Pack()
	}
	var x any
	return json.Unmarshal(b, &x)
}
