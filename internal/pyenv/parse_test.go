package pyenv

import (
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fixtureComponent is one executor of testdata/kfp-2.17.3-commands.json,
// produced by testdata/gen_commands.py with the kfp 2.17.3 SDK.
type fixtureComponent struct {
	Image   string   `json:"image"`
	Command []string `json:"command"`
	Args    []string `json:"args"`
}

func (c fixtureComponent) argv() []string { return slices.Concat(c.Command, c.Args) }

func loadFixtures(t *testing.T) map[string]fixtureComponent {
	t.Helper()
	data, err := os.ReadFile("testdata/kfp-2.17.3-commands.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		KFPVersion string                      `json:"kfp_version"`
		Components map[string]fixtureComponent `json:"components"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if f.KFPVersion != "2.17.3" {
		t.Fatalf("fixtures compiled with kfp %s, want 2.17.3", f.KFPVersion)
	}
	return f.Components
}

// kfpInstall is the install kfp 2.17.3 adds for itself.
func kfpInstall(opts Install) Install {
	opts.Packages = []string{"kfp==2.17.3", `typing-extensions>=3.7.4,<5; python_version<"3.9"`}
	opts.NoDeps = true
	return opts
}

func TestParseCommandKFPFixtures(t *testing.T) {
	fixtures := loadFixtures(t)
	pypi := "https://pypi.org/simple"
	tests := []struct {
		name string
		want *Requirements // nil: not recognised
	}{
		{"plain", &Requirements{Installs: []Install{kfpInstall(Install{})}}},
		{"base_image", &Requirements{Installs: []Install{kfpInstall(Install{})}}},
		{"packages", &Requirements{Installs: []Install{
			{Packages: []string{"numpy", "pandas>=2,<3", "requests[socks]==2.32.3", `six; python_version>="3"`}},
			kfpInstall(Install{}),
		}}},
		{"index_one", &Requirements{Installs: []Install{
			{Packages: []string{"numpy"}, IndexURL: pypi, TrustedHosts: []string{pypi}},
			kfpInstall(Install{IndexURL: pypi, TrustedHosts: []string{pypi}}),
		}}},
		{"index_many", &Requirements{Installs: []Install{
			{Packages: []string{"numpy"}, IndexURL: pypi, ExtraIndexURLs: []string{"https://example.com/simple"},
				TrustedHosts: []string{pypi, "https://example.com/simple"}},
			kfpInstall(Install{IndexURL: pypi, ExtraIndexURLs: []string{"https://example.com/simple"},
				TrustedHosts: []string{pypi, "https://example.com/simple"}}),
		}}},
		{"index_kfp_only", &Requirements{Installs: []Install{
			kfpInstall(Install{IndexURL: pypi, TrustedHosts: []string{pypi}}),
		}}},
		{"trusted_hosts", &Requirements{Installs: []Install{
			{Packages: []string{"numpy"}, IndexURL: pypi, ExtraIndexURLs: []string{"http://mirror.local:8080/simple"},
				TrustedHosts: []string{"mirror.local", "pypi.org"}},
			kfpInstall(Install{IndexURL: pypi, ExtraIndexURLs: []string{"http://mirror.local:8080/simple"},
				TrustedHosts: []string{"mirror.local", "pypi.org"}}),
		}}},
		{"trusted_hosts_empty", &Requirements{Installs: []Install{
			{Packages: []string{"numpy"}, IndexURL: pypi},
			kfpInstall(Install{IndexURL: pypi}),
		}}},
		{"use_venv", &Requirements{UseVenv: true, Installs: []Install{kfpInstall(Install{})}}},
		{"use_venv_packages", &Requirements{UseVenv: true, Installs: []Install{
			{Packages: []string{"six"}},
			kfpInstall(Install{}),
		}}},
		{"kfp_package_path", &Requirements{Installs: []Install{
			{Packages: []string{"git+https://github.com/kubeflow/pipelines.git@master#subdirectory=sdk/python"}},
		}}},
		{"kfp_package_path_pr", &Requirements{Installs: []Install{
			{Packages: []string{"git+https://github.com/kubeflow/pipelines.git@refs/pull/1/head#subdirectory=sdk/python"}, NoDeps: true},
		}}},
		{"no_kfp", nil},
		{"no_kfp_packages", &Requirements{Installs: []Install{{Packages: []string{"six"}}}}},
		{"kfp_in_packages", &Requirements{Installs: []Install{{Packages: []string{"kfp==2.17.3", "six"}}}}},
		{"target_image", nil},
		{"quotes", &Requirements{Installs: []Install{
			// repr() quoting read back with sh's rules: a backslash inside
			// single quotes stays doubled, "$HOME" stays literal.
			{Packages: []string{"it's", `a"b`, "x y", `back\\slash`, "$HOME"}},
			kfpInstall(Install{}),
		}}},
		// repr("it's $HOME") is double-quoted, so sh would expand $HOME.
		{"quotes_expand", nil},
		{"six_component", &Requirements{Installs: []Install{
			{Packages: []string{"six==1.17.0"}},
			kfpInstall(Install{}),
		}}},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := fixtures[tc.name]
			if !ok {
				t.Fatalf("no fixture %q", tc.name)
			}
			seen[tc.name] = true
			argv := c.argv()
			req, rest, ok := ParseCommand(argv)
			if tc.want == nil {
				if ok {
					t.Fatalf("ParseCommand recognised %q: %+v", argv[:min(3, len(argv))], req)
				}
				if rest != nil {
					t.Errorf("rest = %q, want nil", rest)
				}
				return
			}
			if !ok {
				_, err := parsePrelude(argv[2])
				t.Fatalf("ParseCommand did not recognise the prelude: %v", err)
			}
			if !reflect.DeepEqual(req, *tc.want) {
				t.Errorf("requirements\n got %#v\nwant %#v", req, *tc.want)
			}
			if !slices.Equal(rest, argv[3:]) {
				t.Errorf("rest = %q, want argv[3:]", rest)
			}
			if rest[0] != "sh" || rest[1] != "-ec" || !strings.Contains(rest[2], "kfp.dsl.executor_main") {
				t.Errorf("rest does not start the kfp executor: %q", rest[:3])
			}
		})
	}
	for name := range fixtures {
		if !seen[name] {
			t.Errorf("fixture %q has no test case", name)
		}
	}
}

func TestParseCommandRestIsACopy(t *testing.T) {
	argv := loadFixtures(t)["plain"].argv()
	_, rest, ok := ParseCommand(argv)
	if !ok {
		t.Fatal("not recognised")
	}
	rest[0] = "changed"
	if argv[3] != "sh" {
		t.Fatal("rest aliases argv")
	}
}

func TestParseCommandHandWritten(t *testing.T) {
	const ensurepip = "\nif ! [ -x \"$(command -v pip)\" ]; then\n    python3 -m ensurepip || python3 -m ensurepip --user || apt-get install python3-pip\nfi\n\n"
	run := []string{"sh", "-ec", "echo", "x"}
	tests := []struct {
		name   string
		script string
		want   *Requirements
	}{
		{
			// Line continuations as in the prelude of early kfp 2.x releases.
			name:   "continuation lines",
			script: ensurepip + "PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --quiet \\\n    --no-warn-script-location 'kfp==2.0.1' '--no-deps' && \"$0\" \"$@\"\n",
			want:   &Requirements{Installs: []Install{{Packages: []string{"kfp==2.0.1"}, NoDeps: true}}},
		},
		{
			name:   "without ensurepip block, option=value forms, comments",
			script: "# install\npython3 -m pip install --index-url=https://i.example/simple --extra-index-url=https://x.example/simple --trusted-host=i.example -q six && # then run\n\"$0\" \"$@\"",
			want: &Requirements{Installs: []Install{{Packages: []string{"six"}, IndexURL: "https://i.example/simple",
				ExtraIndexURLs: []string{"https://x.example/simple"}, TrustedHosts: []string{"i.example"}}}},
		},
		{
			name:   "escapes outside and inside double quotes",
			script: `python3 -m pip install a\ b "c\"d" "e\f" && "$0" "$@"`,
			want:   &Requirements{Installs: []Install{{Packages: []string{"a b", `c"d`, `e\f`}}}},
		},
		{name: "or instead of and", script: `python3 -m pip install six || "$0" "$@"`},
		{name: "semicolon before run", script: `python3 -m pip install six; "$0" "$@"`},
		{name: "command after run", script: `python3 -m pip install six && "$0" "$@" && echo done`},
		{name: "no run", script: `python3 -m pip install six`},
		{name: "no install", script: `PIP_DISABLE_PIP_VERSION_CHECK=1 && "$0" "$@"`},
		{name: "bare pip", script: `pip install six && "$0" "$@"`},
		{name: "other interpreter", script: `python -m pip install six && "$0" "$@"`},
		{name: "requirements file", script: `python3 -m pip install -r req.txt && "$0" "$@"`},
		{name: "editable", script: `python3 -m pip install -e . && "$0" "$@"`},
		{name: "user install", script: `python3 -m pip install --user six && "$0" "$@"`},
		{name: "option without value", script: `python3 -m pip install six --index-url && "$0" "$@"`},
		{name: "other assignment", script: `PIP_INDEX_URL=https://x python3 -m pip install six && "$0" "$@"`},
		{name: "command substitution", script: `python3 -m pip install "$(cat req)" && "$0" "$@"`},
		{name: "variable", script: `python3 -m pip install $PKG && "$0" "$@"`},
		{name: "backquotes", script: "python3 -m pip install `cat req` && \"$0\" \"$@\""},
		{name: "pipe", script: `python3 -m pip install six | tee log && "$0" "$@"`},
		{name: "redirection", script: `python3 -m pip install six > log && "$0" "$@"`},
		{name: "subshell", script: `(python3 -m pip install six) && "$0" "$@"`},
		{name: "unterminated quote", script: `python3 -m pip install 'six && "$0" "$@"`},
		{name: "modified ensurepip block", script: strings.Replace(ensurepip, "--user", "", 1) + `python3 -m pip install six && "$0" "$@"`},
		{name: "newline before and", script: "python3 -m pip install six\n&& \"$0\" \"$@\""},
		{name: "dangling and", script: `python3 -m pip install six && "$0" "$@" &&`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			argv := append([]string{"sh", "-c", tc.script}, run...)
			req, rest, ok := ParseCommand(argv)
			if tc.want == nil {
				if ok {
					t.Fatalf("recognised: %#v", req)
				}
				return
			}
			if !ok {
				_, err := parsePrelude(tc.script)
				t.Fatalf("not recognised: %v", err)
			}
			if !reflect.DeepEqual(req, *tc.want) {
				t.Errorf("got %#v\nwant %#v", req, *tc.want)
			}
			if !slices.Equal(rest, run) {
				t.Errorf("rest = %q", rest)
			}
		})
	}
}

func TestParseCommandArgvShape(t *testing.T) {
	script := `python3 -m pip install six && "$0" "$@"`
	for _, argv := range [][]string{
		nil,
		{"sh", "-c", script},           // nothing for "$0"
		{"bash", "-c", script, "x"},    // another shell
		{"sh", "-ec", script, "x"},     // other flags
		{"python3", "-c", script, "x"}, // not a shell
	} {
		if _, _, ok := ParseCommand(argv); ok {
			t.Errorf("ParseCommand(%q) recognised", argv)
		}
	}
	if _, rest, ok := ParseCommand([]string{"/bin/sh", "-c", script, "python3", "main.py"}); !ok || !slices.Equal(rest, []string{"python3", "main.py"}) {
		t.Errorf("/bin/sh form: ok=%v rest=%q", ok, rest)
	}
}

// TestLexShellMatchesSh checks the word splitter against the system shell
// on the quoting forms repr() and kfp produce.
func TestLexShellMatchesSh(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	inputs := []string{
		`'a b' "c d" e\ f`,
		`"it's" 'a"b' 'x y' 'back\\slash' '$HOME'`,
		`a'b'"c"d \' \"`,
		`"x\\y\$z\"q\n" 'typing-extensions>=3.7.4,<5; python_version<"3.9"'`,
		"one\\\ntwo 'multi\nline' \"dq\\\ncont\"",
		`'' "" x''y`,
		"tab\\\there '\u00e9\u00e8' \"\u4e2d\"",
		`$ a$ "$"`,
	}
	for _, in := range inputs {
		toks, err := lexShell(in)
		if err != nil {
			t.Errorf("lexShell(%q): %v", in, err)
			continue
		}
		var got []string
		for _, tok := range toks {
			if tok.kind != tokWord || tok.expands {
				t.Errorf("lexShell(%q): unexpected token %v", in, tok)
			}
			got = append(got, tok.value)
		}
		out, err := exec.Command(sh, "-c", `printf '%s\0' `+in).Output()
		if err != nil {
			t.Errorf("sh on %q: %v", in, err)
			continue
		}
		want := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
		if !slices.Equal(got, want) {
			t.Errorf("lexShell(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

func TestLexShellExpansionsAndOperators(t *testing.T) {
	toks, err := lexShell(`a=$(echo "$(x)" ')') b${c} "$@" $((1+2)) && x || y; z | w > f`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tok := range toks {
		s := tok.raw
		if tok.kind == tokOp {
			s = "op:" + s
		} else if tok.expands {
			s = "exp:" + s
		}
		got = append(got, s)
	}
	want := []string{`exp:a=$(echo "$(x)" ')')`, "exp:b${c}", `exp:"$@"`, "exp:$((1+2))",
		"op:&&", "x", "op:||", "y", "op:;", "z", "op:|", "w", "op:>", "f"}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	for _, bad := range []string{`'x`, `"x`, "`x", `$(x`, `${x`} {
		if _, err := lexShell(bad); err == nil {
			t.Errorf("lexShell(%q) succeeded", bad)
		}
	}
}
