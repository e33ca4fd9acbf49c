-- PostgreSQL twin of migrations/sqlite/00003_recurring.sql (see README.md).

-- +goose Up
CREATE TABLE recurring_runs (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    display_name         TEXT COLLATE "C" NOT NULL,
    description          TEXT COLLATE "C" NOT NULL DEFAULT '',
    experiment_id        TEXT COLLATE "C" NOT NULL DEFAULT '',
    pipeline_id          TEXT COLLATE "C" NOT NULL DEFAULT '',
    pipeline_version_id  TEXT COLLATE "C" NOT NULL DEFAULT '',
    spec                 BYTEA   NOT NULL,
    parameters           TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    pipeline_root        TEXT COLLATE "C" NOT NULL DEFAULT '',
    service_account      TEXT COLLATE "C" NOT NULL DEFAULT '',
    cron                 TEXT COLLATE "C" NOT NULL DEFAULT '',
    interval_seconds     BIGINT  NOT NULL DEFAULT 0,
    start_at             BIGINT  NOT NULL DEFAULT 0,
    end_at               BIGINT  NOT NULL DEFAULT 0,
    max_concurrency      INTEGER NOT NULL DEFAULT 1,
    no_catchup           INTEGER NOT NULL DEFAULT 0,
    enabled              INTEGER NOT NULL DEFAULT 1,
    namespace            TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT  NOT NULL,
    last_scheduled_at    BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX runs_recurring ON runs (recurring_run_id, phase);

-- +goose Down
DROP INDEX runs_recurring;
DROP TABLE recurring_runs;
