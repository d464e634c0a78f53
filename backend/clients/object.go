package clients

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Field is one member of an Object.
type Field struct {
	Key string
	// Value is a string, a []string or an Object.
	Value any
}

// Object is a configuration object whose members keep their order, so that
// written entries read naturally ("type", then "url", then "headers").
type Object []Field

// jsonString encodes s as a JSON string without HTML escaping, so that
// placeholders like <PATCHBAY_TOKEN> stay readable.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// renderJSON writes o as indented JSON. The first line has no indent (it
// follows a member name); later lines start with indent, nested levels add
// unit; lines end with nl.
func renderJSON(o Object, indent, unit, nl string) []byte {
	var b strings.Builder
	writeJSONValue(&b, o, indent, unit, nl)
	return []byte(b.String())
}

func writeJSONValue(b *strings.Builder, v any, indent, unit, nl string) {
	switch v := v.(type) {
	case string:
		b.WriteString(jsonString(v))
	case []string:
		b.WriteByte('[')
		for i, s := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(jsonString(s))
		}
		b.WriteByte(']')
	case Object:
		if len(v) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for i, f := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(nl + indent + unit + jsonString(f.Key) + ": ")
			writeJSONValue(b, f.Value, indent+unit, unit, nl)
		}
		b.WriteString(nl + indent + "}")
	default:
		panic(fmt.Sprintf("clients: unsupported value %T", v))
	}
}

// renderJSONCompact writes o as one line of JSON.
func renderJSONCompact(o Object) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, renderJSON(o, "", "", "\n")); err != nil {
		panic("clients: rendered JSON does not parse: " + err.Error())
	}
	return b.Bytes()
}

// plain converts o to the generic form encoding/json and go-toml decode
// into (map[string]any, []any), to compare a written entry with what a
// parser reads back.
func plain(v any) any {
	switch v := v.(type) {
	case Object:
		m := make(map[string]any, len(v))
		for _, f := range v {
			m[f.Key] = plain(f.Value)
		}
		return m
	case []string:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	default:
		return v
	}
}
