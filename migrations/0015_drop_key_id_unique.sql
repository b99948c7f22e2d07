-- keys.key_id loses its unique constraint (migration 0007): every new key paid
-- for an insert into its index, 12-17% of PostgreSQL's CPU per new-key SET
-- (docs/benchmarks.md, "Session 14: the write path"), and nothing reads keys by
-- key_id (the loader reads big strings by (db, key)). What it caught, one
-- incarnation written under two names in a commit (RENAME, MOVE gone wrong),
-- the flusher now checks before it sends the commit (storage/flusher.ts).
ALTER TABLE talus.keys DROP CONSTRAINT keys_key_id;
