package internal_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// allowed lists, for each package, the weir packages it may import.
// Dependencies point inward: the domain (spec, run) imports no other weir
// package; backends depend on the domain, never the reverse; only cli (and
// later server) sees everything. jsonenc, the JSON writer the journal and
// the run summary share, imports no weir package either. "ui" is the
// module's top-level package of the embedded web interface (../ui), which
// imports no weir package.
var allowed = map[string][]string{
	"spec":                  {},
	"run":                   {},
	"launch":                {"spec", "run"},
	"executor":              {},
	"executor/local":        {"executor", "jsonenc"},
	"executor/executortest": {"executor"},
	"pyenv":                 {},
	"artifact":              {},
	"store":                 {"run", "jsonenc"},
	"store/storetest":       {"run", "store"},
	"jsonenc":               {},
	"journal":               {"run", "jsonenc"},
	"engine":                {"spec", "run", "launch", "executor", "artifact", "journal"},
	"report":                {"run", "spec", "launch", "jsonenc"},
	"server":                {"spec", "run", "engine", "store", "report", "launch", "ui"},
	"cli":                   {"*"},
	"ui":                    {},
}

func TestDependenciesPointInward(t *testing.T) {
	const module = "github.com/weir-dev/weir/internal/"
	const root = "github.com/weir-dev/weir/"
	// The packages outside internal/ that have rules: their files are
	// checked too (only the package's own directory, not below it).
	outside, err := filepath.Glob("../ui/*.go")
	if err != nil {
		t.Fatal(err)
	}
	check := func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		pkg = strings.TrimPrefix(pkg, "../")
		rules, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %s has no dependency rule: add it to allowed", pkg)
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			dep, ok := strings.CutPrefix(p, module)
			if !ok {
				dep, ok = strings.CutPrefix(p, root)
			}
			if !ok || (len(rules) == 1 && rules[0] == "*") {
				continue
			}
			found := false
			for _, r := range rules {
				found = found || r == dep
			}
			if !found {
				t.Errorf("%s imports %s: not allowed (dependencies point inward)", path, dep)
			}
		}
		return nil
	}
	if err := filepath.WalkDir(".", check); err != nil {
		t.Fatal(err)
	}
	for _, path := range outside {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := check(path, fs.FileInfoToDirEntry(st), nil); err != nil {
			t.Fatal(err)
		}
	}
}
