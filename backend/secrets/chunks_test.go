package secrets

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplitKeepsCharactersWholeAndPartsSmall(t *testing.T) {
	v := bigValue(5_000)
	for _, size := range []int{1, 3, 7, 500, 4_999, 5_000, 10_000} {
		ps := split(v, size)
		if strings.Join(ps, "") != v {
			t.Fatalf("size %d: parts do not join back", size)
		}
		for i, p := range ps {
			if len(p) == 0 || len(p) > size {
				t.Fatalf("size %d: part %d is %d bytes", size, i, len(p))
			}
			if size >= utf8.UTFMax && !utf8.ValidString(p) {
				t.Fatalf("size %d: part %d cuts a character", size, i)
			}
		}
	}
}

func TestHeaderParsing(t *testing.T) {
	n, sum, ok, err := parseHeader(header(3, "value"))
	if n != 3 || sum != digest("value") || !ok || err != nil {
		t.Fatalf("parseHeader(header) = %d, %q, %v, %v", n, sum, ok, err)
	}
	if _, _, ok, err := parseHeader("plain value"); ok || err != nil {
		t.Fatalf("plain value taken for a header: %v, %v", ok, err)
	}
	for _, bad := range []string{
		chunkPrefix + "v2:1:abc",
		chunkV1 + "x:" + digest("v"),
		chunkV1 + "0:" + digest("v"),
		chunkV1 + "99999:" + digest("v"),
		chunkV1 + "2:short",
		chunkV1 + "2",
	} {
		if _, _, ok, err := parseHeader(bad); !ok || err == nil {
			t.Fatalf("parseHeader(%q) = %v, %v; want a damaged header", bad, ok, err)
		}
	}
}
