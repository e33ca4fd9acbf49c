-- +goose Up
CREATE TABLE runs (
    id             TEXT PRIMARY KEY,
    pipeline_name  TEXT    NOT NULL,
    display_name   TEXT    NOT NULL,
    spec           BLOB    NOT NULL,
    spec_file      TEXT    NOT NULL DEFAULT '',
    parameters     TEXT    NOT NULL DEFAULT '{}',
    pipeline_root  TEXT    NOT NULL,
    options        TEXT    NOT NULL DEFAULT '{}',
    phase          TEXT    NOT NULL,
    error          TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    started_at     INTEGER NOT NULL DEFAULT 0,
    finished_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_created ON runs (created_at DESC, id);
CREATE INDEX runs_phase ON runs (phase);

CREATE TABLE task_runs (
    id           TEXT PRIMARY KEY,
    run_id       TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    path         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    parent_id    TEXT    NOT NULL DEFAULT '',
    component    TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    phase        TEXT    NOT NULL,
    error        TEXT    NOT NULL DEFAULT '',
    inputs       TEXT    NOT NULL DEFAULT '{}',
    outputs      TEXT    NOT NULL DEFAULT '{}',
    cache_key    TEXT    NOT NULL DEFAULT '',
    cached_from  TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    started_at   INTEGER NOT NULL DEFAULT 0,
    finished_at  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (run_id, path)
);
CREATE INDEX task_runs_cache ON task_runs (cache_key) WHERE cache_key <> '';

CREATE TABLE attempts (
    id           TEXT PRIMARY KEY,
    task_run_id  TEXT    NOT NULL REFERENCES task_runs (id) ON DELETE CASCADE,
    number       INTEGER NOT NULL,
    phase        TEXT    NOT NULL,
    handle       TEXT    NOT NULL DEFAULT '',
    exit_code    INTEGER,
    error        TEXT    NOT NULL DEFAULT '',
    log_path     TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    started_at   INTEGER NOT NULL DEFAULT 0,
    finished_at  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (task_run_id, number)
);

CREATE TABLE artifacts (
    id              TEXT PRIMARY KEY,
    run_id          TEXT    NOT NULL,
    uri             TEXT    NOT NULL,
    schema_title    TEXT    NOT NULL,
    schema_version  TEXT    NOT NULL DEFAULT '',
    metadata        TEXT    NOT NULL DEFAULT '{}',
    digest          TEXT    NOT NULL DEFAULT '',
    size            INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
CREATE INDEX artifacts_run ON artifacts (run_id);
CREATE INDEX artifacts_uri ON artifacts (uri);

CREATE TABLE artifact_events (
    artifact_id  TEXT    NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    task_run_id  TEXT    NOT NULL,
    attempt_id   TEXT    NOT NULL DEFAULT '',
    kind         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    idx          INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (task_run_id, kind, name, idx)
);
CREATE INDEX artifact_events_artifact ON artifact_events (artifact_id);

-- +goose Down
DROP TABLE artifact_events;
DROP TABLE artifacts;
DROP TABLE attempts;
DROP TABLE task_runs;
DROP TABLE runs;
