package cli

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/patchbay/patchbay/backend"
)

// readSecretArg turns a secret flag's value into a Secret: "-" asks at a
// prompt (or reads the next line of standard input when it is not a
// terminal), "${NAME}" is an environment reference, anything else is
// refused because it would be in the shell history.
func (env *Env) readSecretArg(flagName, value, prompt string) (*backend.Secret, error) {
	value = strings.TrimSpace(value)
	if name, ok := backend.ParseEnvRef(value); ok {
		return &backend.Secret{Source: backend.SecretEnv, Env: name}, nil
	}
	if value != "-" {
		return nil, backend.Errorf(backend.EINVALID, "%s does not take a secret value on the command line (it would be saved in your shell history).", flagName).
			WithSlug("secret_on_command_line").
			WithFix(fmt.Sprintf("Use %s - to be asked for it (or to read it from standard input), or %s '${ENV_VAR}' to use an environment variable.", flagName, flagName))
	}
	v, err := env.readSecret(prompt)
	if err != nil {
		return nil, err
	}
	if v == "" {
		return nil, backend.Errorf(backend.EINVALID, "No value was given for %s.", flagName).
			WithFix("Type the value at the prompt, or pipe it on standard input (one line per secret).")
	}
	return &backend.Secret{Value: v}, nil
}

// readSecret reads one secret: at a prompt without echo on a terminal, else
// one line of standard input.
func (env *Env) readSecret(prompt string) (string, error) {
	if env.StdinIsTerminal && env.ReadPassword != nil {
		fmt.Fprintf(env.Stderr, "%s: ", prompt)
		v, err := env.ReadPassword()
		fmt.Fprintln(env.Stderr)
		return strings.TrimSpace(v), err
	}
	if env.stdinLines == nil {
		env.stdinLines = bufio.NewReader(env.Stdin)
	}
	line, err := env.stdinLines.ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	if err == io.EOF && line == "" {
		return "", backend.Errorf(backend.EINVALID, "Standard input ended before the %s was read.", strings.ToLower(prompt)).
			WithFix("Pipe one line per secret, in the order the flags were given.")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// confirm asks a yes/no question on a terminal. Without a terminal it
// answers no: a script must say --yes.
func (env *Env) confirm(question string) bool {
	if !env.StdinIsTerminal {
		return false
	}
	fmt.Fprintf(env.Stderr, "%s [y/N] ", question)
	if env.stdinLines == nil {
		env.stdinLines = bufio.NewReader(env.Stdin)
	}
	line, _ := env.stdinLines.ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}

// iconDataURL reads an image file and returns it as a data: URL.
func iconDataURL(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", backend.Errorf(backend.EINVALID, "Cannot read the icon file: %v.", err)
	}
	mime := http.DetectContentType(data)
	if strings.EqualFold(filepath.Ext(path), ".svg") {
		mime = "image/svg+xml"
	}
	mime, _, _ = strings.Cut(mime, ";")
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(data), nil
}

// parseHeader splits "Name: value".
func parseHeader(s string) (string, string, error) {
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return "", "", backend.Errorf(backend.EINVALID, "The header %q is not in the form \"Name: value\".", s)
	}
	return strings.TrimSpace(name), strings.TrimSpace(value), nil
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ", ") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }
