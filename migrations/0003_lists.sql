-- Lists: one row per element, keyed by the key's incarnation and the element's
-- position. Positions are contiguous integers (a push at the head takes
-- head-1, at the tail tail+1), so element i of a list is at min(pos) + i:
-- LINDEX/LRANGE by index can become index lookups on (key_id, pos).
CREATE TABLE talus.lists (
  key_id bigint NOT NULL,
  pos    bigint NOT NULL,
  value  bytea  NOT NULL,
  PRIMARY KEY (key_id, pos)
);
