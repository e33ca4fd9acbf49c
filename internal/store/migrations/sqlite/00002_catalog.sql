-- +goose Up
CREATE TABLE pipelines (
    id            TEXT PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    namespace     TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);

CREATE TABLE pipeline_versions (
    id            TEXT PRIMARY KEY,
    pipeline_id   TEXT    NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    display_name  TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    spec          BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (pipeline_id, name)
);
CREATE INDEX pipeline_versions_pipeline ON pipeline_versions (pipeline_id, created_at DESC);

CREATE TABLE experiments (
    id                   TEXT PRIMARY KEY,
    display_name         TEXT    NOT NULL,
    description          TEXT    NOT NULL DEFAULT '',
    namespace            TEXT    NOT NULL DEFAULT '',
    storage_state        TEXT    NOT NULL DEFAULT 'AVAILABLE',
    created_at           INTEGER NOT NULL,
    last_run_created_at  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (namespace, display_name)
);

ALTER TABLE runs ADD COLUMN experiment_id TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN pipeline_id TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN pipeline_version_id TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN storage_state TEXT NOT NULL DEFAULT 'AVAILABLE';
ALTER TABLE runs ADD COLUMN service_account TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN recurring_run_id TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
CREATE INDEX runs_experiment ON runs (experiment_id, created_at DESC);
CREATE INDEX runs_display_name ON runs (display_name);

-- +goose Down
DROP INDEX runs_display_name;
DROP INDEX runs_experiment;
ALTER TABLE runs DROP COLUMN cancel_requested;
ALTER TABLE runs DROP COLUMN recurring_run_id;
ALTER TABLE runs DROP COLUMN service_account;
ALTER TABLE runs DROP COLUMN storage_state;
ALTER TABLE runs DROP COLUMN description;
ALTER TABLE runs DROP COLUMN pipeline_version_id;
ALTER TABLE runs DROP COLUMN pipeline_id;
ALTER TABLE runs DROP COLUMN experiment_id;
DROP TABLE experiments;
DROP TABLE pipeline_versions;
DROP TABLE pipelines;
