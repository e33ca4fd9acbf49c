// Package journal is a run's write-ahead log. The engine appends every
// batch of changes to the run's journal file before it acts on them, and
// writes them into the store later, several batches in one transaction; the
// store remembers the sequence number of the last record it holds. After a
// crash, the records past that number are applied to the store again
// (Replay), so a change that reached the journal is never lost.
//
// A record is one line: a JSON object holding its sequence number and its
// changes. Appending is one write(2) on a file opened with O_APPEND: a
// killed process leaves either the whole line or none of it in the file
// (the page cache keeps it); a machine that loses power may lose the last
// records, as the store's own write-ahead log may (synchronous=NORMAL).
package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/weir-dev/weir/internal/run"
)

// Record is one batch of changes read back from a journal.
type Record struct {
	Seq     int64
	Changes *run.Changes
}

// wire is a record's changes as written. Runs carry only what an update of
// a run writes (its spec and parameters never change after it is created).
type wire struct {
	NewRuns      []*run.Run           `json:"new_runs,omitempty"`
	Runs         []runUpdate          `json:"runs,omitempty"`
	NewTaskRuns  []*run.TaskRun       `json:"new_task_runs,omitempty"`
	TaskRuns     []*run.TaskRun       `json:"task_runs,omitempty"`
	NewAttempts  []*run.Attempt       `json:"new_attempts,omitempty"`
	Attempts     []*run.Attempt       `json:"attempts,omitempty"`
	NewArtifacts []*run.Artifact      `json:"new_artifacts,omitempty"`
	Events       []*run.ArtifactEvent `json:"events,omitempty"`
}

type runUpdate struct {
	ID         string    `json:"id"`
	Phase      run.Phase `json:"phase"`
	Error      string    `json:"error,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
}

type line struct {
	Seq     int64           `json:"seq"`
	Changes json.RawMessage `json:"changes"`
}

// Writer appends records to one journal file.
type Writer struct {
	path string
	f    *os.File
	buf  []byte
}

// Create opens the journal at path for appending, creating it (and its
// directory) when missing.
func Create(path string) (*Writer, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return &Writer{path: path, f: f}, nil
}

// Path is the journal's file.
func (w *Writer) Path() string { return w.path }

// Append writes one record in a single write and returns its size. The
// record's Journal mark is not written (the store sets it when it applies
// the record).
func (w *Writer) Append(seq int64, c *run.Changes) (int, error) {
	b := append(w.buf[:0], `{"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, `,"changes":`...)
	b, err := appendChanges(b, c)
	if err != nil {
		return 0, fmt.Errorf("journal %s: encode record %d: %w", w.path, seq, err)
	}
	b = append(b, "}\n"...)
	w.buf = b
	if _, err := w.f.Write(b); err != nil {
		return 0, fmt.Errorf("journal %s: append record %d: %w", w.path, seq, err)
	}
	return len(b), nil
}

// Reset empties the journal: every record in it is in the store.
func (w *Writer) Reset() error {
	if err := w.f.Truncate(0); err != nil {
		return fmt.Errorf("journal %s: truncate: %w", w.path, err)
	}
	return nil
}

// Close closes the file.
func (w *Writer) Close() error { return w.f.Close() }

func fromWire(w wire) *run.Changes {
	c := &run.Changes{NewRuns: w.NewRuns, NewTaskRuns: w.NewTaskRuns, TaskRuns: w.TaskRuns, NewAttempts: w.NewAttempts,
		Attempts: w.Attempts, NewArtifacts: w.NewArtifacts, Events: w.Events}
	for _, u := range w.Runs {
		c.Runs = append(c.Runs, &run.Run{ID: u.ID, Phase: u.Phase, Error: u.Error, StartedAt: u.StartedAt, FinishedAt: u.FinishedAt})
	}
	return c
}

// ErrCorrupt is wrapped by the error of a journal that cannot be read back.
var ErrCorrupt = errors.New("corrupt journal")

// Read returns the records of the journal at path in order; none when the
// file does not exist. A last line without its newline is a write cut
// short by a crash and is ignored; any other unreadable line is an error
// naming the file and line. Values in inputs, outputs and metadata keep
// their JSON text (json.Number), so integers stay exact.
func Read(path string) ([]Record, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	defer f.Close()
	var out []Record
	r := bufio.NewReader(f)
	for n := 1; ; n++ {
		raw, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			// raw, if any, is a torn last record.
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("journal %s: line %d: %w", path, n, err)
		}
		rec, err := decode(raw)
		if err != nil {
			return nil, fmt.Errorf("journal %s: line %d: %w: %w", path, n, ErrCorrupt, err)
		}
		if len(out) > 0 && rec.Seq <= out[len(out)-1].Seq {
			return nil, fmt.Errorf("journal %s: line %d: %w: record %d follows record %d", path, n, ErrCorrupt, rec.Seq, out[len(out)-1].Seq)
		}
		out = append(out, rec)
	}
}

func decode(raw []byte) (Record, error) {
	var l line
	if err := json.Unmarshal(raw, &l); err != nil {
		return Record{}, err
	}
	if l.Seq <= 0 || len(l.Changes) == 0 {
		return Record{}, fmt.Errorf("record without a sequence number or changes")
	}
	dec := json.NewDecoder(bytes.NewReader(l.Changes))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var w wire
	if err := dec.Decode(&w); err != nil {
		return Record{}, fmt.Errorf("record %d: %w", l.Seq, err)
	}
	return Record{Seq: l.Seq, Changes: fromWire(w)}, nil
}
