-- PostgreSQL twin of migrations/sqlite/00002_catalog.sql (see README.md).
-- Flags (cancel_requested) are INTEGER 0/1 in both dialects.

-- +goose Up
CREATE TABLE pipelines (
    id            TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT COLLATE "C" NOT NULL UNIQUE,
    display_name  TEXT COLLATE "C" NOT NULL,
    description   TEXT COLLATE "C" NOT NULL DEFAULT '',
    namespace     TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL
);

CREATE TABLE pipeline_versions (
    id            TEXT COLLATE "C" PRIMARY KEY,
    pipeline_id   TEXT COLLATE "C" NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    name          TEXT COLLATE "C" NOT NULL,
    display_name  TEXT COLLATE "C" NOT NULL,
    description   TEXT COLLATE "C" NOT NULL DEFAULT '',
    spec          BYTEA   NOT NULL,
    created_at    BIGINT  NOT NULL,
    UNIQUE (pipeline_id, name)
);
CREATE INDEX pipeline_versions_pipeline ON pipeline_versions (pipeline_id, created_at DESC);

CREATE TABLE experiments (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    display_name         TEXT COLLATE "C" NOT NULL,
    description          TEXT COLLATE "C" NOT NULL DEFAULT '',
    namespace            TEXT COLLATE "C" NOT NULL DEFAULT '',
    storage_state        TEXT COLLATE "C" NOT NULL DEFAULT 'AVAILABLE',
    created_at           BIGINT  NOT NULL,
    last_run_created_at  BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (namespace, display_name)
);

ALTER TABLE runs ADD COLUMN experiment_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN pipeline_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN pipeline_version_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN description TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN storage_state TEXT COLLATE "C" NOT NULL DEFAULT 'AVAILABLE';
ALTER TABLE runs ADD COLUMN service_account TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN recurring_run_id TEXT COLLATE "C" NOT NULL DEFAULT '';
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
