-- SPDX-License-Identifier: Apache-2.0
-- pg.sh createdb: in every test database, the few SQLite functions that the
-- integration tests' own queries use (tests/integration/lib.sh: db, db_exec)
-- and PostgreSQL lacks, in a schema of their own: the store's tables never
-- see them, only the tests' psql sessions have ztp_compat on their
-- search_path.
CREATE SCHEMA ztp_compat;
-- hex(X): upper-case hex of a blob (or of a text's UTF-8 bytes)
CREATE FUNCTION ztp_compat.hex(bytea) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT upper(encode($1, 'hex')) $$;
CREATE FUNCTION ztp_compat.hex(text) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT upper(encode(convert_to($1, 'UTF8'), 'hex')) $$;
-- zeroblob(N): N zero bytes
CREATE FUNCTION ztp_compat.zeroblob(integer) RETURNS bytea
	LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT decode(repeat('00', $1), 'hex') $$;
-- printf('PREFIX%0NX', V): the one form the tests use (upper-case hex, zero-padded to N)
CREATE FUNCTION ztp_compat.printf(text, bigint) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT m[1] || lpad(upper(to_hex($2)), m[2]::integer, '0')
	FROM regexp_match($1, '^(.*)%0([0-9]+)X$') AS m $$;
-- group_concat(X, SEP)
CREATE FUNCTION ztp_compat.group_concat_step(text, text, text) RETURNS text
	LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN $2 IS NULL THEN $1 WHEN $1 IS NULL THEN $2 ELSE $1 || $3 || $2 END $$;
CREATE AGGREGATE ztp_compat.group_concat(text, text) (
	SFUNC = ztp_compat.group_concat_step, STYPE = text);
-- CAST(x AS BLOB)
CREATE DOMAIN ztp_compat.blob AS bytea;
