package gateway

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRedactor(t *testing.T) {
	r := &redactor{}
	r.setValues([]string{"canary-0123456789", `quo"te\secret`, "tiny"})
	in := map[string]any{
		"a":        "the key is canary-0123456789!",
		"b":        `odd quo"te\secret here`,
		"c":        "Authorization: Bearer abc.def-ghi_jkl~mno",
		"jwt":      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
		"pem":      "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
		"keys":     "sk-ant-api03-abcdefghijklmnopqrstuv ghp_abcdefghijklmnopqrstuvwxyz0123456789 AKIAIOSFODNN7EXAMPLE xoxb-1234567890-abcdef",
		"password": "hunter2hunter2",
		"nested":   `{"api_key": "zzz-not-a-pattern-zzz"}`,
		"tiny":     "tiny stays",
		"prose":    "a token limit, the basic plan, bearer of news",
	}
	raw, _ := json.Marshal(in)
	out := r.JSON(raw)
	if !json.Valid(out) {
		t.Fatalf("not JSON: %s", out)
	}
	for _, leak := range []string{"canary-0123456789", `quo\"te\\secret`, "abc.def-ghi_jkl~mno", "dozjgNryP4J3", "MIIEowIBAAKCAQEA",
		"abcdefghijklmnopqrstuv", "ghp_abc", "AKIAIOSFODNN7EXAMPLE", "xoxb-1234567890", "hunter2", "zzz-not-a-pattern-zzz"} {
		if strings.Contains(string(out), leak) {
			t.Errorf("%q survived: %s", leak, out)
		}
	}
	for _, keep := range []string{"tiny stays", "a token limit, the basic plan, bearer of news"} {
		if !strings.Contains(string(out), keep) {
			t.Errorf("%q was redacted: %s", keep, out)
		}
	}
}
