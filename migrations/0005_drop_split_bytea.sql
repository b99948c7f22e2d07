-- Commits now send every column as a binary array (src/storage/binary-array.ts),
-- which carries bytea values as raw bytes: the blob splitter of 0004 is unused.
DROP FUNCTION IF EXISTS talus.split_bytea(bytea, int4[]);
