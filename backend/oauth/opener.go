package oauth

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/pkg/browser"
)

var quietBrowser sync.Once

// DefaultOpener opens url in the person's browser. $BROWSER, when set, is
// honoured the way xdg-utils and Python's webbrowser do: a list of commands
// separated by colons, each tried in turn; "%s" in a command is replaced by
// the URL, else the URL is appended. The command is started, not waited
// for. Without $BROWSER the system's default browser is used.
//
// Tests and headless setups use $BROWSER to drive the sign-in with a
// program of their own.
func DefaultOpener(url string) error {
	if env := strings.TrimSpace(os.Getenv("BROWSER")); env != "" {
		return openWithBrowserEnv(env, url)
	}
	quietBrowser.Do(func() {
		// pkg/browser copies the opener's output to ours, which would end up
		// in the middle of CLI output.
		browser.Stdout, browser.Stderr = io.Discard, io.Discard
	})
	return browser.OpenURL(url)
}

func openWithBrowserEnv(env, url string) error {
	var errs []error
	for _, entry := range strings.Split(env, ":") {
		args := strings.Fields(entry)
		if len(args) == 0 {
			continue
		}
		replaced := false
		for i, a := range args {
			if strings.Contains(a, "%s") {
				args[i] = strings.ReplaceAll(a, "%s", url)
				replaced = true
			}
		}
		if !replaced {
			args = append(args, url)
		}
		cmd := exec.Command(args[0], args[1:]...)
		if err := cmd.Start(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", args[0], err))
			continue
		}
		// Reap it whenever it ends; its exit status does not matter — the
		// sign-in ends when the browser comes back, or times out.
		go func() { _ = cmd.Wait() }()
		return nil
	}
	if len(errs) == 0 {
		return errors.New("$BROWSER names no command")
	}
	return fmt.Errorf("$BROWSER: %w", errors.Join(errs...))
}
