-- Replication state (docs/replication.md), one row.
-- replid: names this server's change-log history (PSYNC's replication id);
-- kept across restarts so that followers resume with a partial sync.
-- master_replid / master_offset: on a follower, the leader history and the
-- last leader record whose effects are committed here, written in the same
-- statement as those effects (src/storage/flusher.ts). master_offset -1: a
-- full sync was started and not finished (the data set is partial).
CREATE TABLE talus.replication (
  one           boolean PRIMARY KEY DEFAULT true CHECK (one),
  replid        text    NOT NULL,
  master_replid text,
  master_offset bigint
);

INSERT INTO talus.replication (replid)
VALUES (md5(random()::text || clock_timestamp()::text) || substr(md5(random()::text), 1, 8));
