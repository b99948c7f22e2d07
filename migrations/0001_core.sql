-- Core keyspace: one row per key, values in per-type tables keyed by key_id.
-- key_id names one incarnation of a key: overwriting a key with another type or
-- deleting it retires the old key_id, whose rows a janitor removes later, so the
-- client never waits for a big delete.
CREATE SCHEMA IF NOT EXISTS talus;

CREATE TABLE talus.keys (
  db        smallint NOT NULL,
  key       bytea    NOT NULL,
  key_id    bigint   NOT NULL,
  type      text     NOT NULL CHECK (type IN ('string', 'hash', 'list', 'set', 'zset', 'stream')),
  expire_at bigint,            -- unix time in ms; NULL = no TTL
  length    bigint   NOT NULL DEFAULT 0,  -- member count of collections (0 for strings)
  PRIMARY KEY (db, key)
) WITH (fillfactor = 80);
CREATE UNIQUE INDEX keys_key_id ON talus.keys (key_id);
CREATE INDEX keys_expire_at ON talus.keys (expire_at) WHERE expire_at IS NOT NULL;

-- fillfactor leaves room on each page so rewriting a value is a HOT update
-- (no index maintenance): SET on an existing key is the most common write.
CREATE TABLE talus.strings (
  key_id bigint PRIMARY KEY,
  value  bytea  NOT NULL
) WITH (fillfactor = 80);

-- Rows of retired key_ids still to be deleted by the janitor.
CREATE TABLE talus.garbage (
  key_id bigint PRIMARY KEY,
  type   text   NOT NULL
);

-- Every mutation as an effect (absolute expiry times, resulting values), written
-- in the same transaction as the data it describes; seq is the replication offset.
CREATE TABLE talus.changelog (
  seq    bigint   PRIMARY KEY,
  db     smallint NOT NULL,
  at     bigint   NOT NULL,  -- unix time in ms
  effect bytea    NOT NULL   -- the effect as a RESP array
);

-- Each start takes an epoch; key_ids are minted in memory as epoch * 2^32 + n.
CREATE SEQUENCE talus.epochs;

CREATE TABLE talus.meta (
  name  text PRIMARY KEY,
  value text NOT NULL
);
