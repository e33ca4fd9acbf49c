-- +goose Up
-- Run listings sort newest first with the id breaking ties, filter by state
-- or experiment, and match names by substring: indexes that serve each
-- without sorting or reading whole rows (a run row carries its spec).
DROP INDEX runs_created;
CREATE INDEX runs_created ON runs (created_at DESC, id DESC, display_name);
DROP INDEX runs_phase;
CREATE INDEX runs_phase ON runs (phase, created_at DESC, id DESC);
DROP INDEX runs_experiment;
CREATE INDEX runs_experiment ON runs (experiment_id, created_at DESC, id DESC);

-- +goose Down
DROP INDEX runs_experiment;
CREATE INDEX runs_experiment ON runs (experiment_id, created_at DESC);
DROP INDEX runs_phase;
CREATE INDEX runs_phase ON runs (phase);
DROP INDEX runs_created;
CREATE INDEX runs_created ON runs (created_at DESC, id);
