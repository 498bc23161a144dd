-- Table types, WITH options, invalid combinations, implicit id, BIGSERIAL, defaults,
-- system columns.

-- setup
CREATE NAMESPACE app;
CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
-- end setup

CREATE USER TABLE app.msgs (
  id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
  content TEXT NOT NULL
) WITH (TYPE = 'USER', STORAGE_ID = 'local', FLUSH_POLICY = 'rows:1000,interval:60');
CREATE SHARED TABLE app.cfg (k TEXT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');
CREATE STREAM TABLE app.events (id INT PRIMARY KEY, kind TEXT) WITH (TTL_SECONDS = 30);
CREATE TABLE app.plain (id INT PRIMARY KEY, v TEXT);
CREATE TABLE app.typed (id INT PRIMARY KEY) WITH (TYPE = 'STREAM', TTL_SECONDS = 10);
CREATE USER TABLE app.agree (id INT PRIMARY KEY) WITH (TYPE = 'USER');
CREATE TABLE app.lower_type (id INT PRIMARY KEY) WITH (type = 'user');

SELECT table_name, table_type FROM system.tables WHERE namespace = 'app' ORDER BY table_name;
-- expect:
-- table_name | table_type
-- agree      | USER
-- cfg        | SHARED
-- events     | STREAM
-- lower_type | USER
-- msgs       | USER
-- plain      | SHARED
-- typed      | STREAM
SELECT storage_id, flush_policy FROM system.tables WHERE namespace = 'app' AND table_name = 'msgs';
-- expect:
-- storage_id | flush_policy
-- local      | rows:1000,interval:60
SELECT access_level FROM system.tables WHERE namespace = 'app' AND table_name = 'cfg';
-- expect:
-- access_level
-- PUBLIC

-- PRIVATE is the default access level of a shared table.
SELECT access_level FROM system.tables WHERE namespace = 'app' AND table_name = 'plain';
-- expect:
-- access_level
-- PRIVATE
SELECT ttl_seconds FROM system.tables WHERE namespace = 'app' AND table_name = 'events';
-- expect:
-- ttl_seconds
-- 30

-- Existing names.
CREATE SHARED TABLE app.cfg (k TEXT PRIMARY KEY);
-- error: ALREADY_EXISTS
CREATE SHARED TABLE IF NOT EXISTS app.cfg (k TEXT PRIMARY KEY);
CREATE TABLE nowhere.t (id INT PRIMARY KEY);
-- error: NAMESPACE_NOT_FOUND

-- Invalid WITH combinations: all INVALID_SQL, and nothing gets created.
CREATE USER TABLE app.bad1 (id INT PRIMARY KEY) WITH (TTL_SECONDS = 10);
-- error: INVALID_SQL
CREATE SHARED TABLE app.bad2 (id INT PRIMARY KEY) WITH (TTL_SECONDS = 10);
-- error: INVALID_SQL
CREATE USER TABLE app.bad3 (id INT PRIMARY KEY) WITH (ACCESS_LEVEL = 'PUBLIC');
-- error: INVALID_SQL
CREATE STREAM TABLE app.bad4 (id INT PRIMARY KEY) WITH (TTL_SECONDS = 10, ACCESS_LEVEL = 'PUBLIC');
-- error: INVALID_SQL
CREATE TABLE app.bad5 (id INT PRIMARY KEY) WITH (COLOR = 'red');
-- error: INVALID_SQL
CREATE USER TABLE app.bad6 (id INT PRIMARY KEY) WITH (TYPE = 'SHARED');
-- error: INVALID_SQL
CREATE STREAM TABLE app.bad7 (id INT PRIMARY KEY);
-- error: INVALID_SQL
CREATE TABLE app.bad8 (id INT PRIMARY KEY) WITH (TYPE = 'STREAM');
-- error: INVALID_SQL
CREATE TABLE app.bad9 (id INT PRIMARY KEY) WITH (TYPE = 'TEMPORARY');
-- error: INVALID_SQL
CREATE SHARED TABLE app.bad10 (id INT PRIMARY KEY) WITH (ACCESS_LEVEL = 'SECRET');
-- error: INVALID_SQL
CREATE USER TABLE app.bad11 (id INT PRIMARY KEY, _mine TEXT);
-- error: INVALID_SQL
CREATE USER TABLE app.bad12 (id INT PRIMARY KEY, v TEXT, v INT);
-- error: INVALID_SQL | ALREADY_EXISTS
CREATE USER TABLE app.bad13 (id INT PRIMARY KEY, v WIBBLE);
-- error: INVALID_SQL
SELECT table_name FROM system.tables WHERE namespace = 'app' AND table_name LIKE 'bad%';
-- expect:
-- table_name

-- No PRIMARY KEY: an implicit `id BIGINT DEFAULT SNOWFLAKE_ID()` is added.
CREATE USER TABLE app.noid (title TEXT);
-- as: alice
INSERT INTO app.noid (title) VALUES ('a'), ('b');
SELECT id > 0 AS has_id, title FROM app.noid ORDER BY title;
-- expect:
-- has_id | title
-- true   | a
-- true   | b
SELECT COUNT(DISTINCT id) AS ids FROM app.noid;
-- expect:
-- ids
-- 2
-- as: root

-- BIGSERIAL and AUTO_INCREMENT mean DEFAULT SNOWFLAKE_ID(): distinct, increasing in insert order.
CREATE USER TABLE app.serial (id BIGSERIAL PRIMARY KEY, v TEXT);
CREATE USER TABLE app.auto (id BIGINT AUTO_INCREMENT PRIMARY KEY, v TEXT);
-- as: alice
INSERT INTO app.serial (v) VALUES ('first'), ('second');
INSERT INTO app.serial (v) VALUES ('third');
SELECT v FROM app.serial;
-- expect:
-- v
-- first
-- second
-- third
SELECT COUNT(DISTINCT id) AS ids, MIN(id) > 0 AS positive FROM app.serial;
-- expect:
-- ids | positive
-- 3   | true
INSERT INTO app.auto (v) VALUES ('x') RETURNING id;
-- expect:
-- id
-- <re:[1-9][0-9]{9,18}>
-- as: root

-- Defaults: shapes of every generator, evaluated for the writing user.
CREATE USER TABLE app.d (
  id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
  u UUID DEFAULT UUID_V7(),
  ul TEXT DEFAULT ULID(),
  who TEXT DEFAULT CURRENT_USER(),
  at TIMESTAMP DEFAULT NOW(),
  at2 TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  n INT DEFAULT 7,
  flag BOOLEAN NOT NULL DEFAULT FALSE,
  label TEXT DEFAULT 'none'
);
-- as: alice
INSERT INTO app.d (n) VALUES (1);
INSERT INTO app.d (label) VALUES ('second');
SELECT id > 0 AS idok, LENGTH(CAST(u AS TEXT)) AS ulen, LENGTH(ul) AS ullen, who, at <= NOW() AS past, n, flag, label FROM app.d ORDER BY id;
-- expect:
-- idok | ulen | ullen | who   | past | n | flag  | label
-- true | 36   | 26    | alice | true | 1 | false | none
-- true | 36   | 26    | alice | true | 7 | false | second
SELECT u, ul, at, at2 FROM app.d WHERE n = 1;
-- expect:
-- u | ul | at | at2
-- <re:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}> | <re:[0-9A-HJKMNP-TV-Z]{26}> | <re:20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z> | <re:20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z>
SELECT COUNT(DISTINCT u) AS us, COUNT(DISTINCT ul) AS uls FROM app.d;
-- expect:
-- us | uls
-- 2  | 2
SELECT who = CURRENT_USER() AS same FROM app.d WHERE n = 7;
-- expect:
-- same
-- true
-- as: root
EXECUTE AS USER 'alice' (INSERT INTO app.d (n) VALUES (3));
-- as: alice
SELECT who FROM app.d WHERE n = 3;
-- expect:
-- who
-- alice
-- as: root

-- SELECT * returns the declared columns in order, then _seq and _deleted.
CREATE USER TABLE app.star (id INT PRIMARY KEY, title TEXT, done BOOLEAN);
INSERT INTO app.star (id, title, done) VALUES (1, 'x', TRUE);
SELECT * FROM app.star;
-- expect:
-- id | title | done | _seq                  | _deleted
-- 1  | x     | true | <re:[1-9][0-9]{9,18}> | false

-- System columns cannot be written.
INSERT INTO app.star (id, title, _seq) VALUES (2, 'y', 5);
-- error: INVALID_SQL
UPDATE app.star SET _deleted = TRUE WHERE id = 1;
-- error: INVALID_SQL

-- Each table type keeps its own WITH options through ALTER.
ALTER TABLE app.events SET TTL 60;
SELECT ttl_seconds FROM system.tables WHERE namespace = 'app' AND table_name = 'events';
-- expect:
-- ttl_seconds
-- 60
ALTER TABLE app.msgs SET TTL 60;
-- error: INVALID_SQL
ALTER TABLE app.cfg SET ACCESS_LEVEL PROTECTED;
SELECT access_level FROM system.tables WHERE namespace = 'app' AND table_name = 'cfg';
-- expect:
-- access_level
-- PROTECTED
ALTER TABLE app.msgs SET ACCESS_LEVEL PUBLIC;
-- error: INVALID_SQL
