-- PSYNC2 continuity (docs/replication.md, src/replication/history.ts).
-- replid2 / second_offset: the previous history and the first offset not
-- shared with it (a promoted follower serves partial syncs in both).
-- offset_delta: own change-log seq minus history offset (a follower logs each
-- leader record it applies as one record, so the two differ by a constant).
-- history_start: the first own seq whose record belongs to the history (a full
-- sync's snapshot commands do not); partial syncs are served from there on.
ALTER TABLE talus.replication
  ADD COLUMN replid2 text NOT NULL DEFAULT '0000000000000000000000000000000000000000',
  ADD COLUMN second_offset bigint NOT NULL DEFAULT -1,
  ADD COLUMN offset_delta bigint NOT NULL DEFAULT 0,
  ADD COLUMN history_start bigint NOT NULL DEFAULT 1;

-- A follower's records from before this migration are its own numbering, not
-- its leader's: nothing it logged so far can be served as the leader's history.
UPDATE talus.replication
SET history_start = (SELECT coalesce(max(last_seq), 0) + 1 FROM talus.changelog)
WHERE master_replid IS NOT NULL;
