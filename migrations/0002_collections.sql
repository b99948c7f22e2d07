-- Hashes, sets and sorted sets: one row per member, keyed by the key's incarnation.
CREATE TABLE talus.hashes (
  key_id bigint NOT NULL,
  field  bytea  NOT NULL,
  value  bytea  NOT NULL,
  PRIMARY KEY (key_id, field)
);

CREATE TABLE talus.sets (
  key_id bigint NOT NULL,
  member bytea  NOT NULL,
  PRIMARY KEY (key_id, member)
);

CREATE TABLE talus.zsets (
  key_id bigint           NOT NULL,
  member bytea            NOT NULL,
  score  double precision NOT NULL,
  PRIMARY KEY (key_id, member)
);
-- Range and rank queries by score (ZRANGEBYSCORE, ZCOUNT, paging of big keys).
CREATE INDEX zsets_by_score ON talus.zsets (key_id, score, member);
