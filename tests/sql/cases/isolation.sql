-- Per-user partitions, shared tables seen by everyone allowed to read them, EXECUTE AS USER.
-- (Who may do what is in permissions.sql.)

-- setup
CREATE NAMESPACE app;
CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
CREATE USER bob WITH PASSWORD 'bob-pw' ROLE user;
CREATE USER svc WITH PASSWORD 'svc-pw' ROLE service;
CREATE USER TABLE app.notes (id INT PRIMARY KEY, body TEXT NOT NULL);
CREATE SHARED TABLE app.pub (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');
CREATE SHARED TABLE app.prot (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PROTECTED');
CREATE SHARED TABLE app.priv (id INT PRIMARY KEY, v TEXT);
INSERT INTO app.pub (id, v) VALUES (1, 'public');
INSERT INTO app.prot (id, v) VALUES (1, 'protected');
INSERT INTO app.priv (id, v) VALUES (1, 'private');
-- end setup

-- Same SQL, disjoint rows.
-- as: alice
INSERT INTO app.notes (id, body) VALUES (1, 'alice one'), (2, 'alice two');
-- as: bob
INSERT INTO app.notes (id, body) VALUES (1, 'bob one');
-- as: alice
SELECT id, body FROM app.notes;
-- expect:
-- id | body
-- 1  | alice one
-- 2  | alice two
SELECT COUNT(*) AS n FROM app.notes;
-- expect:
-- n
-- 2
-- as: bob
SELECT id, body FROM app.notes;
-- expect:
-- id | body
-- 1  | bob one

-- Even root sees only its own (empty) partition.
-- as: root
SELECT id, body FROM app.notes;
-- expect:
-- id | body

-- Updates and deletes touch only the caller's rows.
-- as: alice
UPDATE app.notes SET body = 'changed' WHERE id = 1;
-- rowcount: 1
-- as: bob
SELECT body FROM app.notes WHERE id = 1;
-- expect:
-- body
-- bob one
DELETE FROM app.notes;
-- rowcount: 1
-- as: alice
SELECT id, body FROM app.notes;
-- expect:
-- id | body
-- 1  | changed
-- 2  | alice two

-- EXECUTE AS USER writes into (and reads from) the named user's partition.
-- as: root
EXECUTE AS USER 'alice' (INSERT INTO app.notes (id, body) VALUES (3, 'via root'));
EXECUTE AS USER 'alice' (SELECT id, body FROM app.notes WHERE id = 3);
-- expect:
-- id | body
-- 3  | via root
SELECT id FROM app.notes;
-- expect:
-- id
-- as: svc
EXECUTE AS USER 'bob' (INSERT INTO app.notes (id, body) VALUES (5, 'via service'));
-- as: alice
SELECT id, body FROM app.notes;
-- expect:
-- id | body
-- 1  | changed
-- 2  | alice two
-- 3  | via root
-- as: bob
SELECT id, body FROM app.notes;
-- expect:
-- id | body
-- 5  | via service


-- Shared tables: one row set for everyone who may read it.
-- as: alice
SELECT id, v FROM app.pub;
-- expect:
-- id | v
-- 1  | public
SELECT id, v FROM app.prot;
-- expect:
-- id | v
-- 1  | protected
-- as: bob
SELECT id, v FROM app.pub;
-- expect:
-- id | v
-- 1  | public
-- as: svc
SELECT id, v FROM app.priv;
-- expect:
-- id | v
-- 1  | private
INSERT INTO app.pub (id, v) VALUES (2, 'by service');
-- as: alice
SELECT id, v FROM app.pub;
-- expect:
-- id | v
-- 1  | public
-- 2  | by service

