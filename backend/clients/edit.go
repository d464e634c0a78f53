package clients

import (
	"github.com/patchbay/patchbay/backend"
)

// editor changes one client's configuration file in memory.
type editor interface {
	// has reports whether an entry called name exists.
	has(name string) bool
	// set adds or replaces the entry and reports whether it created the
	// table of servers.
	set(name string, entry Object) (createdContainer bool, err error)
	// remove deletes the entry (and the table of servers when dropEmpty and
	// it is left empty) and reports whether it was there.
	remove(name string, dropEmpty bool) (bool, error)
	// empty reports whether nothing is left in the file.
	empty() bool
	bytes() []byte
}

// openEditor parses b, the client's file at path (nil when missing).
func openEditor(c *Client, path string, b []byte) (editor, error) {
	if c.Format == FormatTOML {
		d, err := parseTOMLDoc(b, c.Container)
		if err != nil {
			return nil, unreadable(c, path, "TOML", err)
		}
		return d, nil
	}
	d, err := parseJSONDoc(b, c.Container)
	if err != nil {
		return nil, unreadable(c, path, "JSON", err)
	}
	return d, nil
}

func unreadable(c *Client, path, format string, err error) error {
	return &backend.Error{
		Code: backend.EINVALID, Slug: "config_unreadable", Err: err,
		Message:      c.Name + "'s configuration file " + path + " is not valid " + format + ": " + err.Error() + ".",
		SuggestedFix: "Fix the file (or move it aside) and try again; Patchbay does not change a file it cannot read. Or add the entry by hand with the snippet.",
	}
}

func uneditable(c *Client, path string, err error) error {
	return &backend.Error{
		Code: backend.ECONFLICT, Slug: "config_uneditable", Err: err,
		Message:      "Patchbay cannot change " + c.Name + "'s configuration file " + path + " safely: " + err.Error() + ".",
		SuggestedFix: "Nothing was changed. Edit the file by hand with the snippet, or fix the part named above and try again.",
	}
}
