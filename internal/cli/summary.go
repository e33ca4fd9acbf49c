package cli

import (
	"encoding/json"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/weir-dev/weir/internal/engine"
	"github.com/weir-dev/weir/internal/report"
	"github.com/weir-dev/weir/internal/run"
)

// The run summary (docs/cli.md) is built and rendered by package report,
// which the server shares.
type (
	runSummary  = report.Run
	taskSummary = report.Task
)

func summarize(s *run.Snapshot) *runSummary { return report.Summarize(s) }

func millis(a, b time.Time) int64 { return report.Millis(a, b) }

func formatDuration(ms int64) string { return report.FormatDuration(ms) }

// writeSummary prints a run for people; with tails, the last log lines of
// failed tasks too.
func writeSummary(w io.Writer, s *runSummary, tails bool) {
	var tail report.Tail
	if tails {
		tail = engine.TailLines
	}
	report.WriteSummary(w, s, tail)
}

// writeJSON writes v as JSON indented by two spaces, with a final newline:
// what json.Encoder with SetIndent("", "  ") writes. The indentation is
// done here, in one pass over the compact encoding: encoding/json's own
// indenter runs its full scanner over every byte, which for the summary
// of a run of thousands of tasks cost three times the encoding itself. A
// run summary is encoded by its own encoder, which writes json.Marshal's
// bytes without its reflection.
func writeJSON(w io.Writer, v any) error {
	var raw []byte
	var err error
	if r, ok := v.(*report.Run); ok && r != nil {
		// A task takes about half a kilobyte; starting near the final
		// size spares copying the buffer as it grows.
		raw, err = r.AppendJSON(make([]byte, 0, 1024+512*len(r.Tasks)))
	} else {
		raw, err = json.Marshal(v)
	}
	if err != nil {
		return err
	}
	// Indenting a summary nearly doubles it: its objects nest five deep
	// and hold few short fields each.
	out := indentJSON(make([]byte, 0, 2*len(raw)+1), raw, "  ")
	_, err = w.Write(append(out, '\n'))
	return err
}

// indentJSON appends src, compact JSON as json.Marshal writes it (no
// space outside strings), indented as json.Indent with an empty prefix
// would: a newline and one indent per level after an opening bracket and
// after a comma, ": " after a key, and "{}" or "[]" for an empty object or
// array.
func indentJSON(dst, src []byte, indent string) []byte {
	depth := 0
	newline := func() {
		dst = append(dst, '\n')
		for i := 0; i < depth; i++ {
			dst = append(dst, indent...)
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '"':
			// Copy the string through its closing quote; a backslash
			// escapes the next byte.
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			dst = append(dst, src[i:min(j+1, len(src))]...)
			i = j
		case '{', '[':
			dst = append(dst, c)
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				dst = append(dst, src[i+1])
				i++
				continue
			}
			depth++
			newline()
		case '}', ']':
			depth--
			newline()
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func sortStrings(s []string) { sort.Strings(s) }

// strip removes newlines so a message fits one line.
func strip(s string) string { return strings.ReplaceAll(s, "\n", " ") }
