-- DISTINCT, GROUP BY / HAVING, aggregates, ORDER BY with NULLS, LIMIT / OFFSET, default order.

-- setup
CREATE NAMESPACE app;
CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
CREATE SHARED TABLE app.sales (id INT PRIMARY KEY, region TEXT, rep TEXT, amount INT, note TEXT);
INSERT INTO app.sales (id, region, rep, amount, note) VALUES
  (4, 'south', 'cid', 40, NULL),
  (1, 'north', 'ann', 10, 'a'),
  (6, 'north', 'ann', NULL, 'f'),
  (2, 'north', 'bob', 20, NULL),
  (5, 'east', 'ann', 5, 'e'),
  (3, 'south', 'ann', 30, 'c');
CREATE USER TABLE app.words (w TEXT PRIMARY KEY);
-- as: alice
INSERT INTO app.words (w) VALUES ('pear'), ('apple'), ('fig');
-- as: root
-- end setup

-- Default order is primary-key order, whatever the insert order.
SELECT id FROM app.sales;
-- expect:
-- id
-- 1
-- 2
-- 3
-- 4
-- 5
-- 6
-- as: alice
SELECT w FROM app.words;
-- expect:
-- w
-- apple
-- fig
-- pear
-- as: root

SELECT COUNT(*) AS n, COUNT(amount) AS n_amount, COUNT(note) AS n_note, COUNT(DISTINCT rep) AS reps, SUM(amount) AS total, MIN(amount) AS lo, MAX(amount) AS hi FROM app.sales;
-- expect:
-- n | n_amount | n_note | reps | total | lo | hi
-- 6 | 5        | 4      | 3    | 105   | 5  | 40
SELECT AVG(amount) AS avg FROM app.sales WHERE id IN (1, 5);
-- expect:
-- avg
-- 7.5
SELECT MIN(rep) AS first, MAX(region) AS last FROM app.sales;
-- expect:
-- first | last
-- ann   | south
SELECT SUM(amount * 2) AS doubled FROM app.sales WHERE region = 'south';
-- expect:
-- doubled
-- 140

-- Aggregates over no rows: COUNT is 0, the others NULL.
SELECT COUNT(*) AS n, SUM(amount) AS s, MAX(amount) AS m, AVG(amount) AS a FROM app.sales WHERE id > 100;
-- expect:
-- n | s    | m    | a
-- 0 | NULL | NULL | NULL

SELECT region, COUNT(*) AS n, SUM(amount) AS total FROM app.sales GROUP BY region ORDER BY region;
-- expect:
-- region | n | total
-- east   | 1 | 5
-- north  | 3 | 30
-- south  | 2 | 70
SELECT region, SUM(amount) AS total FROM app.sales GROUP BY region HAVING SUM(amount) > 20 ORDER BY region;
-- expect:
-- region | total
-- north  | 30
-- south  | 70
SELECT region FROM app.sales GROUP BY region HAVING COUNT(*) >= 2 ORDER BY region DESC;
-- expect:
-- region
-- south
-- north
SELECT rep, COUNT(DISTINCT region) AS regions, MAX(amount) AS best FROM app.sales GROUP BY rep ORDER BY rep;
-- expect:
-- rep | regions | best
-- ann | 3       | 30
-- bob | 1       | 20
-- cid | 1       | 40
SELECT region, rep, COUNT(*) AS n FROM app.sales GROUP BY region, rep;
-- expect unordered:
-- region | rep | n
-- north  | ann | 2
-- north  | bob | 1
-- south  | ann | 1
-- south  | cid | 1
-- east   | ann | 1

-- A non-aggregated column outside GROUP BY is an error.
SELECT region, rep FROM app.sales GROUP BY region;
-- error: INVALID_SQL

SELECT DISTINCT region FROM app.sales ORDER BY region;
-- expect:
-- region
-- east
-- north
-- south
SELECT DISTINCT region, rep FROM app.sales WHERE region = 'north' ORDER BY rep;
-- expect:
-- region | rep
-- north  | ann
-- north  | bob
SELECT DISTINCT note IS NULL AS missing FROM app.sales ORDER BY missing;
-- expect:
-- missing
-- false
-- true

SELECT id, amount FROM app.sales ORDER BY amount ASC NULLS FIRST;
-- expect:
-- id | amount
-- 6  | NULL
-- 5  | 5
-- 1  | 10
-- 2  | 20
-- 3  | 30
-- 4  | 40
SELECT id FROM app.sales ORDER BY amount DESC NULLS LAST;
-- expect:
-- id
-- 4
-- 3
-- 2
-- 1
-- 5
-- 6
SELECT id FROM app.sales ORDER BY amount DESC NULLS FIRST;
-- expect:
-- id
-- 6
-- 4
-- 3
-- 2
-- 1
-- 5
SELECT id FROM app.sales ORDER BY amount NULLS LAST;
-- expect:
-- id
-- 5
-- 1
-- 2
-- 3
-- 4
-- 6
SELECT id FROM app.sales ORDER BY region ASC, amount DESC NULLS LAST;
-- expect:
-- id
-- 5
-- 2
-- 1
-- 6
-- 4
-- 3
SELECT id, amount * 2 AS dbl FROM app.sales WHERE amount IS NOT NULL ORDER BY dbl DESC LIMIT 2;
-- expect:
-- id | dbl
-- 4  | 80
-- 3  | 60
SELECT id FROM app.sales ORDER BY id LIMIT 2 OFFSET 1;
-- expect:
-- id
-- 2
-- 3
SELECT id FROM app.sales ORDER BY id DESC LIMIT 1;
-- expect:
-- id
-- 6
SELECT id FROM app.sales LIMIT 0;
-- expect:
-- id
SELECT id FROM app.sales ORDER BY id OFFSET 5;
-- expect:
-- id
-- 6
SELECT id FROM app.sales ORDER BY id LIMIT 10 OFFSET 10;
-- expect:
-- id
SELECT region, COUNT(*) AS n FROM app.sales GROUP BY region ORDER BY n DESC, region LIMIT 1;
-- expect:
-- region | n
-- north  | 3
