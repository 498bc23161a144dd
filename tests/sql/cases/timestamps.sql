-- TIMESTAMP from numbers and its range. One rule for every way an integer becomes a timestamp —
-- an SQL literal, CAST(int AS TIMESTAMP), an integer column or expression stored in or compared
-- with a TIMESTAMP, and a JSON parameter (tests/sql/limits_test.ts): it is epoch MILLISECONDS.
-- A TIMESTAMP is a 64-bit count of nanoseconds, so it holds 1677-09-21T00:12:43.145224192Z to
-- 2262-04-11T23:47:16.854775807Z; anything outside is TYPE_MISMATCH, never a wrapped value.
-- (CAST(ts AS BIGINT) and ts - ts are the stored nanoseconds.)

-- setup
CREATE NAMESPACE app;
CREATE SHARED TABLE app.ts (id INT PRIMARY KEY, ts TIMESTAMP, ms BIGINT);
INSERT INTO app.ts (id, ts, ms) VALUES (1, 1700000000000, 1700000000000);
INSERT INTO app.ts (id, ts) VALUES (2, CAST(1700000000000 AS TIMESTAMP));
INSERT INTO app.ts (id, ts) VALUES (3, '2023-11-14T22:13:20Z');
INSERT INTO app.ts (id, ts) VALUES (4, 1700000000000 + 1);
CREATE SHARED TABLE app.byts (ts TIMESTAMP PRIMARY KEY, v TEXT);
INSERT INTO app.byts (ts, v) VALUES (1700000000000, 'a'), ('2023-11-14T22:13:20.001Z', 'b');
-- end setup

SELECT id, ts FROM app.ts ORDER BY id;
-- expect:
-- id | ts
-- 1  | 2023-11-14T22:13:20.000000000Z
-- 2  | 2023-11-14T22:13:20.000000000Z
-- 3  | 2023-11-14T22:13:20.000000000Z
-- 4  | 2023-11-14T22:13:20.001000000Z
SELECT CAST(1700000000000 AS TIMESTAMP) AS a, CAST(ms AS TIMESTAMP) AS b, CAST(0 AS TIMESTAMP) AS c
FROM app.ts WHERE id = 1;
-- expect:
-- a                              | b                              | c
-- 2023-11-14T22:13:20.000000000Z | 2023-11-14T22:13:20.000000000Z | 1970-01-01T00:00:00.000000000Z
SELECT id FROM app.ts WHERE ts = 1700000000000 ORDER BY id;
-- expect:
-- id
-- 1
-- 2
-- 3
SELECT id FROM app.ts WHERE ts > 1700000000000;
-- expect:
-- id
-- 4

-- A TIMESTAMP primary key is found by the same rule (key seeks, IN lists, ranges).
SELECT v FROM app.byts WHERE ts = 1700000000000;
-- expect:
-- v
-- a
SELECT v FROM app.byts WHERE ts IN (1700000000001, 5) ORDER BY v;
-- expect:
-- v
-- b
SELECT v FROM app.byts WHERE ts >= 1700000000001;
-- expect:
-- v
-- b
SELECT id FROM app.ts WHERE ts = ms;
-- expect:
-- id
-- 1
SELECT id FROM app.ts WHERE ts IN (1700000000001) OR ts BETWEEN 1 AND 2;
-- expect:
-- id
-- 4
SELECT CAST(ts AS BIGINT) AS ns, ts - CAST(0 AS TIMESTAMP) AS diff FROM app.ts WHERE id = 1;
-- expect:
-- ns                  | diff
-- 1700000000000000000 | 1700000000000000000

-- Integers stored by UPDATE and DEFAULT (and ALTER … ADD COLUMN's fill) follow the same rule.
UPDATE app.ts SET ts = 1700000000002 WHERE id = 2;
UPDATE app.ts SET ts = CAST(1700000000000 AS BIGINT) + 3 WHERE id = 3;
SELECT id, ts FROM app.ts WHERE id IN (2, 3) ORDER BY id;
-- expect:
-- id | ts
-- 2  | 2023-11-14T22:13:20.002000000Z
-- 3  | 2023-11-14T22:13:20.003000000Z
CREATE SHARED TABLE app.td (id INT PRIMARY KEY, at TIMESTAMP DEFAULT 1700000000000);
INSERT INTO app.td (id) VALUES (1);
ALTER TABLE app.td ADD COLUMN at2 TIMESTAMP DEFAULT 1700000000000;
INSERT INTO app.td (id) VALUES (2);
SELECT id, at, at2 FROM app.td ORDER BY id;
-- expect:
-- id | at                             | at2
-- 1  | 2023-11-14T22:13:20.000000000Z | 2023-11-14T22:13:20.000000000Z
-- 2  | 2023-11-14T22:13:20.000000000Z | 2023-11-14T22:13:20.000000000Z

-- The 64-bit nanosecond range, to the nanosecond and to the millisecond.
INSERT INTO app.ts (id, ts) VALUES (10, '2262-04-11T23:47:16.854775807Z');
INSERT INTO app.ts (id, ts) VALUES (11, '1677-09-21T00:12:43.145224192Z');
INSERT INTO app.ts (id, ts) VALUES (12, 9223372036854);
INSERT INTO app.ts (id, ts) VALUES (13, -9223372036854);
SELECT id, ts FROM app.ts WHERE id >= 10 ORDER BY id;
-- expect:
-- id | ts
-- 10 | 2262-04-11T23:47:16.854775807Z
-- 11 | 1677-09-21T00:12:43.145224192Z
-- 12 | 2262-04-11T23:47:16.854000000Z
-- 13 | 1677-09-21T00:12:43.146000000Z
INSERT INTO app.ts (id, ts) VALUES (20, '2262-04-11T23:47:16.854775808Z');
-- error: TYPE_MISMATCH
INSERT INTO app.ts (id, ts) VALUES (20, '1677-09-21T00:12:43.145224191Z');
-- error: TYPE_MISMATCH
INSERT INTO app.ts (id, ts) VALUES (20, '9999-12-31');
-- error: TYPE_MISMATCH
INSERT INTO app.ts (id, ts) VALUES (20, '0050-01-01T00:00:00Z');
-- error: TYPE_MISMATCH
INSERT INTO app.ts (id, ts) VALUES (20, 9223372036855);
-- error: TYPE_MISMATCH
INSERT INTO app.ts (id, ts) VALUES (20, -9223372036855);
-- error: TYPE_MISMATCH
INSERT INTO app.ts (id, ts) VALUES (20, 9223372036854775807);
-- error: TYPE_MISMATCH
SELECT CAST(9223372036855 AS TIMESTAMP);
-- error: TYPE_MISMATCH
SELECT CAST('2262-04-12' AS TIMESTAMP);
-- error: TYPE_MISMATCH
SELECT ts + 1 FROM app.ts WHERE id = 10;
-- error: TYPE_MISMATCH
UPDATE app.ts SET ts = '2262-04-11T23:47:16.854775808Z' WHERE id = 1;
-- error: TYPE_MISMATCH
SELECT COUNT(*) AS n FROM app.ts WHERE id >= 20;
-- expect:
-- n
-- 0

-- Comparing with a far date is fine: only stored values must fit.
SELECT COUNT(*) AS n FROM app.ts WHERE ts < '9999-12-31' AND ts > '0001-01-01';
-- expect:
-- n
-- 8

-- Years before 100 are those years (not 19xx).
SELECT CAST('0050-01-01' AS DATE) AS d;
-- expect:
-- d
-- 0050-01-01
