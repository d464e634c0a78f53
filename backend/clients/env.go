package clients

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
)

// Env is the part of the machine that decides where clients keep their
// configuration and whether they are installed. Everything is injectable so
// that tests on one Linux machine can compute the paths of macOS and Windows
// too (with Windows separators).
type Env struct {
	// GOOS is "linux", "darwin" or "windows".
	GOOS string
	// Home is the user's home directory (%USERPROFILE% on Windows).
	Home string
	// AppData and LocalAppData are Windows' %APPDATA% (roaming) and
	// %LOCALAPPDATA%; derived from Home when empty.
	AppData, LocalAppData string
	// Getenv reads an environment variable (XDG_CONFIG_HOME, CODEX_HOME,
	// CLAUDE_CONFIG_DIR); nil reads none.
	Getenv func(string) string
	// LookPath finds a command on PATH; nil finds none.
	LookPath func(string) (string, error)
	// Exists reports whether a file or directory exists; nil means none do.
	Exists func(string) bool
	// Glob lists paths matching a pattern; nil matches nothing.
	Glob func(string) ([]string, error)
}

// OSEnv returns the Env of this machine.
func OSEnv() *Env {
	home, _ := os.UserHomeDir()
	return &Env{
		GOOS:         runtime.GOOS,
		Home:         home,
		AppData:      os.Getenv("APPDATA"),
		LocalAppData: os.Getenv("LOCALAPPDATA"),
		Getenv:       os.Getenv,
		LookPath:     exec.LookPath,
		Exists: func(p string) bool {
			_, err := os.Stat(p)
			return err == nil
		},
		Glob: filepath.Glob,
	}
}

func (e *Env) getenv(k string) string {
	if e.Getenv == nil {
		return ""
	}
	return strings.TrimSpace(e.Getenv(k))
}

func (e *Env) exists(p string) bool { return p != "" && e.Exists != nil && e.Exists(p) }

func (e *Env) onPath(names ...string) bool {
	if e.LookPath == nil {
		return false
	}
	for _, n := range names {
		if e.GOOS == "windows" && !strings.Contains(n, ".") {
			n += ".exe"
		}
		if _, err := e.LookPath(n); err == nil {
			return true
		}
	}
	return false
}

func (e *Env) anyExists(paths ...string) bool {
	for _, p := range paths {
		if e.exists(p) {
			return true
		}
	}
	return false
}

// Join joins path elements with the separator of e.GOOS, whatever the OS
// this runs on.
func (e *Env) Join(elem ...string) string {
	if e.GOOS != "windows" {
		return path.Join(elem...)
	}
	var parts []string
	for _, p := range elem {
		p = strings.ReplaceAll(p, "/", `\`)
		if p == "" {
			continue
		}
		if len(parts) > 0 {
			p = strings.Trim(p, `\`)
		} else {
			p = strings.TrimRight(p, `\`)
			if len(p) == 2 && p[1] == ':' {
				p += `\` // keep "C:\" rooted
			}
		}
		if p != "" {
			parts = append(parts, strings.TrimRight(p, `\`))
		}
	}
	return strings.Join(parts, `\`)
}

// IsAbs reports whether p is absolute for e.GOOS.
func (e *Env) IsAbs(p string) bool {
	if e.GOOS != "windows" {
		return strings.HasPrefix(p, "/")
	}
	if strings.HasPrefix(p, `\\`) {
		return true // UNC
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/')
}

// configHome is where XDG-following apps keep configuration on Linux.
func (e *Env) configHome() string {
	if x := e.getenv("XDG_CONFIG_HOME"); x != "" && e.GOOS == "linux" {
		return x
	}
	return e.Join(e.Home, ".config")
}

func (e *Env) appData() string {
	if e.AppData != "" {
		return e.AppData
	}
	return e.Join(e.Home, "AppData", "Roaming")
}

func (e *Env) localAppData() string {
	if e.LocalAppData != "" {
		return e.LocalAppData
	}
	return e.Join(e.Home, "AppData", "Local")
}

// appSupport returns the per-user application data directory an Electron
// app named name uses: ~/Library/Application Support/name on macOS,
// %APPDATA%\name on Windows and $XDG_CONFIG_HOME/name on Linux.
func (e *Env) appSupport(name string) string {
	switch e.GOOS {
	case "darwin":
		return e.Join(e.Home, "Library", "Application Support", name)
	case "windows":
		return e.Join(e.appData(), name)
	default:
		return e.Join(e.configHome(), name)
	}
}

// macApp reports whether /Applications/name.app or ~/Applications/name.app
// exists.
func (e *Env) macApp(name string) bool {
	return e.GOOS == "darwin" && e.anyExists("/Applications/"+name+".app", e.Join(e.Home, "Applications", name+".app"))
}

// winProgram reports whether %LOCALAPPDATA%\Programs\dir\exe exists (the
// per-user installers of Electron apps put them there).
func (e *Env) winProgram(dir, exe string) bool {
	return e.GOOS == "windows" && e.exists(e.Join(e.localAppData(), "Programs", dir, exe))
}
