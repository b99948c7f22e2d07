-- RENAME and MOVE hand a key's incarnation (key_id) to another key: one commit
-- deletes the old key row and writes the new one with the same key_id, in
-- sibling statements whose order PostgreSQL does not define. Checked at the
-- end of the statement, key_id stays unique without depending on that order.
DROP INDEX talus.keys_key_id;
ALTER TABLE talus.keys ADD CONSTRAINT keys_key_id UNIQUE (key_id) DEFERRABLE INITIALLY IMMEDIATE;
