-- A string's value moves into its key's row, as Pika keeps a string and its
-- TTL in one record. A SET of a new key then writes one row and two index
-- entries instead of two rows and three, and needs one ON CONFLICT arbiter
-- instead of two: PostgreSQL spends about a third less CPU per row
-- (docs/benchmarks.md, session 6). A rewrite of an existing string touches
-- no indexed column, so it stays a HOT update (keys has fillfactor 80).
-- Values above ~2 kB are compressed or moved to the TOAST table as before,
-- so a keys row stays small enough for scans of the table.
ALTER TABLE talus.keys ADD COLUMN value bytea;

UPDATE talus.keys k SET value = s.value
FROM talus.strings s
WHERE k.type = 'string' AND s.key_id = k.key_id;

-- Retired strings' rows go with the table.
DELETE FROM talus.garbage WHERE type = 'string';
DROP TABLE talus.strings;
