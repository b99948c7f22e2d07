-- Active expiry finds cold keys past their TTL through an index. On expire_at,
-- every TTL refresh (EXPIRE on each access: sessions, locks, rate limiters)
-- moved an indexed column, so no such update of a key row could be HOT: a new
-- heap tuple and an entry in each index, 21 µs of PostgreSQL's CPU a row
-- against 13-15 for a HOT update (docs/benchmarks.md, "Session 23").
-- expire_due is the end of a window holding expire_at, a window of at most
-- 1/32 of the TTL and 65.5 s (storage/expire-due.ts): a refresh within the
-- window leaves it as it was, and a cold key is reclaimed at most that late.
-- Rows written before this migration get their exact time.
ALTER TABLE talus.keys ADD COLUMN expire_due bigint;
UPDATE talus.keys SET expire_due = expire_at WHERE expire_at IS NOT NULL;
CREATE INDEX keys_expire_due ON talus.keys (expire_due) WHERE expire_due IS NOT NULL;
DROP INDEX talus.keys_expire_at;
