-- Keys, hash fields and set / sorted-set members of any length. They are
-- btree index columns, whose entries PostgreSQL caps at 2704 bytes: a name of
-- at most 2560 bytes stays its own indexed form, as before (same rows, same
-- indexes); a longer one is indexed as its first 2560 bytes followed by its
-- SHA-256 digest (2592 bytes, a length no short name has), and the whole name
-- goes in the new column, NULL for every short name (src/util/indexed-names.ts).
-- Adding a column without a default rewrites nothing.
ALTER TABLE talus.keys ADD COLUMN long_key bytea;
ALTER TABLE talus.hashes ADD COLUMN long_field bytea;
ALTER TABLE talus.sets ADD COLUMN long_member bytea;
ALTER TABLE talus.zsets ADD COLUMN long_member bytea;

-- Names of 2561 to 2600 bytes were accepted before: they take the long form.
UPDATE talus.keys SET long_key = key, key = substring(key FROM 1 FOR 2560) || sha256(key)
WHERE octet_length(key) > 2560;
UPDATE talus.hashes SET long_field = field, field = substring(field FROM 1 FOR 2560) || sha256(field)
WHERE octet_length(field) > 2560;
UPDATE talus.sets SET long_member = member, member = substring(member FROM 1 FOR 2560) || sha256(member)
WHERE octet_length(member) > 2560;
UPDATE talus.zsets SET long_member = member, member = substring(member FROM 1 FOR 2560) || sha256(member)
WHERE octet_length(member) > 2560;
