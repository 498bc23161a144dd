-- WHERE operators, boolean logic with NULLs, arithmetic, aliases.

-- setup
CREATE NAMESPACE app;
CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT, qty INT, price DOUBLE, tag TEXT);
INSERT INTO app.items (id, name, qty, price, tag) VALUES
  (1, 'Apple', 5, 1.5, 'fruit'),
  (2, 'banana', 0, 0.25, 'fruit'),
  (3, 'Carrot', 12, 0.5, NULL),
  (4, 'apricot', 7, 3.0, 'fruit'),
  (5, 'Bread', NULL, 2.25, 'bakery');
-- end setup

SELECT id FROM app.items WHERE qty = 5;
-- expect:
-- id
-- 1
SELECT id FROM app.items WHERE qty <> 5;
-- expect:
-- id
-- 2
-- 3
-- 4
SELECT id FROM app.items WHERE qty != 5;
-- expect:
-- id
-- 2
-- 3
-- 4
SELECT id FROM app.items WHERE qty < 5;
-- expect:
-- id
-- 2
SELECT id FROM app.items WHERE qty <= 5;
-- expect:
-- id
-- 1
-- 2
SELECT id FROM app.items WHERE qty > 5;
-- expect:
-- id
-- 3
-- 4
SELECT id FROM app.items WHERE qty >= 7;
-- expect:
-- id
-- 3
-- 4
SELECT id FROM app.items WHERE qty > -1 AND price >= 0.5;
-- expect:
-- id
-- 1
-- 3
-- 4
SELECT id FROM app.items WHERE qty > 0 AND tag = 'fruit';
-- expect:
-- id
-- 1
-- 4
SELECT id FROM app.items WHERE qty = 0 OR tag = 'bakery';
-- expect:
-- id
-- 2
-- 5

-- NOT of NULL is NULL: the row with a NULL tag is in neither result.
SELECT id FROM app.items WHERE NOT (tag = 'fruit');
-- expect:
-- id
-- 5
SELECT id FROM app.items WHERE NOT tag = 'bakery';
-- expect:
-- id
-- 1
-- 2
-- 4

-- AND binds tighter than OR.
SELECT id FROM app.items WHERE qty > 6 OR qty = 0 AND tag = 'none';
-- expect:
-- id
-- 3
-- 4
SELECT id FROM app.items WHERE (qty > 6 OR qty = 0) AND tag = 'fruit';
-- expect:
-- id
-- 2
-- 4
SELECT id FROM app.items WHERE name = 'Apple' AND (qty > 10 OR price < 2);
-- expect:
-- id
-- 1

SELECT id FROM app.items WHERE id IN (1, 3, 9);
-- expect:
-- id
-- 1
-- 3
SELECT id FROM app.items WHERE id NOT IN (1, 3);
-- expect:
-- id
-- 2
-- 4
-- 5
SELECT id FROM app.items WHERE tag IN ('bakery', 'none');
-- expect:
-- id
-- 5
SELECT id FROM app.items WHERE qty BETWEEN 5 AND 7;
-- expect:
-- id
-- 1
-- 4
SELECT id FROM app.items WHERE qty NOT BETWEEN 5 AND 7;
-- expect:
-- id
-- 2
-- 3

-- LIKE is case-sensitive, ILIKE is not; % and _ wildcards.
SELECT id FROM app.items WHERE name LIKE 'a%';
-- expect:
-- id
-- 4
SELECT id FROM app.items WHERE name ILIKE 'a%';
-- expect:
-- id
-- 1
-- 4
SELECT id FROM app.items WHERE name LIKE '_read';
-- expect:
-- id
-- 5
SELECT id FROM app.items WHERE name LIKE '%an%';
-- expect:
-- id
-- 2
SELECT id FROM app.items WHERE name ILIKE '%A%' AND name NOT LIKE '%a%';
-- expect:
-- id
-- 1
SELECT id FROM app.items WHERE name NOT ILIKE '%R%';
-- expect:
-- id
-- 1
-- 2

SELECT id FROM app.items WHERE tag IS NULL;
-- expect:
-- id
-- 3
SELECT id FROM app.items WHERE tag IS NOT NULL;
-- expect:
-- id
-- 1
-- 2
-- 4
-- 5
SELECT id FROM app.items WHERE qty IS NULL OR tag IS NULL;
-- expect:
-- id
-- 3
-- 5

-- Arithmetic in WHERE and in the select list; NULL propagates.
SELECT id FROM app.items WHERE qty * price > 7;
-- expect:
-- id
-- 1
-- 4
SELECT id FROM app.items WHERE qty + 1 = 6 OR qty - 2 = 10;
-- expect:
-- id
-- 1
-- 3
SELECT id FROM app.items WHERE price / 2 = 0.25;
-- expect:
-- id
-- 3
SELECT id, qty * 2 AS dbl, qty + 1 AS inc, price * 2 AS p2, -qty AS neg FROM app.items;
-- expect:
-- id | dbl  | inc  | p2  | neg
-- 1  | 10   | 6    | 3   | -5
-- 2  | 0    | 1    | 0.5 | 0
-- 3  | 24   | 13   | 1   | -12
-- 4  | 14   | 8    | 6   | -7
-- 5  | NULL | NULL | 4.5 | NULL
SELECT id, (qty + 3) * 2 AS grouped, qty + 3 * 2 AS precedence, qty % 5 AS modulo FROM app.items WHERE id = 3;
-- expect:
-- id | grouped | precedence | modulo
-- 3  | 30      | 18         | 2

-- Integer division truncates, as in PostgreSQL.
SELECT qty / 5 AS q FROM app.items WHERE id = 3;
-- expect:
-- q
-- 2

-- Comparisons in the select list.
SELECT id, qty > 5 AS big, tag = 'fruit' AS fruit FROM app.items WHERE id IN (1, 3, 4);
-- expect:
-- id | big   | fruit
-- 1  | false | true
-- 3  | true  | NULL
-- 4  | true  | true

-- Quoted identifiers and case-insensitive keywords.
select "id", "name" from app.items where "qty" = 12;
-- expect:
-- id | name
-- 3  | Carrot

-- Parameters cannot be used without values.
SELECT id FROM app.items WHERE id = $1;
-- error: INVALID_PARAMETER
