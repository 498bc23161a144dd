-- Column types: round trips, exact BIGINT and TIMESTAMP precision, JSON access, range checks.

-- setup
CREATE NAMESPACE app;
CREATE SHARED TABLE app.types (
  id INT PRIMARY KEY,
  b BOOLEAN,
  s SMALLINT,
  i INTEGER,
  big BIGINT,
  r REAL,
  d DOUBLE,
  amount DECIMAL(10,2),
  t TEXT,
  vc VARCHAR(5),
  bin BYTES,
  j JSON,
  u UUID,
  dt DATE,
  ts TIMESTAMP
);
INSERT INTO app.types VALUES
  (1, TRUE, 32767, -2147483648, 9007199254740993, 1.5, 2.25, 12.3, 'héllo', 'abcde', 'hi',
   '{"name": "Ann", "n": 1, "tags": ["x"]}', '0190A6E0-0000-7000-8000-000000000001', '2026-02-28',
   '2026-11-25T20:15:01.123456789Z'),
  (2, FALSE, -32768, 2147483647, -9223372036854775808, -0.5, 1e-3, 0.7, '', 'a', '',
   '[1, 2]', '0190a6e0-0000-7000-8000-000000000002', '2024-02-29',
   '2026-11-25T21:15:01.5+01:00');
INSERT INTO app.types (id) VALUES (3);
-- end setup

SELECT id, b, s, i, big, r, d, amount FROM app.types;
-- expect:
-- id | b     | s      | i           | big                  | r    | d     | amount
-- 1  | true  | 32767  | -2147483648 | 9007199254740993     | 1.5  | 2.25  | 12.30
-- 2  | false | -32768 | 2147483647  | -9223372036854775808 | -0.5 | 0.001 | 0.70
-- 3  | NULL  | NULL   | NULL        | NULL                 | NULL | NULL  | NULL
SELECT id, t, vc, bin, j, u, dt, ts FROM app.types;
-- expect:
-- id | t     | vc    | bin     | j                                  | u                                    | dt         | ts
-- 1  | héllo | abcde | \x6869  | {"name":"Ann","n":1,"tags":["x"]} | 0190a6e0-0000-7000-8000-000000000001 | 2026-02-28 | 2026-11-25T20:15:01.123456789Z
-- 2  |       | a     | \x      | [1,2]                              | 0190a6e0-0000-7000-8000-000000000002 | 2024-02-29 | 2026-11-25T20:15:01.500000000Z
-- 3  | NULL  | NULL  | NULL    | NULL                               | NULL                                 | NULL       | NULL

-- BIGINT beyond 2^53 is exact in comparisons and arithmetic.
SELECT id FROM app.types WHERE big = 9007199254740993;
-- expect:
-- id
-- 1
SELECT id FROM app.types WHERE big = 9007199254740992;
-- expect:
-- id
SELECT big + 1 AS next FROM app.types WHERE id = 1;
-- expect:
-- next
-- 9007199254740994
INSERT INTO app.types (id, big) VALUES (4, 9223372036854775807);
INSERT INTO app.types (id, big) VALUES (5, 9223372036854775808);
-- error: TYPE_MISMATCH

-- TIMESTAMP keeps nanoseconds in comparisons.
SELECT id FROM app.types WHERE ts = '2026-11-25T20:15:01.123456789Z';
-- expect:
-- id
-- 1
SELECT id FROM app.types WHERE ts = '2026-11-25T20:15:01.123456788Z';
-- expect:
-- id
SELECT id FROM app.types WHERE ts > '2026-11-25T20:15:01.123456789Z';
-- expect:
-- id
-- 2

-- DECIMAL compares numerically, not as text.
SELECT id FROM app.types WHERE amount > 9.99 ORDER BY id;
-- expect:
-- id
-- 1
SELECT id FROM app.types WHERE amount < 1;
-- expect:
-- id
-- 2

-- JSON access.
SELECT j->>'name' AS name, j->>'n' AS n FROM app.types WHERE id = 1;
-- expect:
-- name | n
-- Ann  | 1
SELECT id FROM app.types WHERE j->>'name' = 'Ann';
-- expect:
-- id
-- 1
SELECT j->>'missing' AS m FROM app.types WHERE id = 1;
-- expect:
-- m
-- NULL

-- Values that do not fit their column: TYPE_MISMATCH, nothing written.
INSERT INTO app.types (id, vc) VALUES (10, 'abcdef');
-- error: TYPE_MISMATCH
INSERT INTO app.types (id, s) VALUES (10, 40000);
-- error: TYPE_MISMATCH
INSERT INTO app.types (id, i) VALUES (10, 'abc');
-- error: TYPE_MISMATCH
INSERT INTO app.types (id, i) VALUES (10, 1.5);
-- error: TYPE_MISMATCH
INSERT INTO app.types (id, b) VALUES (10, 'maybe');
-- error: TYPE_MISMATCH
INSERT INTO app.types (id, amount) VALUES (10, 123456789.5);
-- error: TYPE_MISMATCH
INSERT INTO app.types (id, j) VALUES (10, '{bad json');
-- error: TYPE_MISMATCH
INSERT INTO app.types (id, u) VALUES (10, 'not-a-uuid');
-- error: TYPE_MISMATCH
INSERT INTO app.types (id, dt) VALUES (10, '2026-02-31');
-- error: TYPE_MISMATCH
INSERT INTO app.types (id, ts) VALUES (10, 'yesterday');
-- error: TYPE_MISMATCH
INSERT INTO app.types (id, ts) VALUES (10, TRUE);
-- error: TYPE_MISMATCH
UPDATE app.types SET vc = 'toolong' WHERE id = 1;
-- error: TYPE_MISMATCH
SELECT id FROM app.types WHERE id >= 10;
-- expect:
-- id
SELECT vc FROM app.types WHERE id = 1;
-- expect:
-- vc
-- abcde

-- A DECIMAL rounds to its scale on write.
INSERT INTO app.types (id, amount) VALUES (11, 1.005), (12, '-2.5');
SELECT id, amount FROM app.types WHERE id IN (11, 12);
-- expect:
-- id | amount
-- 11 | 1.01
-- 12 | -2.50
