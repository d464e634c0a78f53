// Package cli is Patchbay's command line: `patchbay connector add`, `patchbay
// activity --follow` and the rest. It is built on the standard flag package
// (one FlagSet per command) to keep the binary small and dependency-free.
//
// Every command speaks the admin API through an *api.Client: to the running
// instance when there is one, else to an in-process backend on the same data
// directory. The two paths are one code path, so the CLI behaves the same
// whether or not the app is open.
//
// Secret values are never taken from a flag's value, which would land in
// shell history: a secret flag takes "-" (ask at a prompt, or read a line of
// standard input when it is not a terminal) or an ${ENV_VAR} reference.
package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/patchbay/patchbay/backend"
	"github.com/patchbay/patchbay/backend/api"
)

// Env is what commands need from the world. main fills it in.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// StdinIsTerminal says whether secrets can be asked at a prompt.
	StdinIsTerminal bool
	// ReadPassword reads a line from the terminal without echo.
	ReadPassword func() (string, error)
	// Connect returns an API client for the running instance or for an
	// in-process backend, and a function to release it.
	Connect func(ctx context.Context) (*api.Client, func(), error)
	// Extra holds commands that need the app (serve, stdio, …), keyed by name.
	Extra map[string]Command
	// Version is printed by `patchbay version`.
	Version string

	stdinLines *bufio.Reader
}

// Command is one subcommand.
type Command struct {
	Summary string
	Run     func(ctx context.Context, env *Env, args []string) error
}

// ErrUsage marks a usage error; the command printed its help already.
var ErrUsage = errors.New("usage")

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

func (env *Env) commands() map[string]Command {
	cmds := map[string]Command{
		"connector":    {"add, list, show, edit, remove, test connectors", runConnector},
		"tools":        {"list a connector's tools, set policies, accept changes", runTools},
		"conversation": {"list, create, rename, delete conversations; enable connectors", runConversation},
		"token":        {"list, create and revoke client tokens", runToken},
		"approvals":    {"list pending approvals; allow or deny them", runApprovals},
		"activity":     {"show the activity log (--follow for live)", runActivity},
		"settings":     {"show or change settings", runSettings},
		"clients":      {"connect desktop AI clients (Claude, Cursor, VS Code, …): list, connect, disconnect, undo, snippet", runClients},
		"version": {"print the version", func(ctx context.Context, env *Env, args []string) error {
			fmt.Fprintln(env.Stdout, "patchbay", env.Version)
			return nil
		}},
	}
	for k, v := range env.Extra {
		cmds[k] = v
	}
	return cmds
}

// Run runs the command line args (without the program name) and returns the
// process exit code.
func Run(ctx context.Context, env *Env, args []string) int {
	cmds := env.commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		env.usage(cmds)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "patchbay: unknown command %q\n\n", args[0])
		env.usage(cmds)
		return ExitUsage
	}
	if err := cmd.Run(ctx, env, args[1:]); err != nil {
		if errors.Is(err, ErrUsage) || errors.Is(err, flag.ErrHelp) {
			if errors.Is(err, flag.ErrHelp) {
				return ExitOK
			}
			return ExitUsage
		}
		env.printError(err)
		return ExitError
	}
	return ExitOK
}

func (env *Env) usage(cmds map[string]Command) {
	w := env.Stderr
	fmt.Fprintln(w, "Patchbay connects your desktop AI clients to your MCP connectors.")
	fmt.Fprintln(w, "\nUsage: patchbay [command] [arguments]")
	fmt.Fprintln(w, "\nWith no command, the desktop app starts (or, without a display, the headless server).")
	fmt.Fprintln(w, "\nCommands:")
	var names []string
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-13s %s\n", n, cmds[n].Summary)
	}
	fmt.Fprintln(w, "\nRun `patchbay COMMAND -h` for a command's flags. Data: $PATCHBAY_HOME or the OS config dir.")
}

// printError writes err for a person: the message, each field problem, and
// the suggested fix.
// PrintError writes err for a person on env.Stderr.
func PrintError(env *Env, err error) { env.printError(err) }

func (env *Env) printError(err error) {
	var be *backend.Error
	if !errors.As(err, &be) {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return
	}
	fmt.Fprintf(env.Stderr, "Error: %s\n", be.Message)
	for _, f := range be.Fields {
		fmt.Fprintf(env.Stderr, "  - %s: %s\n", f.Field, f.Message)
	}
	if be.SuggestedFix != "" {
		fmt.Fprintf(env.Stderr, "Fix: %s\n", be.SuggestedFix)
	}
}

// client connects and returns a client and its release function.
func (env *Env) client(ctx context.Context) (*api.Client, func(), error) {
	return env.Connect(ctx)
}

// newFlags returns a FlagSet that prints its usage to stderr.
func (env *Env) newFlags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: patchbay %s\n", usage)
		var any bool
		fs.VisitAll(func(*flag.Flag) { any = true })
		if any {
			fmt.Fprintln(env.Stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses flags and checks the number of positional arguments.
func parse(fs *flag.FlagSet, args []string, minArgs, maxArgs int) error {
	// Allow flags after positional arguments ("show NAME --json"), which the
	// flag package does not do by itself.
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") {
				if f := fs.Lookup(name); f != nil {
					if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !bf.IsBoolFlag() {
						if i+1 < len(args) {
							flags = append(flags, args[i+1])
							i++
						}
					}
				}
			}
			continue
		}
		pos = append(pos, a)
	}
	if err := fs.Parse(append(flags, append([]string{"--"}, pos...)...)); err != nil {
		return err
	}
	if n := fs.NArg(); n < minArgs || (maxArgs >= 0 && n > maxArgs) {
		fs.Usage()
		return ErrUsage
	}
	return nil
}

// printJSON writes v as indented JSON.
func (env *Env) printJSON(v any) error {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// subcommand dispatches args[0] among subs.
func subcommand(ctx context.Context, env *Env, group string, args []string, subs map[string]func(context.Context, *Env, []string) error, order []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(env.Stderr, "Usage: patchbay %s <%s> [arguments]\n", group, strings.Join(order, "|"))
		if len(args) == 0 {
			return ErrUsage
		}
		return flag.ErrHelp
	}
	fn, ok := subs[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "patchbay %s: unknown subcommand %q (want one of %s)\n", group, args[0], strings.Join(order, ", "))
		return ErrUsage
	}
	return fn(ctx, env, args[1:])
}

// OSEnv returns an Env for the real terminal, except Connect, Extra and
// Version, which main sets.
func OSEnv(isTerminal func(fd int) bool, readPassword func(fd int) ([]byte, error)) *Env {
	fd := int(os.Stdin.Fd())
	return &Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		StdinIsTerminal: isTerminal(fd),
		ReadPassword: func() (string, error) {
			b, err := readPassword(fd)
			return string(b), err
		},
	}
}

// call is do for a read-like command: with --json it also prints the
// answer, and done reports that the command has nothing left to print.
func (env *Env) call(ctx context.Context, method, path string, in, out any, jsonOut bool) (done bool, err error) {
	if err := env.do(ctx, method, path, in, out); err != nil {
		return true, err
	}
	if jsonOut {
		return true, env.printJSON(out)
	}
	return false, nil
}

// do connects, sends one request to the admin API and releases the
// connection: what most commands need.
func (env *Env) do(ctx context.Context, method, path string, in, out any) error {
	cl, done, err := env.client(ctx)
	if err != nil {
		return err
	}
	defer done()
	return cl.Do(ctx, method, path, in, out)
}
