package journal

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/weir-dev/weir/internal/jsonenc"
	"github.com/weir-dev/weir/internal/run"
)

// The encoder below writes the same JSON that encoding/json writes for the
// wire type (Read decodes it with encoding/json), without reflection: a
// journal record is written for every round of every run, on the path
// between a step ending and the next one starting. A test checks that both
// encodings decode to the same changes. Strings are written by package
// jsonenc without escaping HTML, as only weir reads them; parameter values
// and times are written exactly as encoding/json writes them, so a time
// encoding/json rejects is rejected here too rather than written into a
// record that Read could not decode.

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
			if b, err = appendTimes(b, timeField{`,"started_at":`, r.StartedAt}, timeField{`,"finished_at":`, r.FinishedAt}); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	if b, err = appendList(b, field, "new_task_runs", c.NewTaskRuns, appendTaskRun); err != nil {
		return nil, err
	}
	if b, err = appendList(b, field, "task_runs", c.TaskRuns, appendTaskRun); err != nil {
		return nil, err
	}
	if b, err = appendList(b, field, "new_attempts", c.NewAttempts, appendAttempt); err != nil {
		return nil, err
	}
	if b, err = appendList(b, field, "attempts", c.Attempts, appendAttempt); err != nil {
		return nil, err
	}
	if b, err = appendList(b, field, "new_artifacts", c.NewArtifacts, appendArtifact); err != nil {
		return nil, err
	}
	if b, err = appendList(b, field, "events", c.Events, appendEvent); err != nil {
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
	if b, err = jsonenc.AppendMap(b, t.Inputs); err != nil {
		return nil, err
	}
	b = append(b, `,"Outputs":`...)
	if b, err = jsonenc.AppendMap(b, t.Outputs); err != nil {
		return nil, err
	}
	b = append(b, `,"CacheKey":`...)
	b = appendString(b, t.CacheKey)
	b = append(b, `,"CachedFrom":`...)
	b = appendString(b, t.CachedFrom)
	return appendTimes(b, timeField{`,"CreatedAt":`, t.CreatedAt}, timeField{`,"StartedAt":`, t.StartedAt},
		timeField{`,"FinishedAt":`, t.FinishedAt})
}

func appendAttempt(b []byte, a *run.Attempt) ([]byte, error) {
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
	return appendTimes(b, timeField{`,"CreatedAt":`, a.CreatedAt}, timeField{`,"StartedAt":`, a.StartedAt},
		timeField{`,"FinishedAt":`, a.FinishedAt})
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
	if b, err = jsonenc.AppendMap(b, a.Metadata); err != nil {
		return nil, err
	}
	b = append(b, `,"Digest":`...)
	b = appendString(b, a.Digest)
	b = append(b, `,"Size":`...)
	b = strconv.AppendInt(b, a.Size, 10)
	return appendTimes(b, timeField{`,"CreatedAt":`, a.CreatedAt})
}

func appendEvent(b []byte, e *run.ArtifactEvent) ([]byte, error) {
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
	return appendTimes(b, timeField{`,"CreatedAt":`, e.CreatedAt})
}

// timeField is a record's timestamp with its key.
type timeField struct {
	key string // with the comma before it
	t   time.Time
}

// appendTimes writes the timestamps that end a record, and closes it.
func appendTimes(b []byte, fields ...timeField) ([]byte, error) {
	var err error
	for _, f := range fields {
		b = append(b, f.key...)
		if b, err = jsonenc.AppendTime(b, f.t); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendString writes s as a JSON string, without escaping HTML.
func appendString(b []byte, s string) []byte { return jsonenc.AppendStringNoHTML(b, s) }
