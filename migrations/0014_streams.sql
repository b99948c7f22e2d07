-- Streams: one row per entry, keyed by the key's incarnation and the entry ID
-- (16 bytes: milliseconds then sequence, each big-endian, so byte order is ID
-- order); the entry's fields and values packed in one bytea. The stream's
-- metadata and consumer groups live in the key row's value column.
CREATE TABLE talus.streams (
  key_id  bigint NOT NULL,
  id      bytea  NOT NULL,
  fields  bytea  NOT NULL,
  long_id bytea,
  PRIMARY KEY (key_id, id)
);
