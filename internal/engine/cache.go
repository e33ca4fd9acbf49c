package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"

	"github.com/weir-dev/weir/internal/launch"
	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/spec"
)

// cacheFormat versions the cache key layout.
const cacheFormat = 1

// cachingEnabled reports whether a task may reuse and record results.
func cachingEnabled(t *spec.Task) bool {
	return t != nil && t.CachingOptions != nil && t.CachingOptions.EnableCache
}

// cacheKey computes a container task's cache key from content: the
// component (image, command, args, env, declared outputs), the input
// parameter values, and the digests and metadata of the input artifacts
// (not their ids or URIs). So two runs, or two different pipelines, that compute
// the same step with the same inputs share it. A cacheKey set in the
// pipeline replaces the computed key, as in KFP.
func (x *execution) cacheKey(ts *taskState) string {
	h := sha256.New()
	if custom := ts.task.CachingOptions.CacheKey; custom != "" {
		h.Write([]byte("custom\x00" + custom))
		return "sha256:" + hex.EncodeToString(h.Sum(nil))
	}
	ct := x.st.pipe.DeploymentSpec.Executors[ts.comp.ExecutorLabel].Container
	// An input artifact counts by its content and its metadata (which a
	// step may read), never by its id or where it is stored.
	arts := map[string][]string{}
	for name, list := range ts.inArts {
		for _, a := range list {
			id := a.Digest
			if id == "" {
				id = "uri:" + a.URI
			}
			md, _ := json.Marshal(a.Metadata)
			arts[name] = append(arts[name], id+" "+string(md))
		}
	}
	doc := struct {
		Format    int                 `json:"format"`
		Image     string              `json:"image"`
		Command   []string            `json:"command"`
		Args      []string            `json:"args"`
		Env       []spec.EnvVar       `json:"env"`
		Outputs   *spec.Definitions   `json:"outputs"`
		Params    map[string]any      `json:"params"`
		Artifacts map[string][]string `json:"artifacts"`
	}{cacheFormat, ct.Image, ct.Command, ct.Args, ct.Env, ts.comp.OutputDefinitions, ts.tr.Inputs, arts}
	b, err := json.Marshal(doc)
	if err != nil {
		return ""
	}
	h.Write(b)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// fromCache finishes a task from an earlier identical one, if caching is on
// and a usable entry exists. An entry whose artifacts vanished (or changed
// size) is a miss. The key is recorded either way, so a success now serves
// later runs.
func (x *execution) fromCache(ctx context.Context, ts *taskState, b *batch) bool {
	if !cachingEnabled(ts.task) {
		return false
	}
	key := x.cacheKey(ts)
	ts.tr.CacheKey = key
	if x.st.run.Options.NoCache || key == "" {
		return false
	}
	// The entry may be a task of this run that the store does not hold yet.
	err := x.flush(ctx)
	var hit *run.CacheHit
	if err == nil {
		hit, err = x.e.store.FindCached(ctx, key)
	}
	if err != nil {
		x.log.Warn("cache lookup failed", slog.String("task", ts.tr.Path), slog.Any("err", err))
		return false
	}
	if hit == nil || !artifactsPresent(hit.Artifacts) {
		return false
	}
	ts.tr.Phase, ts.tr.FinishedAt = run.Cached, b.now
	ts.tr.Outputs, ts.tr.CachedFrom = hit.TaskRun.Outputs, hit.AttemptID
	ts.outArts = hit.Artifacts
	for _, name := range sortedNames(hit.Artifacts) {
		x.outputEvents(ts, name, b)
	}
	b.task(x, ts.tr)
	return true
}

func artifactsPresent(arts map[string][]*run.Artifact) bool {
	for _, list := range arts {
		for _, a := range list {
			if a.Digest == "" {
				continue // never written: nothing to lose
			}
			fi, err := os.Stat(launch.LocalPath(a.URI))
			if err != nil || (!fi.IsDir() && fi.Size() != a.Size) {
				return false
			}
		}
	}
	return true
}
