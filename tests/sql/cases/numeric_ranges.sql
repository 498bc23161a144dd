-- Numeric ranges: a value outside its type's range is TYPE_MISMATCH wherever it arises (INSERT,
-- CAST, arithmetic, functions, aggregates) — as PostgreSQL's "bigint out of range" — never a
-- wrapped or widened value, an infinity or an internal error. Nothing is written by a failing
-- statement. Bad type modifiers (DECIMAL(p,s)) are INVALID_SQL; bad function arguments
-- (ROUND digits) INVALID_PARAMETER.

-- setup
CREATE NAMESPACE app;
CREATE SHARED TABLE app.n (
  id INT PRIMARY KEY, s SMALLINT, i INT, big BIGINT, r REAL, d DOUBLE, m DECIMAL(10,2)
);
INSERT INTO app.n (id, s, i, big, r, d, m) VALUES
  (1, 32767, 2147483647, 9223372036854775807, 3e38, 1e308, 12.34),
  (2, -32768, -2147483648, -9223372036854775808, -3e38, -1e308, -0.5);
-- end setup

-- BIGINT arithmetic stays in range or fails.
SELECT 9223372036854775807 + 1;
-- error: TYPE_MISMATCH
SELECT big + 1 FROM app.n WHERE id = 1;
-- error: TYPE_MISMATCH
SELECT big - 1 FROM app.n WHERE id = 2;
-- error: TYPE_MISMATCH
SELECT big * 2 FROM app.n WHERE id = 1;
-- error: TYPE_MISMATCH
SELECT big / -1 FROM app.n WHERE id = 2;
-- error: TYPE_MISMATCH
SELECT -big FROM app.n WHERE id = 2;
-- error: TYPE_MISMATCH
SELECT ABS(big) FROM app.n WHERE id = 2;
-- error: TYPE_MISMATCH
SELECT big - 1 AS a, -big AS b, big / 2 AS c, ABS(-big) AS e FROM app.n WHERE id = 1;
-- expect:
-- a                   | b                    | c                   | e
-- 9223372036854775806 | -9223372036854775807 | 4611686018427387903 | 9223372036854775807
SELECT SUM(a.big) FROM app.n AS a CROSS JOIN app.n AS b WHERE a.id = 1;
-- error: TYPE_MISMATCH
SELECT SUM(big) AS total FROM app.n;
-- expect:
-- total
-- -1

-- INT (32-bit) arithmetic: PostgreSQL's "integer out of range".
SELECT CAST(2147483647 AS INT) + 1;
-- error: TYPE_MISMATCH
SELECT 2147483647 + 1;
-- error: TYPE_MISMATCH
SELECT i + 1 FROM app.n WHERE id = 1;
-- error: TYPE_MISMATCH
SELECT i * 2 FROM app.n WHERE id = 2;
-- error: TYPE_MISMATCH
SELECT -i FROM app.n WHERE id = 2;
-- error: TYPE_MISMATCH
SELECT ABS(i) FROM app.n WHERE id = 2;
-- error: TYPE_MISMATCH
SELECT i / -1 FROM app.n WHERE id = 2;
-- error: TYPE_MISMATCH
SELECT i - 1 AS a, CAST(i AS BIGINT) + 1 AS b, s + 1 AS c, i + big AS e FROM app.n WHERE id = 1;
-- error: TYPE_MISMATCH
SELECT i - 1 AS a, CAST(i AS BIGINT) + 1 AS b, s + 1 AS c, -i AS e FROM app.n WHERE id = 1;
-- expect:
-- a          | b          | c     | e
-- 2147483646 | 2147483648 | 32768 | -2147483647
SELECT CAST(2147483648 AS INT);
-- error: TYPE_MISMATCH
SELECT CAST(32768 AS SMALLINT);
-- error: TYPE_MISMATCH
UPDATE app.n SET i = i + 1 WHERE id = 1;
-- error: TYPE_MISMATCH
UPDATE app.n SET big = big + 1 WHERE id = 1;
-- error: TYPE_MISMATCH
SELECT i, big FROM app.n WHERE id = 1;
-- expect:
-- i          | big
-- 2147483647 | 9223372036854775807

-- Integer literals beyond BIGINT are exact DECIMALs (PostgreSQL types them numeric).
SELECT 9223372036854775808 AS a, 9223372036854775808 + 1 AS b, -9223372036854775808 AS c;
-- expect:
-- a                   | b                   | c
-- 9223372036854775808 | 9223372036854775809 | -9223372036854775808
INSERT INTO app.n (id, big) VALUES (10, 9223372036854775808);
-- error: TYPE_MISMATCH
INSERT INTO app.n (id, big) VALUES (10, 9223372036854775807 + 1);
-- error: TYPE_MISMATCH

-- DOUBLE / REAL hold finite values only (JSON has no infinity): overflow is an error, not NULL.
INSERT INTO app.n (id, d) VALUES (10, 1e309);
-- error: TYPE_MISMATCH
INSERT INTO app.n (id, d) VALUES (10, 1e308 * 10);
-- error: TYPE_MISMATCH
INSERT INTO app.n (id, d) VALUES (10, 'Infinity');
-- error: TYPE_MISMATCH
INSERT INTO app.n (id, r) VALUES (10, 1e39);
-- error: TYPE_MISMATCH
SELECT d * 10 FROM app.n WHERE id = 1;
-- error: TYPE_MISMATCH
SELECT d / 10 AS v FROM app.n WHERE id = 1;
-- expect:
-- v
-- 1e+307
SELECT -d * 2 FROM app.n WHERE id = 1;
-- error: TYPE_MISMATCH
SELECT CAST(1e309 AS DOUBLE);
-- error: TYPE_MISMATCH
SELECT CAST('-Infinity' AS DOUBLE);
-- error: TYPE_MISMATCH
SELECT CAST(1e39 AS REAL);
-- error: TYPE_MISMATCH
SELECT SUM(a.d) FROM app.n AS a CROSS JOIN app.n AS b WHERE a.id = 1;
-- error: TYPE_MISMATCH
SELECT AVG(a.d) FROM app.n AS a CROSS JOIN app.n AS b WHERE a.id = 1;
-- error: TYPE_MISMATCH
UPDATE app.n SET d = d * 10 WHERE id = 1;
-- error: TYPE_MISMATCH
SELECT id, d, d IS NULL AS missing FROM app.n ORDER BY id;
-- expect:
-- id | d       | missing
-- 1  | 1e+308  | false
-- 2  | -1e+308 | false

-- A decimal literal is exact, so 1e309 itself is a fine DECIMAL.
SELECT 1e309 > 1e308 AS bigger, 1e308 * 10 = 1e309 AS same;
-- expect:
-- bigger | same
-- true   | true

-- DECIMAL(p,s): 1 <= p <= 1000 and 0 <= s <= p, checked where the type is written.
SELECT CAST(1 AS DECIMAL(1000000000,999999999));
-- error: INVALID_SQL
SELECT CAST(1 AS DECIMAL(1001,0));
-- error: INVALID_SQL
SELECT CAST(1 AS DECIMAL(5,6));
-- error: INVALID_SQL
SELECT CAST(1 AS NUMERIC(0));
-- error: INVALID_SQL
SELECT 1::DECIMAL(2000,1);
-- error: INVALID_SQL
CREATE SHARED TABLE app.bad (id INT PRIMARY KEY, m DECIMAL(2000,2));
-- error: INVALID_SQL
ALTER TABLE app.n ADD COLUMN m2 DECIMAL(3,4);
-- error: INVALID_SQL
CREATE SHARED TABLE app.bad (id INT PRIMARY KEY, v VARCHAR(0));
-- error: INVALID_SQL
SELECT LENGTH(CAST(CAST(1.5 AS DECIMAL(1000,999)) AS TEXT)) AS n;
-- expect:
-- n
-- 1001

-- A DECIMAL holds at most 1000 digits before and 1000 after the point.
SELECT 1e999 > 0 AS ok, 1e-1000 > 0 AS tiny;
-- expect:
-- ok   | tiny
-- true | true
SELECT 1e1000;
-- error: TYPE_MISMATCH
SELECT CAST('1e-1001' AS DECIMAL);
-- error: TYPE_MISMATCH
SELECT CAST('1e1000000000' AS DECIMAL(10,2));
-- error: TYPE_MISMATCH
SELECT 1e999 * 1e999;
-- error: TYPE_MISMATCH
SELECT 1e-999 * 1e-999 = 0 AS rounded;
-- expect:
-- rounded
-- true
INSERT INTO app.n (id, m) VALUES (10, 123456789.5);
-- error: TYPE_MISMATCH

-- ROUND: digits must be an integer in [-1000, 1000]; the result of rounding a DECIMAL(10,2) is an
-- unconstrained DECIMAL (as PostgreSQL), and storing it follows the column's DECIMAL(10,2).
SELECT ROUND(1.5, 9223372036854775807);
-- error: INVALID_PARAMETER
SELECT ROUND(1.5, 1001);
-- error: INVALID_PARAMETER
SELECT ROUND(1.5, -1001);
-- error: INVALID_PARAMETER
SELECT ROUND(1.5, 1.5);
-- error: INVALID_PARAMETER
SELECT ROUND(CAST(1.5 AS DOUBLE), 2147483647);
-- error: INVALID_PARAMETER
SELECT ROUND(1.25, 1) AS a, ROUND(1250, -2) AS b, ROUND(CAST(1250 AS BIGINT), -2) AS c,
  ROUND(-1.5) AS e, ROUND(1.5, -1000) AS f, ROUND(CAST(1.5 AS DOUBLE), 1000) AS g,
  ROUND(CAST(1.5 AS DOUBLE), -1000) AS h, ROUND(1234.5678, -2) AS k;
-- expect:
-- a   | b    | c    | e  | f | g   | h | k
-- 1.3 | 1300 | 1300 | -2 | 0 | 1.5 | 0 | 1200
SELECT ROUND(m, 4) AS a, LENGTH(CAST(ROUND(m, 100) AS TEXT)) AS b FROM app.n WHERE id = 1;
-- expect:
-- a       | b
-- 12.3400 | 103
UPDATE app.n SET m = ROUND(m, 100) WHERE id = 1;
SELECT m FROM app.n WHERE id = 1;
-- expect:
-- m
-- 12.34
SELECT ROUND(CAST(1.7e308 AS DOUBLE), -308);
-- error: TYPE_MISMATCH
SELECT ROUND(i, -1) FROM app.n WHERE id = 1;
-- error: TYPE_MISMATCH
SELECT ROUND(big, -1) FROM app.n WHERE id = 1;
-- error: TYPE_MISMATCH
