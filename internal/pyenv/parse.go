package pyenv

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ensurepipBlock is the first part of every install prelude kfp emits: it
// bootstraps pip in images that lack it. A cached environment always has an
// installer, so the block is dropped.
const ensurepipBlock = `
if ! [ -x "$(command -v pip)" ]; then
    python3 -m ensurepip || python3 -m ensurepip --user || apt-get install python3-pip
fi
`

// useVenvBlock is what kfp inserts before the kfp install when a component
// sets use_venv=True: a throw-away virtual environment inheriting the image's
// site-packages. A cached environment is already a virtual environment, so
// the block only marks Requirements.UseVenv.
const useVenvBlock = `
export PIP_DISABLE_PIP_VERSION_CHECK=1
tmp=$(mktemp -d)
python3 -m venv "$tmp/venv" --system-site-packages
. "$tmp/venv/bin/activate"
`

var (
	ensurepipTokens = mustLex(ensurepipBlock)
	useVenvCommands = mustCommands(useVenvBlock)
)

func mustLex(s string) []token {
	toks, err := lexShell(s)
	if err != nil {
		panic(err)
	}
	return trimNewlines(toks)
}

func mustCommands(s string) []command {
	cmds, err := splitCommands(mustLex(s))
	if err != nil {
		panic(err)
	}
	return cmds
}

// ParseCommand recognises the argv of a KFP lightweight Python component
// whose first three elements are the `sh -c <install prelude>` that kfp puts
// in front of the real command, as emitted by kfp 2.x:
//
//	sh -c '<ensurepip block>
//	PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install ... && "$0" "$@"' <rest...>
//
// On success req holds one Install per `python3 -m pip install` of the
// prelude, in order, and rest is argv[3:], the command the prelude would
// have executed with "$0" "$@" once the installs succeeded. Run rest in an
// environment that satisfies req (see Manager.Ensure) instead of argv.
//
// Anything else yields ok == false: an argv without the prelude, a prelude
// holding shell constructs or pip options this package does not model, or
// words that need the shell to expand them. The caller then runs argv
// unchanged.
func ParseCommand(argv []string) (req Requirements, rest []string, ok bool) {
	if len(argv) < 4 || (argv[0] != "sh" && argv[0] != "/bin/sh") || argv[1] != "-c" {
		return Requirements{}, nil, false
	}
	req, err := parsePrelude(argv[2])
	if err != nil {
		return Requirements{}, nil, false
	}
	return req, slices.Clone(argv[3:]), true
}

// command is one simple command of a script and the separator following it
// ("&&", ";" for a newline or semicolon, "" at the end).
type command struct {
	words []token
	sep   string
}

func trimNewlines(toks []token) []token {
	out := make([]token, 0, len(toks))
	for _, t := range toks {
		if t.kind == tokOp && t.raw == "\n" && (len(out) == 0 || (out[len(out)-1].kind == tokOp && out[len(out)-1].raw == "\n")) {
			continue
		}
		out = append(out, t)
	}
	for len(out) > 0 && out[len(out)-1].kind == tokOp && out[len(out)-1].raw == "\n" {
		out = out[:len(out)-1]
	}
	return out
}

// splitCommands cuts a token list into simple commands joined by "&&",
// ";" or newlines. Any other operator is refused: the prelude grammar kfp
// emits needs no pipes, subshells, redirections or "||".
func splitCommands(toks []token) ([]command, error) {
	var cmds []command
	var cur []token
	afterAnd := false
	for _, t := range toks {
		if t.kind == tokWord {
			cur = append(cur, t)
			afterAnd = false
			continue
		}
		switch t.raw {
		case "\n":
			if len(cur) == 0 {
				continue // blank line, or the line break after "&&"
			}
			cmds = append(cmds, command{words: cur, sep: ";"})
		case ";", "&&":
			if len(cur) == 0 || afterAnd {
				return nil, fmt.Errorf("empty command before %q", t.raw)
			}
			sep := t.raw
			cmds = append(cmds, command{words: cur, sep: sep})
			afterAnd = sep == "&&"
		default:
			return nil, fmt.Errorf("unsupported shell operator %q", t.raw)
		}
		cur = nil
	}
	if afterAnd {
		return nil, errors.New("script ends with \"&&\"")
	}
	if len(cur) > 0 {
		cmds = append(cmds, command{words: cur})
	}
	return cmds, nil
}

func sameRaw(a, b []token) bool {
	return slices.EqualFunc(a, b, func(x, y token) bool { return x.kind == y.kind && x.raw == y.raw })
}

func hasCommands(cmds, want []command) bool {
	if len(cmds) < len(want) {
		return false
	}
	for i := range want {
		if !sameRaw(cmds[i].words, want[i].words) {
			return false
		}
	}
	return true
}

// parsePrelude interprets the install script. It accepts, in order: the
// optional ensurepip block; then simple commands joined by "&&" or line
// breaks, each one of
//
//   - PIP_DISABLE_PIP_VERSION_CHECK=1 assignments (alone or as a prefix),
//   - the use_venv block,
//   - python3 -m pip install <options and requirements>,
//
// and finally "$0" "$@" after "&&", which must be the last command.
func parsePrelude(script string) (Requirements, error) {
	toks, err := lexShell(script)
	if err != nil {
		return Requirements{}, err
	}
	toks = trimNewlines(toks)
	if len(toks) >= len(ensurepipTokens) && sameRaw(toks[:len(ensurepipTokens)], ensurepipTokens) {
		toks = toks[len(ensurepipTokens):]
	}
	cmds, err := splitCommands(toks)
	if err != nil {
		return Requirements{}, err
	}
	var req Requirements
	ran := false
	for i := 0; i < len(cmds); i++ {
		if ran {
			return Requirements{}, errors.New(`commands after "$0" "$@"`)
		}
		if hasCommands(cmds[i:], useVenvCommands) {
			req.UseVenv = true
			i += len(useVenvCommands) - 1
			continue
		}
		words := cmds[i].words
		for len(words) > 0 && isAssignment(words[0]) {
			name, _, _ := strings.Cut(words[0].value, "=")
			if name != "PIP_DISABLE_PIP_VERSION_CHECK" || words[0].expands {
				return Requirements{}, fmt.Errorf("unsupported assignment %s", words[0].raw)
			}
			words = words[1:]
		}
		switch {
		case len(words) == 0:
		case isRunArgs(words):
			if i == 0 || cmds[i-1].sep != "&&" {
				return Requirements{}, errors.New(`"$0" "$@" does not follow "&&"`)
			}
			ran = true
		case isPipInstall(words):
			in, err := parsePipInstall(words[4:])
			if err != nil {
				return Requirements{}, err
			}
			req.Installs = append(req.Installs, in)
		default:
			return Requirements{}, fmt.Errorf("unsupported command %s", words[0].raw)
		}
	}
	if !ran {
		return Requirements{}, errors.New(`no "$0" "$@"`)
	}
	if len(req.Installs) == 0 {
		return Requirements{}, errors.New("no pip install")
	}
	return req, nil
}

// isAssignment reports whether a word is an unquoted NAME=value prefix.
func isAssignment(t token) bool {
	name, _, found := strings.Cut(t.raw, "=")
	if !found || name == "" || isASCIIDigit(name[0]) {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c == '_' || isASCIILetter(c) || isASCIIDigit(c)) {
			return false
		}
	}
	return true
}

func isRunArgs(words []token) bool {
	return len(words) == 2 && words[0].raw == `"$0"` && words[1].raw == `"$@"`
}

func isPipInstall(words []token) bool {
	if len(words) < 4 {
		return false
	}
	for i, w := range []string{"python3", "-m", "pip", "install"} {
		if words[i].expands || words[i].value != w {
			return false
		}
	}
	return true
}

// parsePipInstall reads the arguments of one `pip install`. It keeps the
// options that change what gets installed or from where, drops the ones
// that only change pip's chatter, and refuses every other option (-r, -e,
// --target, --user, --pre, ...), so that a recognised prelude is always one
// this package reproduces faithfully.
func parsePipInstall(args []token) (Install, error) {
	var in Install
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a.expands {
			return Install{}, fmt.Errorf("pip argument %s needs shell expansion", a.raw)
		}
		v := a.value
		name, inline, hasInline := strings.Cut(v, "=")
		value := func() (string, error) {
			if hasInline {
				return inline, nil
			}
			if i+1 >= len(args) || args[i+1].expands {
				return "", fmt.Errorf("pip option %s has no literal value", name)
			}
			i++
			return args[i].value, nil
		}
		switch {
		case v == "--quiet" || v == "-q" || v == "-qq" || v == "-qqq" ||
			v == "--no-warn-script-location" || v == "--disable-pip-version-check" ||
			v == "--no-input" || v == "--no-cache-dir":
		case v == "--no-deps":
			in.NoDeps = true
		case strings.HasPrefix(v, "-") && (name == "--index-url" || name == "-i"):
			u, err := value()
			if err != nil {
				return Install{}, err
			}
			in.IndexURL = u
		case strings.HasPrefix(v, "-") && name == "--extra-index-url":
			u, err := value()
			if err != nil {
				return Install{}, err
			}
			in.ExtraIndexURLs = append(in.ExtraIndexURLs, u)
		case strings.HasPrefix(v, "-") && name == "--trusted-host":
			h, err := value()
			if err != nil {
				return Install{}, err
			}
			in.TrustedHosts = append(in.TrustedHosts, h)
		case strings.HasPrefix(v, "-"):
			return Install{}, fmt.Errorf("unsupported pip option %s", v)
		default:
			in.Packages = append(in.Packages, v)
		}
	}
	if len(in.Packages) == 0 {
		return Install{}, errors.New("pip install without requirements")
	}
	return in, nil
}
