-- Joins between USER, SHARED and STREAM tables (each side keeps its visibility), LEFT JOIN,
-- subqueries in FROM and IN (SELECT ...).

-- setup
CREATE NAMESPACE app;
CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
CREATE USER bob WITH PASSWORD 'bob-pw' ROLE user;
CREATE SHARED TABLE app.cats (id INT PRIMARY KEY, name TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');
CREATE SHARED TABLE app.colors (cat_id INT PRIMARY KEY, color TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');
CREATE USER TABLE app.todos (id INT PRIMARY KEY, title TEXT, cat_id INT);
CREATE USER TABLE app.tags (todo_id INT PRIMARY KEY, tag TEXT);
CREATE STREAM TABLE app.typing (id INT PRIMARY KEY, todo_id INT, state TEXT) WITH (TTL_SECONDS = 3600);
INSERT INTO app.cats (id, name) VALUES (1, 'home'), (2, 'work'), (3, 'misc');
INSERT INTO app.colors (cat_id, color) VALUES (1, 'red'), (2, 'blue');
-- as: alice
INSERT INTO app.todos (id, title, cat_id) VALUES (1, 'dishes', 1), (2, 'report', 2), (3, 'nap', NULL);
INSERT INTO app.tags (todo_id, tag) VALUES (1, 'chore'), (2, 'job');
INSERT INTO app.typing (id, todo_id, state) VALUES (1, 2, 'typing');
-- as: bob
INSERT INTO app.todos (id, title, cat_id) VALUES (1, 'bob todo', 3);
INSERT INTO app.tags (todo_id, tag) VALUES (1, 'bobtag'), (3, 'orphan');
-- as: root
-- end setup

-- USER ⋈ SHARED
-- as: alice
SELECT t.title, c.name FROM app.todos t JOIN app.cats c ON t.cat_id = c.id ORDER BY t.id;
-- expect:
-- title  | name
-- dishes | home
-- report | work
SELECT t.title, c.name FROM app.todos AS t INNER JOIN app.cats AS c ON c.id = t.cat_id WHERE c.name <> 'home';
-- expect:
-- title  | name
-- report | work
-- as: bob
SELECT t.title, c.name FROM app.todos t JOIN app.cats c ON t.cat_id = c.id;
-- expect:
-- title    | name
-- bob todo | misc

-- LEFT JOIN keeps unmatched rows with NULLs.
-- as: alice
SELECT t.title, c.name FROM app.todos t LEFT JOIN app.cats c ON t.cat_id = c.id ORDER BY t.id;
-- expect:
-- title  | name
-- dishes | home
-- report | work
-- nap    | NULL
SELECT t.title FROM app.todos t LEFT JOIN app.tags g ON g.todo_id = t.id WHERE g.tag IS NULL;
-- expect:
-- title
-- nap

-- USER ⋈ USER: both sides are the caller's partition.
SELECT t.title, g.tag FROM app.todos t JOIN app.tags g ON g.todo_id = t.id ORDER BY t.id;
-- expect:
-- title  | tag
-- dishes | chore
-- report | job
-- as: bob
SELECT t.title, g.tag FROM app.todos t JOIN app.tags g ON g.todo_id = t.id;
-- expect:
-- title    | tag
-- bob todo | bobtag
SELECT g.tag, t.title FROM app.tags g LEFT JOIN app.todos t ON g.todo_id = t.id ORDER BY g.todo_id;
-- expect:
-- tag    | title
-- bobtag | bob todo
-- orphan | NULL

-- USER ⋈ STREAM
-- as: alice
SELECT t.title, s.state FROM app.todos t JOIN app.typing s ON s.todo_id = t.id;
-- expect:
-- title  | state
-- report | typing
-- as: bob
SELECT t.title, s.state FROM app.todos t JOIN app.typing s ON s.todo_id = t.id;
-- expect:
-- title | state

-- SHARED ⋈ SHARED
-- as: root
SELECT c.name, k.color FROM app.cats c JOIN app.colors k ON k.cat_id = c.id ORDER BY c.id;
-- expect:
-- name | color
-- home | red
-- work | blue
SELECT c.name, k.color FROM app.cats c LEFT JOIN app.colors k ON k.cat_id = c.id ORDER BY c.id;
-- expect:
-- name | color
-- home | red
-- work | blue
-- misc | NULL

-- Root joining a USER table sees only its own (empty) partition.
SELECT c.name, t.title FROM app.cats c LEFT JOIN app.todos t ON t.cat_id = c.id ORDER BY c.id;
-- expect:
-- name | title
-- home | NULL
-- work | NULL
-- misc | NULL

-- Three tables.
-- as: alice
SELECT t.title, c.name, k.color FROM app.todos t JOIN app.cats c ON t.cat_id = c.id JOIN app.colors k ON k.cat_id = c.id ORDER BY t.id;
-- expect:
-- title  | name | color
-- dishes | home | red
-- report | work | blue

-- Join with an aggregate.
SELECT c.name, COUNT(t.id) AS n FROM app.cats c LEFT JOIN app.todos t ON t.cat_id = c.id GROUP BY c.name ORDER BY c.name;
-- expect:
-- name | n
-- home | 1
-- misc | 0
-- work | 1

-- An unqualified column present on both sides is ambiguous.
SELECT id FROM app.todos t JOIN app.cats c ON t.cat_id = c.id;
-- error: INVALID_SQL

-- Subqueries in FROM.
SELECT s.title FROM (SELECT title, cat_id FROM app.todos WHERE cat_id IS NOT NULL) AS s ORDER BY s.title;
-- expect:
-- title
-- dishes
-- report
SELECT x.n FROM (SELECT COUNT(*) AS n FROM app.todos) AS x;
-- expect:
-- n
-- 3
SELECT s.title, c.name FROM (SELECT title, cat_id FROM app.todos) s JOIN app.cats c ON c.id = s.cat_id ORDER BY s.title;
-- expect:
-- title  | name
-- dishes | home
-- report | work

-- IN (SELECT ...)
SELECT title FROM app.todos WHERE cat_id IN (SELECT id FROM app.cats WHERE name = 'work');
-- expect:
-- title
-- report
SELECT title FROM app.todos WHERE id NOT IN (SELECT todo_id FROM app.tags);
-- expect:
-- title
-- nap

-- The subquery reads the caller's partition too: bob's tag rows do not count for alice.
SELECT COUNT(*) AS n FROM app.todos WHERE id IN (SELECT todo_id FROM app.tags WHERE tag = 'orphan');
-- expect:
-- n
-- 0
