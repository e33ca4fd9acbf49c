-- PostgreSQL twin of migrations/sqlite/00001_init.sql (see README.md).
-- Text is compared and sorted bytewise (COLLATE "C"), as in SQLite, so that
-- lists come back in the same order from both dialects. Timestamps are Unix
-- microseconds (0 when unset) and sizes are bytes: BIGINT.

-- +goose Up
CREATE TABLE runs (
    id             TEXT COLLATE "C" PRIMARY KEY,
    pipeline_name  TEXT COLLATE "C" NOT NULL,
    display_name   TEXT COLLATE "C" NOT NULL,
    spec           BYTEA   NOT NULL,
    spec_file      TEXT COLLATE "C" NOT NULL DEFAULT '',
    parameters     TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    pipeline_root  TEXT COLLATE "C" NOT NULL,
    options        TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    phase          TEXT COLLATE "C" NOT NULL,
    error          TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at     BIGINT  NOT NULL,
    started_at     BIGINT  NOT NULL DEFAULT 0,
    finished_at    BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX runs_created ON runs (created_at DESC, id);
CREATE INDEX runs_phase ON runs (phase);

CREATE TABLE task_runs (
    id           TEXT COLLATE "C" PRIMARY KEY,
    run_id       TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    path         TEXT COLLATE "C" NOT NULL,
    name         TEXT COLLATE "C" NOT NULL,
    parent_id    TEXT COLLATE "C" NOT NULL DEFAULT '',
    component    TEXT COLLATE "C" NOT NULL,
    kind         TEXT COLLATE "C" NOT NULL,
    phase        TEXT COLLATE "C" NOT NULL,
    error        TEXT COLLATE "C" NOT NULL DEFAULT '',
    inputs       TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    outputs      TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    cache_key    TEXT COLLATE "C" NOT NULL DEFAULT '',
    cached_from  TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL,
    started_at   BIGINT  NOT NULL DEFAULT 0,
    finished_at  BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (run_id, path)
);
CREATE INDEX task_runs_cache ON task_runs (cache_key) WHERE cache_key <> '';

CREATE TABLE attempts (
    id           TEXT COLLATE "C" PRIMARY KEY,
    task_run_id  TEXT COLLATE "C" NOT NULL REFERENCES task_runs (id) ON DELETE CASCADE,
    number       INTEGER NOT NULL,
    phase        TEXT COLLATE "C" NOT NULL,
    handle       TEXT COLLATE "C" NOT NULL DEFAULT '',
    exit_code    INTEGER,
    error        TEXT COLLATE "C" NOT NULL DEFAULT '',
    log_path     TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL,
    started_at   BIGINT  NOT NULL DEFAULT 0,
    finished_at  BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (task_run_id, number)
);

CREATE TABLE artifacts (
    id              TEXT COLLATE "C" PRIMARY KEY,
    run_id          TEXT COLLATE "C" NOT NULL,
    uri             TEXT COLLATE "C" NOT NULL,
    schema_title    TEXT COLLATE "C" NOT NULL,
    schema_version  TEXT COLLATE "C" NOT NULL DEFAULT '',
    metadata        TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    digest          TEXT COLLATE "C" NOT NULL DEFAULT '',
    size            BIGINT  NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL
);
CREATE INDEX artifacts_run ON artifacts (run_id);
CREATE INDEX artifacts_uri ON artifacts (uri);

CREATE TABLE artifact_events (
    artifact_id  TEXT COLLATE "C" NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    task_run_id  TEXT COLLATE "C" NOT NULL,
    attempt_id   TEXT COLLATE "C" NOT NULL DEFAULT '',
    kind         TEXT COLLATE "C" NOT NULL,
    name         TEXT COLLATE "C" NOT NULL,
    idx          INTEGER NOT NULL DEFAULT 0,
    created_at   BIGINT  NOT NULL,
    PRIMARY KEY (task_run_id, kind, name, idx)
);
CREATE INDEX artifact_events_artifact ON artifact_events (artifact_id);

-- +goose Down
DROP TABLE artifact_events;
DROP TABLE artifacts;
DROP TABLE attempts;
DROP TABLE task_runs;
DROP TABLE runs;
