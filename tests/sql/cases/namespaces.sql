-- Namespaces: create, IF NOT EXISTS, duplicates, drop, CASCADE, reserved and invalid names.

CREATE NAMESPACE app;
CREATE NAMESPACE app;
-- error: ALREADY_EXISTS
CREATE NAMESPACE IF NOT EXISTS app;
SHOW NAMESPACES;
-- includes: app
SELECT * FROM system.namespaces;
-- includes: app

-- Reserved names (SPEC §2) and names outside [A-Za-z_][A-Za-z0-9_]{0,63}.
CREATE NAMESPACE default;
-- error: INVALID_SQL
CREATE NAMESPACE information_schema;
-- error: INVALID_SQL
-- `system` exists already as the namespace of the system tables, so either answer is honest.
CREATE NAMESPACE system;
-- error: INVALID_SQL | ALREADY_EXISTS
CREATE NAMESPACE "1abc";
-- error: INVALID_SQL
CREATE NAMESPACE a_very_long_namespace_name_that_is_more_than_sixty_four_characters_x;
-- error: INVALID_SQL

-- A namespace with a table in it.
CREATE NAMESPACE other;
CREATE USER TABLE other.t (id INT PRIMARY KEY, v TEXT);
INSERT INTO other.t (id, v) VALUES (1, 'kept');

-- Dropping a non-empty namespace without CASCADE is refused with INVALID_SQL: the statement is
-- well-formed but cannot run as written (the same family as TTL_SECONDS on a USER table, which
-- SPEC §2 also files under INVALID_SQL); PostgreSQL refuses the same way ("cannot drop schema
-- because other objects depend on it ... use DROP ... CASCADE"). None of the other codes fit:
-- ALREADY_EXISTS/NOT_FOUND describe names, PERMISSION_DENIED the caller, UNSUPPORTED a feature.
DROP NAMESPACE other;
-- error: INVALID_SQL
SELECT id, v FROM other.t;
-- expect:
-- id | v
-- 1  | kept
SHOW NAMESPACES;
-- includes: other

DROP NAMESPACE other CASCADE;
SHOW NAMESPACES;
-- excludes: other
SELECT id FROM other.t;
-- error: NAMESPACE_NOT_FOUND
SELECT table_name FROM system.tables WHERE namespace = 'other';
-- expect:
-- table_name

-- Re-creating the namespace and table does not resurrect old rows.
CREATE NAMESPACE other;
CREATE USER TABLE other.t (id INT PRIMARY KEY, v TEXT);
SELECT id, v FROM other.t;
-- expect:
-- id | v

DROP NAMESPACE app;
DROP NAMESPACE app;
-- error: NAMESPACE_NOT_FOUND
DROP NAMESPACE IF EXISTS app;
SHOW NAMESPACES;
-- excludes: app
CREATE TABLE app.t (id INT PRIMARY KEY);
-- error: NAMESPACE_NOT_FOUND
