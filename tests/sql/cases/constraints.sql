-- UNIQUE_VIOLATION and NOT_NULL_VIOLATION write nothing, even in multi-row inserts.

-- setup
CREATE NAMESPACE app;
CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
CREATE USER bob WITH PASSWORD 'bob-pw' ROLE user;
CREATE USER TABLE app.c (id INT PRIMARY KEY, name TEXT NOT NULL, note TEXT);
CREATE SHARED TABLE app.s (code TEXT PRIMARY KEY, label TEXT NOT NULL);
-- end setup

-- as: alice
INSERT INTO app.c (id, name, note) VALUES (1, 'a', NULL);
INSERT INTO app.c (id, name) VALUES (1, 'dup');
-- error: UNIQUE_VIOLATION
INSERT INTO app.c (id, name) VALUES (2, 'b'), (1, 'dup');
-- error: UNIQUE_VIOLATION
INSERT INTO app.c (id, name) VALUES (3, 'c'), (3, 'c again');
-- error: UNIQUE_VIOLATION
INSERT INTO app.c (id, name) VALUES (4, 'd'), (5, NULL);
-- error: NOT_NULL_VIOLATION
INSERT INTO app.c (id, note) VALUES (6, 'no name');
-- error: NOT_NULL_VIOLATION
INSERT INTO app.c (id, name) VALUES (NULL, 'no id');
-- error: NOT_NULL_VIOLATION
INSERT INTO app.c (id, name) VALUES (7, 'g'), ('eight', 'h');
-- error: TYPE_MISMATCH
SELECT id, name, note FROM app.c;
-- expect:
-- id | name | note
-- 1  | a    | NULL

UPDATE app.c SET name = NULL WHERE id = 1;
-- error: NOT_NULL_VIOLATION
SELECT name FROM app.c WHERE id = 1;
-- expect:
-- name
-- a

-- Wrong arity is a syntax-level error.
INSERT INTO app.c (id, name) VALUES (9);
-- error: INVALID_SQL

-- Primary keys are unique per user partition, not across users.
-- as: bob
INSERT INTO app.c (id, name) VALUES (1, 'bob one');
SELECT id, name FROM app.c;
-- expect:
-- id | name
-- 1  | bob one

-- A deleted key can be inserted again.
-- as: alice
DELETE FROM app.c WHERE id = 1;
INSERT INTO app.c (id, name) VALUES (1, 'again');
SELECT id, name FROM app.c;
-- expect:
-- id | name
-- 1  | again

-- Shared tables: one key space.
-- as: root
INSERT INTO app.s (code, label) VALUES ('a', 'A');
INSERT INTO app.s (code, label) VALUES ('b', 'B'), ('a', 'again');
-- error: UNIQUE_VIOLATION
INSERT INTO app.s (code, label) VALUES ('c', NULL);
-- error: NOT_NULL_VIOLATION
SELECT code, label FROM app.s;
-- expect:
-- code | label
-- a    | A
