-- +goose Up
-- A trigram index on run display names, for substring filters (KFP's
-- IS_SUBSTRING on display_name): the store looks a substring of three
-- characters or more up in run_names and reads only the runs it names,
-- instead of every run. The index only narrows the candidates: the store
-- still applies the filter's LIKE to them, so a listing holds exactly the
-- runs LIKE selects (run_names folds case over all of Unicode, LIKE over
-- ASCII only).
--
-- run_names is a contentless FTS5 table (the names stay in runs only);
-- its rowids are the keys of run_name_keys, which maps them to run ids.
-- They are not the rowids of runs: those are not stable (VACUUM may
-- renumber them, a dump and restore does), an INTEGER PRIMARY KEY is.
--
-- The store indexes each run it inserts, in the same transaction (see
-- internal/store/names.go: an insert trigger costs several times more).
-- Triggers drop the entry of a deleted run and re-index a renamed one,
-- whatever deletes or renames it.
CREATE TABLE run_name_keys (
    k       INTEGER PRIMARY KEY,
    run_id  TEXT NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE run_names USING fts5 (display_name, content='', contentless_delete=1, tokenize='trigram');

INSERT INTO run_name_keys (run_id) SELECT id FROM runs ORDER BY created_at, id;
INSERT INTO run_names (rowid, display_name) SELECT k.k, r.display_name FROM run_name_keys k JOIN runs r ON r.id = k.run_id;
INSERT INTO run_names (run_names) VALUES ('optimize');

-- +goose StatementBegin
CREATE TRIGGER runs_name_delete AFTER DELETE ON runs BEGIN
    DELETE FROM run_names WHERE rowid = (SELECT k FROM run_name_keys WHERE run_id = old.id);
    DELETE FROM run_name_keys WHERE run_id = old.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER runs_name_update AFTER UPDATE OF id, display_name ON runs BEGIN
    DELETE FROM run_names WHERE rowid IN (SELECT k FROM run_name_keys WHERE run_id IN (old.id, new.id));
    DELETE FROM run_name_keys WHERE run_id IN (old.id, new.id);
    INSERT INTO run_name_keys (run_id) VALUES (new.id);
    INSERT INTO run_names (rowid, display_name) VALUES (last_insert_rowid(), new.display_name);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER runs_name_update;
DROP TRIGGER runs_name_delete;
DROP TABLE run_names;
DROP TABLE run_name_keys;
