package pyenv

import (
	"errors"
	"fmt"
	"strings"
)

// tokenKind tells words from control operators.
type tokenKind int

const (
	tokWord tokenKind = iota
	tokOp
)

// token is one lexical unit of a POSIX shell script.
type token struct {
	kind tokenKind
	// raw is the token's source text. For operators it is the operator
	// itself; a newline is the operator "\n".
	raw string
	// value is a word after quote removal, with backslash escapes resolved
	// the way sh resolves them. Expansions are kept verbatim (they are not
	// evaluated), so value is only the word sh would see when expands is
	// false.
	value string
	// expands is true when the word holds a parameter, command or
	// arithmetic expansion outside single quotes.
	expands bool
}

func (t token) String() string {
	if t.kind == tokOp {
		return fmt.Sprintf("op(%q)", t.raw)
	}
	return fmt.Sprintf("word(%q)", t.raw)
}

var errUnterminated = errors.New("unterminated quote or expansion")

// lexShell splits a shell script into words and control operators following
// the POSIX quoting rules: single quotes keep everything literally, double
// quotes honour backslash only before $ ` " \ and newline, and an unquoted
// backslash quotes the next character (a backslash-newline pair is a line
// continuation). Comments are dropped. Expansions ($name, ${...}, $(...),
// $((...)) and backquotes) are delimited but not evaluated; words holding
// one are flagged so callers can refuse them where a literal is needed.
//
// Here-documents, redirections and compound commands are not interpreted:
// redirection and grouping characters come back as operator tokens and it
// is up to the caller to refuse what it does not understand.
func lexShell(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '\\' && i+1 < len(src) && src[i+1] == '\n':
			i += 2
		case c == '\n':
			toks = append(toks, token{kind: tokOp, raw: "\n"})
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.IndexByte("&|;<>()", c) >= 0:
			op := src[i : i+1]
			if i+1 < len(src) {
				switch two := src[i : i+2]; two {
				case "&&", "||", ";;", "<<", ">>", "<&", ">&", "<>", ">|":
					op = two
				}
			}
			toks = append(toks, token{kind: tokOp, raw: op})
			i += len(op)
		default:
			t, next, err := lexWord(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = next
		}
	}
	return toks, nil
}

// lexWord reads the word starting at src[start] and returns it with the
// index just past it.
func lexWord(src string, start int) (token, int, error) {
	var b strings.Builder
	expands := false
	i := start
loop:
	for i < len(src) {
		c := src[i]
		switch c {
		case ' ', '\t', '\n', '&', '|', ';', '<', '>', '(', ')':
			break loop
		case '\\':
			if i+1 >= len(src) {
				b.WriteByte('\\')
				i++
				continue
			}
			if src[i+1] != '\n' {
				b.WriteByte(src[i+1])
			}
			i += 2
		case '\'':
			j := strings.IndexByte(src[i+1:], '\'')
			if j < 0 {
				return token{}, 0, fmt.Errorf("offset %d: %w", i, errUnterminated)
			}
			b.WriteString(src[i+1 : i+1+j])
			i += j + 2
		case '"':
			next, exp, err := lexDoubleQuoted(src, i+1, &b)
			if err != nil {
				return token{}, 0, err
			}
			expands = expands || exp
			i = next
		case '$', '`':
			next, exp, err := skipExpansion(src, i)
			if err != nil {
				return token{}, 0, err
			}
			b.WriteString(src[i:next])
			expands = expands || exp
			i = next
		default:
			b.WriteByte(c)
			i++
		}
	}
	return token{kind: tokWord, raw: src[start:i], value: b.String(), expands: expands}, i, nil
}

// lexDoubleQuoted reads a double-quoted string whose body starts at
// src[i], appends its value to b and returns the index past the closing
// quote.
func lexDoubleQuoted(src string, i int, b *strings.Builder) (int, bool, error) {
	expands := false
	for i < len(src) {
		c := src[i]
		switch {
		case c == '"':
			return i + 1, expands, nil
		case c == '\\' && i+1 < len(src):
			switch src[i+1] {
			case '$', '`', '"', '\\':
				b.WriteByte(src[i+1])
			case '\n':
			default:
				b.WriteByte('\\')
				b.WriteByte(src[i+1])
			}
			i += 2
		case c == '$' || c == '`':
			next, exp, err := skipExpansion(src, i)
			if err != nil {
				return 0, false, err
			}
			b.WriteString(src[i:next])
			expands = expands || exp
			i = next
		default:
			b.WriteByte(c)
			i++
		}
	}
	return 0, false, fmt.Errorf("double quote: %w", errUnterminated)
}

// skipExpansion returns the index just past the expansion starting at
// src[i] (a '$' or a backquote) and whether it really is one: a '$' not
// followed by a name, a special parameter, '{' or '(' is a literal dollar.
func skipExpansion(src string, i int) (int, bool, error) {
	if src[i] == '`' {
		for j := i + 1; j < len(src); j++ {
			switch src[j] {
			case '\\':
				j++
			case '`':
				return j + 1, true, nil
			}
		}
		return 0, false, fmt.Errorf("backquote: %w", errUnterminated)
	}
	if i+1 >= len(src) {
		return i + 1, false, nil
	}
	c := src[i+1]
	switch {
	case c == '(':
		end, err := skipBalanced(src, i+2, '(', ')')
		return end, true, err
	case c == '{':
		end, err := skipBalanced(src, i+2, '{', '}')
		return end, true, err
	case c == '_' || isASCIILetter(c):
		j := i + 2
		for j < len(src) && (src[j] == '_' || isASCIILetter(src[j]) || isASCIIDigit(src[j])) {
			j++
		}
		return j, true, nil
	case isASCIIDigit(c) || strings.IndexByte("@*#?-$!", c) >= 0:
		return i + 2, true, nil
	}
	return i + 1, false, nil
}

// skipBalanced scans from src[i], just inside an opening delimiter, to the
// matching close delimiter, honouring quotes, escapes and nested
// expansions, and returns the index past it.
func skipBalanced(src string, i int, open, close byte) (int, error) {
	depth := 1
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\\':
			i += 2
		case c == '\'':
			j := strings.IndexByte(src[i+1:], '\'')
			if j < 0 {
				return 0, fmt.Errorf("single quote: %w", errUnterminated)
			}
			i += j + 2
		case c == '"':
			var discard strings.Builder
			next, _, err := lexDoubleQuoted(src, i+1, &discard)
			if err != nil {
				return 0, err
			}
			i = next
		case c == '$' || c == '`':
			next, _, err := skipExpansion(src, i)
			if err != nil {
				return 0, err
			}
			i = next
		case c == open:
			depth++
			i++
		case c == close:
			depth--
			i++
			if depth == 0 {
				return i, nil
			}
		default:
			i++
		}
	}
	return 0, fmt.Errorf("expansion: %w", errUnterminated)
}

func isASCIILetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isASCIIDigit(c byte) bool  { return c >= '0' && c <= '9' }

// shellQuote renders s as one sh word, for messages and logs.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isASCIILetter(c) || isASCIIDigit(c) || strings.IndexByte("@%+=:,./-_", c) >= 0) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
