-- FUNCTION LOAD's libraries (Redis keeps them in its RDB), one row each:
-- the name from the library's shebang line and the whole code as loaded.
-- Written in the same commit as the change-log record of the FUNCTION
-- command that changed them (src/storage/flusher.ts), read at start-up
-- before the server answers.
CREATE TABLE talus.functions (
  name text  PRIMARY KEY,
  code bytea NOT NULL
);
