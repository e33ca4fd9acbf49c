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

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func sortStrings(s []string) { sort.Strings(s) }

// strip removes newlines so a message fits one line.
func strip(s string) string { return strings.ReplaceAll(s, "\n", " ") }
