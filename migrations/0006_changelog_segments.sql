-- The change log is stored as segments: one row per commit holding its records
-- (consecutive sequence numbers first_seq..last_seq). One row and one index
-- entry per commit instead of per mutation: a 25-key SET commit spent about
-- a fifth of its statement time on the per-record rows.
-- records: per record, in order: db int2, at int8 (unix ms), effect length
-- int4, effect (a RESP array), all big-endian (src/replication/changelog.ts).
ALTER TABLE talus.changelog RENAME TO changelog_records;

CREATE TABLE talus.changelog (
  first_seq bigint PRIMARY KEY,
  last_seq  bigint NOT NULL,
  at        bigint NOT NULL,  -- unix ms of the segment's last record (retention by age)
  records   bytea  NOT NULL
);

INSERT INTO talus.changelog (first_seq, last_seq, at, records)
SELECT seq, seq, at, int2send(db) || int8send(at) || int4send(length(effect)) || effect
FROM talus.changelog_records;

DROP TABLE talus.changelog_records;
