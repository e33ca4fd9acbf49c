package spec

import (
	"fmt"
	"strconv"
	"strings"
)

// FieldError is a problem with one field of a pipeline document.
type FieldError struct {
	File string // the document's name, e.g. pipeline.yaml
	Path string // the field path, e.g. root.dag.tasks.train.componentRef.name
	Msg  string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ValidationError collects every FieldError found in a document.
type ValidationError struct {
	Errors []*FieldError
}

func (e *ValidationError) Error() string {
	if len(e.Errors) == 1 {
		return e.Errors[0].Error()
	}
	lines := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		lines[i] = "  " + fe.Error()
	}
	return fmt.Sprintf("%d problems:\n%s", len(e.Errors), strings.Join(lines, "\n"))
}

// Warning reports a field weir does not understand; it is never dropped
// silently.
type Warning struct {
	File string
	Path string
	Msg  string
}

func (w Warning) String() string {
	return (&FieldError{File: w.File, Path: w.Path, Msg: w.Msg}).Error()
}

// errs accumulates field errors under one file name.
type errs struct {
	file string
	list []*FieldError
}

func (e *errs) add(path, format string, args ...any) {
	e.list = append(e.list, &FieldError{File: e.file, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// addAt is add for a path that has not been rendered yet; the text is only
// built here, when a problem is actually reported.
func (e *errs) addAt(path docPath, format string, args ...any) {
	e.add(path.String(), format, args...)
}

func (e *errs) err() error {
	if len(e.list) == 0 {
		return nil
	}
	return &ValidationError{Errors: e.list}
}

// join builds a dotted field path; keys that are not plain identifiers are
// quoted in brackets.
func join(base string, keys ...string) string {
	var b strings.Builder
	b.WriteString(base)
	for _, k := range keys {
		writeKey(&b, k)
	}
	return b.String()
}

// writeKey appends one mapping key to a path being built in b, as join
// does.
func writeKey(b *strings.Builder, k string) {
	if plainKey(k) {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(k)
	} else {
		fmt.Fprintf(b, "[%q]", k)
	}
}

// docPath is the position of a value in a document: the mapping keys and
// sequence indexes that lead to it from the root. Walking a document builds
// one for every node, but almost none of them is ever shown, so a docPath
// is rendered as text (by String) only when a problem or warning names it:
// rendering the text for every node would be a large share of the time
// spent decoding a spec with a long list.
//
// A walk extends its node's path with key or index for each child, so the
// children of a node share one backing array, each overwriting the step of
// the sibling before it. That is what makes a step cost no allocation, and
// it is safe because a docPath is only read while its node is being walked:
// it must not be kept.
type docPath []pathStep

type pathStep struct {
	key   string // the mapping key, if index < 0
	index int    // the sequence index, or -1 for a key
}

func (p docPath) key(k string) docPath { return append(p, pathStep{key: k, index: -1}) }

func (p docPath) elem(i int) docPath { return append(p, pathStep{index: i}) }

// String renders the path exactly as join (for keys) and "%s[%d]" (for
// indexes) would have built it step by step.
func (p docPath) String() string {
	var b strings.Builder
	for _, s := range p {
		if s.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
			continue
		}
		writeKey(&b, s.key)
	}
	return b.String()
}

func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
