package server

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/weir-dev/weir/internal/engine"
	"github.com/weir-dev/weir/internal/executor/local"
	"github.com/weir-dev/weir/internal/store"
)

// The operations a path item may hold (OpenAPI 3.0).
var openapiMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// loadOpenAPI decodes the embedded document.
func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(openapiDoc, &doc); err != nil {
		t.Fatalf("openapi.yaml does not parse: %v", err)
	}
	return doc
}

// openapiOps lists the documented operations as "METHOD /path".
func openapiOps(t *testing.T, doc map[string]any) []string {
	t.Helper()
	paths, _ := doc["paths"].(map[string]any)
	var ops []string
	for p, item := range paths {
		m, ok := item.(map[string]any)
		if !ok {
			t.Errorf("paths[%q] is not an object", p)
			continue
		}
		for _, method := range openapiMethods {
			if _, ok := m[method]; ok {
				ops = append(ops, strings.ToUpper(method)+" "+p)
			}
		}
	}
	sort.Strings(ops)
	return ops
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := loadOpenAPI(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.0.") {
		t.Errorf("openapi = %q, want 3.0.x", v)
	}
	info, _ := doc["info"].(map[string]any)
	if info["title"] == nil || info["version"] == nil {
		t.Errorf("info needs a title and a version: %v", info)
	}
	ops := openapiOps(t, doc)
	if len(ops) == 0 {
		t.Fatal("the document has no paths")
	}

	// Every reference resolves.
	var refs []string
	walkYAML(doc, func(key string, v any) {
		if s, ok := v.(string); ok && key == "$ref" {
			refs = append(refs, s)
		}
	})
	for _, ref := range refs {
		if _, err := resolveRef(doc, ref); err != nil {
			t.Errorf("$ref %s: %v", ref, err)
		}
	}

	// Operation ids are unique, every operation has responses, and the
	// parameters of each path template are declared as path parameters.
	seen := map[string]string{}
	paths := doc["paths"].(map[string]any)
	for _, op := range ops {
		method, p, _ := strings.Cut(op, " ")
		o, _ := paths[p].(map[string]any)[strings.ToLower(method)].(map[string]any)
		id, _ := o["operationId"].(string)
		if id == "" {
			t.Errorf("%s: no operationId", op)
		} else if prev, dup := seen[id]; dup {
			t.Errorf("%s: operationId %s is also %s's", op, id, prev)
		}
		seen[id] = op
		if rs, _ := o["responses"].(map[string]any); len(rs) == 0 {
			t.Errorf("%s: no responses", op)
		}
		declared := map[string]bool{}
		params, _ := o["parameters"].([]any)
		for _, raw := range params {
			prm, _ := raw.(map[string]any)
			if ref, ok := prm["$ref"].(string); ok {
				r, err := resolveRef(doc, ref)
				if err != nil {
					continue // reported above
				}
				prm, _ = r.(map[string]any)
			}
			if prm["in"] == "path" {
				declared[fmt.Sprint(prm["name"])] = true
				if prm["required"] != true {
					t.Errorf("%s: path parameter %v is not required", op, prm["name"])
				}
			}
		}
		for _, m := range templateParam.FindAllStringSubmatch(p, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter {%s} is not declared", op, m[1])
			}
			delete(declared, m[1])
		}
		for name := range declared {
			t.Errorf("%s: path parameter %s is not in the path", op, name)
		}
	}
}

var templateParam = regexp.MustCompile(`\{([^}/]+)\}`)

// walkYAML calls fn for every key and value of the maps in v, depth first.
func walkYAML(v any, fn func(key string, v any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			fn(k, e)
			walkYAML(e, fn)
		}
	case []any:
		for _, e := range x {
			walkYAML(e, fn)
		}
	}
}

// resolveRef follows a local reference ("#/components/schemas/Run").
func resolveRef(doc map[string]any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("not a local reference")
	}
	var cur any = doc
	for _, part := range strings.Split(rest, "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok || m[part] == nil {
			return nil, fmt.Errorf("%q does not exist", part)
		}
		cur = m[part]
	}
	return cur, nil
}

// sourceRoutes reads the route patterns registered in the package's
// source: the first argument of every X.HandleFunc and X.Handle call,
// string literals and package string constants joined with +.
func sourceRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	consts := map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, sp := range gd.Specs {
				vs := sp.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[name.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
		}
	}
	var eval func(e ast.Expr) (string, bool)
	eval = func(e ast.Expr) (string, bool) {
		switch x := e.(type) {
		case *ast.BasicLit:
			if x.Kind == token.STRING {
				s, err := strconv.Unquote(x.Value)
				return s, err == nil
			}
		case *ast.Ident:
			s, ok := consts[x.Name]
			return s, ok
		case *ast.ParenExpr:
			return eval(x.X)
		case *ast.BinaryExpr:
			if x.Op == token.ADD {
				a, ok1 := eval(x.X)
				b, ok2 := eval(x.Y)
				return a + b, ok1 && ok2
			}
		}
		return "", false
	}
	var routes []string
	for _, af := range parsed {
		ast.Inspect(af, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle") {
				return true
			}
			p, ok := eval(call.Args[0])
			if !ok {
				t.Errorf("%s: cannot read the route pattern of this %s call (use string literals and constants)", fset.Position(call.Pos()), sel.Sel.Name)
				return true
			}
			routes = append(routes, p)
			return true
		})
	}
	sort.Strings(routes)
	return routes
}

// newRouteServer builds a server whose routes can be inspected.
func newRouteServer(t *testing.T) *Server {
	t.Helper()
	home := t.TempDir()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(home, "weir.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	eng := engine.New(st, local.New(local.Options{WorkRoot: filepath.Join(home, "work")}), nil, engine.Config{Home: home})
	return New(st, engine.NewService(eng, st, 0, nil), Config{PipelineRoot: filepath.Join(home, "artifacts")})
}

// sampleRequest makes a request for a path template ("{x}" and
// "{x...}" become a sample segment).
func sampleRequest(method, template string) *http.Request {
	return httptest.NewRequest(method, anyWildcard.ReplaceAllString(template, "sample"), nil)
}

var anyWildcard = regexp.MustCompile(`\{[^}]*\}`)

// TestOpenAPICoversEveryRoute checks that every documented operation is
// served by a registered route and that every registered route serves a
// documented operation. Several operations may share a route (the
// ":action" routes, /pipelines/{a}/{b}); a documented path that a route
// matches but its handler rejects cannot be told from here.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	s := newRouteServer(t)
	routes := sourceRoutes(t)
	if len(routes) == 0 {
		t.Fatal("no HandleFunc/Handle calls found in the package's source")
	}
	inSource := map[string]bool{}
	for _, r := range routes {
		inSource[r] = true
	}

	covered := map[string][]string{} // route pattern -> documented operations
	var unserved, unknown []string
	for _, op := range openapiOps(t, loadOpenAPI(t)) {
		method, p, _ := strings.Cut(op, " ")
		_, pattern := s.mux.Handler(sampleRequest(method, p))
		switch {
		case pattern == "" || !strings.HasPrefix(pattern, method+" "):
			unserved = append(unserved, op)
		case !inSource[pattern]:
			unknown = append(unknown, fmt.Sprintf("%s (served by %s)", op, pattern))
		default:
			covered[pattern] = append(covered[pattern], op)
		}
	}

	var undocumented, unregistered []string
	for _, r := range routes {
		method, p, ok := strings.Cut(r, " ")
		if !ok {
			t.Errorf("route %q has no method", r)
			continue
		}
		if _, pattern := s.mux.Handler(sampleRequest(method, p)); pattern != r {
			unregistered = append(unregistered, fmt.Sprintf("%s (a request for it is served by %q)", r, pattern))
			continue
		}
		if len(covered[r]) == 0 {
			undocumented = append(undocumented, r)
		}
	}
	report := func(what string, list []string) {
		if len(list) > 0 {
			t.Errorf("%s:\n\t%s", what, strings.Join(list, "\n\t"))
		}
	}
	report("routes registered but not documented in openapi.yaml", undocumented)
	report("operations documented in openapi.yaml that no registered route serves", unserved)
	report("routes found in the source but not registered on the server's mux", unregistered)
	report("operations served by a route the source scan did not find (register routes with literal patterns)", unknown)
}

func TestOpenAPIIsServed(t *testing.T) {
	ts := newTestServer(t)
	onDisk, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/apis/v2beta1/openapi.yaml", "/apis/weir/v1/openapi.yaml"} {
		resp, err := http.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/yaml" {
			t.Errorf("GET %s: %d %q", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !bytes.Equal(body, onDisk) {
			t.Errorf("GET %s: the body is not openapi.yaml (%d bytes, want %d)", p, len(body), len(onDisk))
		}
	}
}
