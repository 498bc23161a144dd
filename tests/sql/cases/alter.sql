-- ALTER TABLE: ADD / DROP / RENAME COLUMN; old rows read NULL or the DEFAULT.

-- setup
CREATE NAMESPACE app;
CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
CREATE USER TABLE app.a (id INT PRIMARY KEY, name TEXT);
-- as: alice
INSERT INTO app.a (id, name) VALUES (1, 'x');
-- as: root
-- end setup

SELECT schema_version FROM system.tables WHERE namespace = 'app' AND table_name = 'a';
-- expect:
-- schema_version
-- 1
ALTER TABLE app.a ADD COLUMN note TEXT;
ALTER TABLE app.a ADD COLUMN score INT NOT NULL DEFAULT 10;
SELECT schema_version FROM system.tables WHERE namespace = 'app' AND table_name = 'a';
-- expect:
-- schema_version
-- 3

-- as: alice
SELECT id, name, note, score FROM app.a;
-- expect:
-- id | name | note | score
-- 1  | x    | NULL | 10
INSERT INTO app.a (id, name, note, score) VALUES (2, 'y', 'n', 5);
INSERT INTO app.a (id, name) VALUES (3, 'z');
SELECT * FROM app.a;
-- expect:
-- id | name | note | score | _seq  | _deleted
-- 1  | x    | NULL | 10    | <any> | false
-- 2  | y    | n    | 5     | <any> | false
-- 3  | z    | NULL | 10    | <any> | false

-- as: root
ALTER TABLE app.a RENAME COLUMN name TO title;
-- as: alice
SELECT id, title FROM app.a;
-- expect:
-- id | title
-- 1  | x
-- 2  | y
-- 3  | z
SELECT name FROM app.a;
-- error: COLUMN_NOT_FOUND
UPDATE app.a SET title = 'x2' WHERE title = 'x';
-- rowcount: 1

-- as: root
ALTER TABLE app.a DROP COLUMN note;
-- as: alice
SELECT note FROM app.a;
-- error: COLUMN_NOT_FOUND
SELECT * FROM app.a;
-- expect:
-- id | title | score | _seq  | _deleted
-- 1  | x2    | 10    | <any> | false
-- 2  | y     | 5     | <any> | false
-- 3  | z     | 10    | <any> | false

-- A re-added column with an old name does not bring back the dropped values.
-- as: root
ALTER TABLE app.a ADD COLUMN note TEXT;
-- as: alice
SELECT id, note FROM app.a;
-- expect:
-- id | note
-- 1  | NULL
-- 2  | NULL
-- 3  | NULL

-- Errors.
-- as: root
ALTER TABLE app.a ADD COLUMN title TEXT;
-- error: ALREADY_EXISTS
ALTER TABLE app.a ADD COLUMN _secret TEXT;
-- error: INVALID_SQL
ALTER TABLE app.a DROP COLUMN nope;
-- error: COLUMN_NOT_FOUND
ALTER TABLE app.a RENAME COLUMN nope TO other;
-- error: COLUMN_NOT_FOUND
ALTER TABLE app.a RENAME COLUMN title TO score;
-- error: ALREADY_EXISTS
ALTER TABLE app.nope ADD COLUMN c TEXT;
-- error: TABLE_NOT_FOUND
-- SPEC §3's grammar is `ADD COLUMN c type [NOT NULL DEFAULT …]`: NOT NULL comes with a DEFAULT
-- for the existing rows (of every user partition), so NOT NULL alone is refused as INVALID_SQL.
ALTER TABLE app.a ADD COLUMN required INT NOT NULL;
-- error: INVALID_SQL
-- as: alice
SELECT id, title, score, note FROM app.a WHERE id = 2;
-- expect:
-- id | title | score | note
-- 2  | y     | 5     | NULL
