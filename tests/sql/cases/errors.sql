-- Name resolution errors and their codes.

-- setup
CREATE NAMESPACE app;
CREATE SHARED TABLE app.t (id INT PRIMARY KEY, v TEXT);
INSERT INTO app.t (id, v) VALUES (1, 'one');
-- end setup

-- Every table reference is qualified.
SELECT * FROM t;
-- error: INVALID_SQL
INSERT INTO t (id, v) VALUES (2, 'two');
-- error: INVALID_SQL
UPDATE t SET v = 'x';
-- error: INVALID_SQL
DELETE FROM t;
-- error: INVALID_SQL
CREATE TABLE t2 (id INT PRIMARY KEY);
-- error: INVALID_SQL

SELECT * FROM app.nope;
-- error: TABLE_NOT_FOUND
INSERT INTO app.nope (id) VALUES (1);
-- error: TABLE_NOT_FOUND
SELECT * FROM nope.t;
-- error: NAMESPACE_NOT_FOUND
SELECT nope FROM app.t;
-- error: COLUMN_NOT_FOUND
SELECT id FROM app.t WHERE nope = 1;
-- error: COLUMN_NOT_FOUND
SELECT id FROM app.t ORDER BY nope;
-- error: COLUMN_NOT_FOUND
INSERT INTO app.t (id, nope) VALUES (2, 'x');
-- error: COLUMN_NOT_FOUND
UPDATE app.t SET nope = 1 WHERE id = 1;
-- error: COLUMN_NOT_FOUND
SELECT x.id FROM app.t AS t;
-- error: COLUMN_NOT_FOUND | INVALID_SQL

SELEC id FROM app.t;
-- error: INVALID_SQL
SELECT id FROM app.t WHERE;
-- error: INVALID_SQL
-- A LIMIT that is not a non-negative integer (it may also come from a $n parameter, hence
-- INVALID_PARAMETER is accepted besides the syntax-level INVALID_SQL).
SELECT id FROM app.t LIMIT 'x';
-- error: INVALID_SQL | INVALID_PARAMETER

DROP TABLE app.nope;
-- error: TABLE_NOT_FOUND
DROP TABLE IF EXISTS app.nope;
DROP TABLE app.t;
SELECT * FROM app.t;
-- error: TABLE_NOT_FOUND
CREATE SHARED TABLE app.t (id INT PRIMARY KEY, v TEXT);
SELECT id, v FROM app.t;
-- expect:
-- id | v

-- Nobody writes system tables (root included).
INSERT INTO system.tables (namespace) VALUES ('x');
-- error: PERMISSION_DENIED
DELETE FROM system.users;
-- error: PERMISSION_DENIED
SELECT * FROM system.nope;
-- error: TABLE_NOT_FOUND
