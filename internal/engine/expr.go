package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"github.com/weir-dev/weir/internal/spec"
)

// exprs evaluates the CEL expressions of the IR: trigger conditions
// (`int(inputs.parameter_values['x']) > 3`) and parameter expression
// selectors (`parseJson(string_value)["a"]`). Compiled programs are cached.
type exprs struct {
	once     sync.Once
	condEnv  *cel.Env
	selEnv   *cel.Env
	initErr  error
	mu       sync.Mutex
	programs map[string]cel.Program
}

var celExprs = &exprs{}

func parseJSONFunc() cel.EnvOption {
	return cel.Function("parseJson",
		cel.Overload("parseJson_string", []*cel.Type{cel.StringType}, cel.DynType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				s, ok := v.(types.String)
				if !ok {
					return types.NewErr("parseJson expects a string")
				}
				var out any
				dec := json.NewDecoder(strings.NewReader(string(s)))
				dec.UseNumber()
				if err := dec.Decode(&out); err != nil {
					return types.NewErr("parseJson: %v", err)
				}
				return types.DefaultTypeAdapter.NativeToValue(celNative(out))
			})))
}

func (e *exprs) init() error {
	e.once.Do(func() {
		e.programs = map[string]cel.Program{}
		e.condEnv, e.initErr = cel.NewEnv(cel.Variable("inputs", cel.MapType(cel.StringType, cel.DynType)), parseJSONFunc())
		if e.initErr != nil {
			return
		}
		e.selEnv, e.initErr = cel.NewEnv(
			cel.Variable("string_value", cel.StringType), cel.Variable("number_value", cel.DoubleType),
			cel.Variable("bool_value", cel.BoolType), cel.Variable("list_value", cel.ListType(cel.DynType)),
			cel.Variable("struct_value", cel.MapType(cel.StringType, cel.DynType)), cel.Variable("null_value", cel.DynType),
			parseJSONFunc())
	})
	return e.initErr
}

func (e *exprs) program(kind, expr string) (cel.Program, error) {
	if err := e.init(); err != nil {
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	env := e.condEnv
	if kind == "sel" {
		env = e.selEnv
	}
	key := kind + "\x00" + expr
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.programs[key]; ok {
		return p, nil
	}
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return nil, fmt.Errorf("invalid expression %q: %w", expr, iss.Err())
	}
	p, err := env.Program(ast)
	if err != nil {
		return nil, fmt.Errorf("invalid expression %q: %w", expr, err)
	}
	e.programs[key] = p
	return p, nil
}

// condition evaluates a trigger condition against a task's input values.
func (e *exprs) condition(expr string, params map[string]any) (bool, error) {
	p, err := e.program("cond", expr)
	if err != nil {
		return false, err
	}
	vals := map[string]any{}
	for k, v := range params {
		vals[k] = celNative(v)
	}
	out, _, err := p.Eval(map[string]any{"inputs": map[string]any{"parameter_values": vals}})
	if err != nil {
		return false, fmt.Errorf("condition %q: %w", expr, err)
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("condition %q: evaluates to %s, not a boolean", expr, out.Type())
	}
	return bool(b), nil
}

// select applies a parameter expression selector to a value. The value is
// bound to the variable of its kind; string_value always holds it as text
// (JSON for lists and structs), which is what the compiler's
// parseJson(string_value) expects.
func (e *exprs) selectValue(expr string, v any) (any, error) {
	p, err := e.program("sel", expr)
	if err != nil {
		return nil, err
	}
	vars := map[string]any{"null_value": types.NullValue}
	switch x := v.(type) {
	case string:
		vars["string_value"] = x
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return nil, err
		}
		vars["string_value"] = string(b)
	}
	switch x := v.(type) {
	case int64:
		vars["number_value"] = float64(x)
	case float64:
		vars["number_value"] = x
	case bool:
		vars["bool_value"] = x
	case []any:
		vars["list_value"] = celNative(x)
	case map[string]any:
		vars["struct_value"] = celNative(x)
	}
	out, _, err := p.Eval(vars)
	if err != nil {
		return nil, fmt.Errorf("selector %q: %w", expr, err)
	}
	return fromCEL(out)
}

// celNative prepares a value for CEL: json.Number becomes int64 or
// float64, recursively.
func celNative(v any) any { return spec.Normalize(v) }

// fromCEL converts a CEL result back to a plain value.
func fromCEL(v ref.Val) (any, error) {
	switch x := v.(type) {
	case types.String:
		return string(x), nil
	case types.Int:
		return int64(x), nil
	case types.Uint:
		return int64(x), nil
	case types.Double:
		return float64(x), nil
	case types.Bool:
		return bool(x), nil
	case types.Null:
		return nil, nil
	case traits.Lister:
		var out []any
		it := x.Iterator()
		for it.HasNext() == types.True {
			e, err := fromCEL(it.Next())
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		if out == nil {
			out = []any{}
		}
		return out, nil
	case traits.Mapper:
		out := map[string]any{}
		it := x.Iterator()
		for it.HasNext() == types.True {
			k := it.Next()
			ks, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("map key %v is not a string", k)
			}
			e, err := fromCEL(x.Get(k))
			if err != nil {
				return nil, err
			}
			out[string(ks)] = e
		}
		return out, nil
	}
	if err, ok := v.(*types.Err); ok {
		return nil, err
	}
	return nil, fmt.Errorf("unsupported CEL result of type %s", v.Type())
}
