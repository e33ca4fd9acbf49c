package spec

import (
	"fmt"
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
		if plainKey(k) {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		} else {
			fmt.Fprintf(&b, "[%q]", k)
		}
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
