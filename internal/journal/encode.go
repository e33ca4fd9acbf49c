package journal

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/weir-dev/weir/internal/run"
)

// The encoder below writes the same JSON that encoding/json writes for the
// wire type (Read decodes it with encoding/json), without reflection: a
// journal record is written for every round of every run, on the path
// between a step ending and the next one starting. A test checks that both
// encodings decode to the same changes.

func appendChanges(b []byte, c *run.Changes) ([]byte, error) {
	var err error
	b = append(b, '{')
	first := true
	// field writes the key of the next field.
	field := func(b []byte, name string) []byte {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		return append(b, `":`...)
	}
	if len(c.NewRuns) > 0 {
		// Created by submissions, not rounds: rare enough for reflection.
		b = field(b, "new_runs")
		raw, err := json.Marshal(c.NewRuns)
		if err != nil {
			return nil, err
		}
		b = append(b, raw...)
	}
	if len(c.Runs) > 0 {
		b = field(b, "runs")
		b = append(b, '[')
		for i, r := range c.Runs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":`...)
			b = appendString(b, r.ID)
			b = append(b, `,"phase":`...)
			b = appendString(b, string(r.Phase))
			if r.Error != "" {
				b = append(b, `,"error":`...)
				b = appendString(b, r.Error)
			}
			b = append(b, `,"started_at":`...)
			b = appendTime(b, r.StartedAt)
			b = append(b, `,"finished_at":`...)
			b = appendTime(b, r.FinishedAt)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if b, err = appendList(b, field, "new_task_runs", c.NewTaskRuns, appendTaskRun); err != nil {
		return nil, err
	}
	if b, err = appendList(b, field, "task_runs", c.TaskRuns, appendTaskRun); err != nil {
		return nil, err
	}
	if b, err = appendList(b, field, "new_attempts", c.NewAttempts, infallible(appendAttempt)); err != nil {
		return nil, err
	}
	if b, err = appendList(b, field, "attempts", c.Attempts, infallible(appendAttempt)); err != nil {
		return nil, err
	}
	if b, err = appendList(b, field, "new_artifacts", c.NewArtifacts, appendArtifact); err != nil {
		return nil, err
	}
	if b, err = appendList(b, field, "events", c.Events, infallible(appendEvent)); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// appendList writes a non-empty list of records as the field name (field
// writes the key) with each record's JSON.
func appendList[T any](b []byte, field func([]byte, string) []byte, name string, rows []*T, one func([]byte, *T) ([]byte, error)) ([]byte, error) {
	if len(rows) == 0 {
		return b, nil
	}
	b = field(b, name)
	b = append(b, '[')
	var err error
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = one(b, r); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// infallible adapts an encoder that cannot fail to appendList.
func infallible[T any](f func([]byte, *T) []byte) func([]byte, *T) ([]byte, error) {
	return func(b []byte, r *T) ([]byte, error) { return f(b, r), nil }
}

func appendTaskRun(b []byte, t *run.TaskRun) ([]byte, error) {
	var err error
	b = append(b, `{"ID":`...)
	b = appendString(b, t.ID)
	b = append(b, `,"RunID":`...)
	b = appendString(b, t.RunID)
	b = append(b, `,"Path":`...)
	b = appendString(b, t.Path)
	b = append(b, `,"Name":`...)
	b = appendString(b, t.Name)
	b = append(b, `,"ParentID":`...)
	b = appendString(b, t.ParentID)
	b = append(b, `,"Component":`...)
	b = appendString(b, t.Component)
	b = append(b, `,"Kind":`...)
	b = appendString(b, string(t.Kind))
	b = append(b, `,"Phase":`...)
	b = appendString(b, string(t.Phase))
	b = append(b, `,"Error":`...)
	b = appendString(b, t.Error)
	b = append(b, `,"Inputs":`...)
	if b, err = appendValues(b, t.Inputs); err != nil {
		return nil, err
	}
	b = append(b, `,"Outputs":`...)
	if b, err = appendValues(b, t.Outputs); err != nil {
		return nil, err
	}
	b = append(b, `,"CacheKey":`...)
	b = appendString(b, t.CacheKey)
	b = append(b, `,"CachedFrom":`...)
	b = appendString(b, t.CachedFrom)
	b = append(b, `,"CreatedAt":`...)
	b = appendTime(b, t.CreatedAt)
	b = append(b, `,"StartedAt":`...)
	b = appendTime(b, t.StartedAt)
	b = append(b, `,"FinishedAt":`...)
	b = appendTime(b, t.FinishedAt)
	return append(b, '}'), nil
}

func appendAttempt(b []byte, a *run.Attempt) []byte {
	b = append(b, `{"ID":`...)
	b = appendString(b, a.ID)
	b = append(b, `,"TaskRunID":`...)
	b = appendString(b, a.TaskRunID)
	b = append(b, `,"Number":`...)
	b = strconv.AppendInt(b, int64(a.Number), 10)
	b = append(b, `,"Phase":`...)
	b = appendString(b, string(a.Phase))
	b = append(b, `,"Handle":`...)
	b = appendString(b, a.Handle)
	b = append(b, `,"ExitCode":`...)
	if a.ExitCode == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, int64(*a.ExitCode), 10)
	}
	b = append(b, `,"Error":`...)
	b = appendString(b, a.Error)
	b = append(b, `,"LogPath":`...)
	b = appendString(b, a.LogPath)
	b = append(b, `,"CreatedAt":`...)
	b = appendTime(b, a.CreatedAt)
	b = append(b, `,"StartedAt":`...)
	b = appendTime(b, a.StartedAt)
	b = append(b, `,"FinishedAt":`...)
	b = appendTime(b, a.FinishedAt)
	return append(b, '}')
}

func appendArtifact(b []byte, a *run.Artifact) ([]byte, error) {
	var err error
	b = append(b, `{"ID":`...)
	b = appendString(b, a.ID)
	b = append(b, `,"RunID":`...)
	b = appendString(b, a.RunID)
	b = append(b, `,"URI":`...)
	b = appendString(b, a.URI)
	b = append(b, `,"SchemaTitle":`...)
	b = appendString(b, a.SchemaTitle)
	b = append(b, `,"SchemaVersion":`...)
	b = appendString(b, a.SchemaVersion)
	b = append(b, `,"Metadata":`...)
	if b, err = appendValues(b, a.Metadata); err != nil {
		return nil, err
	}
	b = append(b, `,"Digest":`...)
	b = appendString(b, a.Digest)
	b = append(b, `,"Size":`...)
	b = strconv.AppendInt(b, a.Size, 10)
	b = append(b, `,"CreatedAt":`...)
	b = appendTime(b, a.CreatedAt)
	return append(b, '}'), nil
}

func appendEvent(b []byte, e *run.ArtifactEvent) []byte {
	b = append(b, `{"ArtifactID":`...)
	b = appendString(b, e.ArtifactID)
	b = append(b, `,"TaskRunID":`...)
	b = appendString(b, e.TaskRunID)
	b = append(b, `,"AttemptID":`...)
	b = appendString(b, e.AttemptID)
	b = append(b, `,"Kind":`...)
	b = appendString(b, string(e.Kind))
	b = append(b, `,"Name":`...)
	b = appendString(b, e.Name)
	b = append(b, `,"Index":`...)
	b = strconv.AppendInt(b, int64(e.Index), 10)
	b = append(b, `,"CreatedAt":`...)
	b = appendTime(b, e.CreatedAt)
	return append(b, '}')
}

// appendValues writes a map of parameter values; values are arbitrary JSON
// (strings, numbers, lists, structs), so they go through encoding/json,
// except the common flat case of string values.
func appendValues(b []byte, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	flat := true
	for _, v := range m {
		if _, ok := v.(string); !ok {
			flat = false
			break
		}
	}
	if !flat {
		raw, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		return append(b, raw...), nil
	}
	// Key order does not matter to the reader.
	b = append(b, '{')
	i := 0
	for k, v := range m {
		if i > 0 {
			b = append(b, ',')
		}
		i++
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, v.(string))
	}
	return append(b, '}'), nil
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Invalid UTF-8 goes through
// encoding/json, which replaces it the same way for every writer.
func appendString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		raw, _ := json.Marshal(s)
		return append(b, raw...)
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
