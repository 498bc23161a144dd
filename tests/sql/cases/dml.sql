-- INSERT / UPDATE / DELETE with WHERE and RETURNING, _seq ordering, soft deletes.

-- setup
CREATE NAMESPACE app;
CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
CREATE USER TABLE app.todos (
  id INT PRIMARY KEY,
  title TEXT NOT NULL,
  done BOOLEAN NOT NULL DEFAULT FALSE,
  prio INT
);
-- end setup

-- as: alice
INSERT INTO app.todos (id, title, prio) VALUES (3, 'c', 1), (1, 'a', NULL), (2, 'b', 5)
  RETURNING id, title, done;
-- expect:
-- id | title | done
-- 3  | c     | false
-- 1  | a     | false
-- 2  | b     | false
INSERT INTO app.todos (id, title) VALUES (4, 'd'), (5, 'e');
-- rowcount: 2
INSERT INTO app.todos (id, title) VALUES (6, 'f') RETURNING _seq;
-- expect:
-- _seq
-- <re:[1-9][0-9]{9,18}>

-- Without ORDER BY rows come in primary-key order.
SELECT id, title FROM app.todos;
-- expect:
-- id | title
-- 1  | a
-- 2  | b
-- 3  | c
-- 4  | d
-- 5  | e
-- 6  | f

-- _seq follows write order, and every update takes a new, larger one.
SELECT id FROM app.todos ORDER BY _seq;
-- expect:
-- id
-- 3
-- 1
-- 2
-- 4
-- 5
-- 6
UPDATE app.todos SET prio = 9 WHERE id = 3;
SELECT id FROM app.todos ORDER BY _seq DESC LIMIT 1;
-- expect:
-- id
-- 3

UPDATE app.todos SET done = TRUE WHERE id IN (1, 2) RETURNING id, done;
-- expect unordered:
-- id | done
-- 1  | true
-- 2  | true
UPDATE app.todos SET prio = prio + 1, title = UPPER(title) WHERE prio IS NOT NULL;
-- rowcount: 2
SELECT id, title, prio FROM app.todos WHERE prio IS NOT NULL;
-- expect:
-- id | title | prio
-- 2  | B     | 6
-- 3  | C     | 10
UPDATE app.todos SET title = 'nothing' WHERE id = 99;
-- rowcount: 0
UPDATE app.todos SET title = title || '!' WHERE done = FALSE AND id > 4 RETURNING id, title;
-- expect unordered:
-- id | title
-- 5  | e!
-- 6  | f!

DELETE FROM app.todos WHERE id = 3 RETURNING id, title;
-- expect:
-- id | title
-- 3  | C
DELETE FROM app.todos WHERE id BETWEEN 4 AND 5;
-- rowcount: 2
DELETE FROM app.todos WHERE id = 3;
-- rowcount: 0
SELECT id FROM app.todos;
-- expect:
-- id
-- 1
-- 2
-- 6
SELECT COUNT(*) AS n FROM app.todos;
-- expect:
-- n
-- 3

-- Soft-deleted rows are hidden unless the query filters on _deleted.
SELECT id, _deleted FROM app.todos WHERE _deleted = TRUE ORDER BY id;
-- expect:
-- id | _deleted
-- 3  | true
-- 4  | true
-- 5  | true
SELECT id FROM app.todos WHERE _deleted = FALSE;
-- expect:
-- id
-- 1
-- 2
-- 6
SELECT COUNT(*) AS n FROM app.todos WHERE _deleted = TRUE OR _deleted = FALSE;
-- expect:
-- n
-- 6

-- Updating a deleted row does nothing.
UPDATE app.todos SET title = 'zombie' WHERE id = 3;
-- rowcount: 0

-- Deleting everything.
DELETE FROM app.todos;
-- rowcount: 3
SELECT id FROM app.todos;
-- expect:
-- id
