-- +goose Up
CREATE TABLE recurring_runs (
    id                   TEXT PRIMARY KEY,
    display_name         TEXT    NOT NULL,
    description          TEXT    NOT NULL DEFAULT '',
    experiment_id        TEXT    NOT NULL DEFAULT '',
    pipeline_id          TEXT    NOT NULL DEFAULT '',
    pipeline_version_id  TEXT    NOT NULL DEFAULT '',
    spec                 BLOB    NOT NULL,
    parameters           TEXT    NOT NULL DEFAULT '{}',
    pipeline_root        TEXT    NOT NULL DEFAULT '',
    service_account      TEXT    NOT NULL DEFAULT '',
    cron                 TEXT    NOT NULL DEFAULT '',
    interval_seconds     INTEGER NOT NULL DEFAULT 0,
    start_at             INTEGER NOT NULL DEFAULT 0,
    end_at               INTEGER NOT NULL DEFAULT 0,
    max_concurrency      INTEGER NOT NULL DEFAULT 1,
    no_catchup           INTEGER NOT NULL DEFAULT 0,
    enabled              INTEGER NOT NULL DEFAULT 1,
    namespace            TEXT    NOT NULL DEFAULT '',
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    last_scheduled_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_recurring ON runs (recurring_run_id, phase);

-- +goose Down
DROP INDEX runs_recurring;
DROP TABLE recurring_runs;
