-- 015_schema_functions.sql - the record of the function files (sql/functions/NAME.sql)
-- that `tgmctl migrate` re-applies after the numbered migrations: each function's name,
-- the SHA-256 of the file text last applied and when. A daemon refuses a database whose
-- checksums differ from the files compiled into it (common/migrate.c).

CREATE TABLE schema_functions (
    name       text PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
