-- +goose Up
-- The engine writes a run's changes to the run's journal file first and into
-- the store in batches; journal_seq is the last journal record the store
-- holds, so that a restart replays only the records after it.
ALTER TABLE runs ADD COLUMN journal_seq BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE runs DROP COLUMN journal_seq;
