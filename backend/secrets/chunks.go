package secrets

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A value too large for one keychain entry is split: its parts are stored
// under "<key>#1" … "<key>#n" and the entry under key holds only a header,
//
//	patchbay-chunks:v1:<n>:<sha256 of the whole value, hex>
//
// The hash makes reassembly safe: parts left over from an interrupted write
// give a clear error, never a wrong value. A value that itself begins with
// chunkPrefix is stored split too (n may be 1), so that no stored value is
// ever mistaken for a header.
const (
	chunkPrefix = "patchbay-chunks:"
	chunkV1     = chunkPrefix + "v1:"
)

// maxChunks bounds n in a header read back from the keychain, so that a
// damaged header cannot make Get issue millions of calls.
const maxChunks = 4096

var chunkSuffixRe = regexp.MustCompile(`#[0-9]+$`)

func chunkKey(key string, i int) string { return key + "#" + strconv.Itoa(i) }

func digest(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}

func header(n int, value string) string {
	return fmt.Sprintf("%s%d:%s", chunkV1, n, digest(value))
}

// needsChunks reports whether value must be stored split.
func needsChunks(value string, size int) bool {
	return len(value) > size || strings.HasPrefix(value, chunkPrefix)
}

// split cuts value into parts of at most size bytes, preferring to cut
// between UTF-8 characters so that each part stays readable text.
func split(value string, size int) []string {
	var parts []string
	for len(value) > 0 {
		end := min(size, len(value))
		if end < len(value) {
			cut := end
			for cut > end-utf8.UTFMax && cut > 0 && !utf8.RuneStart(value[cut]) {
				cut--
			}
			if cut > 0 && utf8.RuneStart(value[cut]) {
				end = cut
			}
		}
		parts = append(parts, value[:end])
		value = value[end:]
	}
	return parts
}

// parseHeader reads a header. ok is false when v is a plain value; err is
// set when v looks like a header but cannot be used.
func parseHeader(v string) (n int, sum string, ok bool, err error) {
	if !strings.HasPrefix(v, chunkPrefix) {
		return 0, "", false, nil
	}
	rest, isV1 := strings.CutPrefix(v, chunkV1)
	if !isV1 {
		return 0, "", true, fmt.Errorf("it was stored in a format this version of Patchbay does not know")
	}
	count, sum, found := strings.Cut(rest, ":")
	n, convErr := strconv.Atoi(count)
	if !found || convErr != nil || n < 1 || n > maxChunks || len(sum) != sha256.Size*2 {
		return 0, "", true, fmt.Errorf("its header is damaged")
	}
	return n, sum, true, nil
}
