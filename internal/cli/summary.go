package cli

import (
	"encoding/json"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/weir-dev/weir/internal/engine"
	"github.com/weir-dev/weir/internal/jsonenc"
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
// what json.Encoder with SetIndent("", "  ") writes. A run summary is
// encoded by its own encoder, which indents as it writes, without
// encoding/json's reflection. Anything else is encoded by json.Marshal
// and indented in one pass over the compact bytes: encoding/json's own
// indenter runs its full scanner over every byte, which costs more than
// the encoding itself.
func writeJSON(w io.Writer, v any) error {
	var out []byte
	if r, ok := v.(*report.Run); ok && r != nil {
		// An indented task takes about a kilobyte; starting near the
		// final size spares copying the buffer as it grows.
		var err error
		if out, err = r.AppendJSONIndent(make([]byte, 0, 1024+1024*len(r.Tasks)), "  "); err != nil {
			return err
		}
	} else {
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		// Indenting about doubles JSON made of small objects with short
		// fields, such as a list of runs.
		e := jsonenc.NewEncoder("  ")
		out = e.AppendRaw(make([]byte, 0, 2*len(raw)+1), raw)
	}
	_, err := w.Write(append(out, '\n'))
	return err
}

func sortStrings(s []string) { sort.Strings(s) }

// strip removes newlines so a message fits one line.
func strip(s string) string { return strings.ReplaceAll(s, "\n", " ") }
