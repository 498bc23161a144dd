-- Scalar functions and CAST.

-- setup
CREATE NAMESPACE app;
CREATE SHARED TABLE app.f (id INT PRIMARY KEY, s TEXT, n INT, x DOUBLE, e TEXT);
INSERT INTO app.f (id, s, n, x, e) VALUES (1, '  Hello World  ', -5, 2.567, NULL), (2, 'O''Brien', 3, -1.25, 'x');
-- end setup

SELECT LOWER(s) AS l, UPPER(s) AS u, LENGTH(s) AS len, LENGTH(TRIM(s)) AS tlen FROM app.f WHERE id = 1;
-- expect:
-- l           | u           | len | tlen
-- hello world | HELLO WORLD | 15  | 11
SELECT '[' || TRIM(s) || ']' AS t FROM app.f WHERE id = 1;
-- expect:
-- t
-- [Hello World]
SELECT SUBSTR(TRIM(s), 1, 5) AS a, SUBSTR(TRIM(s), 7) AS b, UPPER(SUBSTR(LOWER(s), 3, 5)) AS c FROM app.f WHERE id = 1;
-- expect:
-- a     | b     | c
-- Hello | World | HELLO
SELECT CONCAT(TRIM(s), '!', e) AS c, TRIM(s) || e AS p FROM app.f ORDER BY id;
-- expect:
-- c               | p
-- Hello World!    | NULL
-- O'Brien!x       | O'Brienx
SELECT COALESCE(e, 'none') AS c, NULLIF(n, 3) AS ni, ABS(n) AS a FROM app.f ORDER BY id;
-- expect:
-- c    | ni   | a
-- none | -5   | 5
-- x    | NULL | 3
SELECT ROUND(x, 2) AS r2, ROUND(x) AS r0, ABS(x) AS ax FROM app.f ORDER BY id;
-- expect:
-- r2    | r0 | ax
-- 2.57  | 3  | 2.567
-- -1.25 | -1 | 1.25
SELECT id FROM app.f WHERE s = 'O''Brien';
-- expect:
-- id
-- 2
SELECT lower(s) AS l, Length(e) AS le FROM app.f WHERE id = 2;
-- expect:
-- l       | le
-- o'brien | 1

SELECT CAST(n AS TEXT) || 'x' AS t, CAST('42' AS INT) + 1 AS i, CAST(n AS BIGINT) AS b, CAST(n AS DOUBLE) / 2 AS d FROM app.f WHERE id = 1;
-- expect:
-- t   | i  | b  | d
-- -5x | 43 | -5 | -2.5
SELECT CAST('2026-11-25T20:15:01.123456789Z' AS TIMESTAMP) AS ts, CAST('2026-01-02' AS DATE) AS d, CAST('12.345' AS DECIMAL(10,2)) AS m, CAST('true' AS BOOLEAN) AS b FROM app.f WHERE id = 1;
-- expect:
-- ts                             | d          | m     | b
-- 2026-11-25T20:15:01.123456789Z | 2026-01-02 | 12.35 | true
SELECT CAST(s AS INT) AS bad FROM app.f WHERE id = 1;
-- error: TYPE_MISMATCH

SELECT LENGTH('héllo') AS len, UPPER('héllo') AS up, SUBSTR('héllo', 2, 2) AS sub FROM app.f WHERE id = 1;
-- expect:
-- len | up    | sub
-- 5   | HÉLLO | él
SELECT COALESCE(NULL, NULL, 'third') AS c, NULLIF('a', 'b') AS n, CONCAT('a', 1) AS cc FROM app.f WHERE id = 1;
-- expect:
-- c     | n | cc
-- third | a | a1

-- SELECT without FROM evaluates once.
SELECT 1 + 2 AS three, UPPER('x') AS u, 'it''s' AS q;
-- expect:
-- three | u | q
-- 3     | X | it's

SELECT NOSUCHFUNC(s) AS z FROM app.f;
-- error: INVALID_SQL
SELECT LENGTH(s, s) AS z FROM app.f;
-- error: INVALID_SQL
