-- Roles (SPEC §5): what user, service and dba may do, and permission before existence.

-- setup
CREATE NAMESPACE app;
CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
CREATE USER bob WITH PASSWORD 'bob-pw' ROLE user;
CREATE USER svc WITH PASSWORD 'svc-pw' ROLE service;
CREATE USER boss WITH PASSWORD 'boss-pw' ROLE dba;
CREATE USER TABLE app.notes (id INT PRIMARY KEY, body TEXT NOT NULL);
CREATE SHARED TABLE app.pub (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');
CREATE SHARED TABLE app.prot (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PROTECTED');
CREATE SHARED TABLE app.priv (id INT PRIMARY KEY, v TEXT);
INSERT INTO app.pub (id, v) VALUES (1, 'public');
INSERT INTO app.prot (id, v) VALUES (1, 'protected');
INSERT INTO app.priv (id, v) VALUES (1, 'private');
-- end setup

-- role user: own rows, reads PUBLIC and PROTECTED shared tables, never writes shared tables.
-- as: alice
SELECT v FROM app.pub;
-- expect:
-- v
-- public
SELECT v FROM app.prot;
-- expect:
-- v
-- protected
SELECT v FROM app.priv;
-- error: PERMISSION_DENIED
INSERT INTO app.pub (id, v) VALUES (2, 'by alice');
-- error: PERMISSION_DENIED
UPDATE app.pub SET v = 'defaced' WHERE id = 1;
-- error: PERMISSION_DENIED
DELETE FROM app.pub;
-- error: PERMISSION_DENIED
EXECUTE AS USER 'bob' (SELECT id FROM app.notes);
-- error: PERMISSION_DENIED
CREATE NAMESPACE alice_ns;
-- error: PERMISSION_DENIED
CREATE SHARED TABLE app.alice_shared (id INT PRIMARY KEY);
-- error: PERMISSION_DENIED
CREATE USER eve WITH PASSWORD 'eve-pw' ROLE user;
-- error: PERMISSION_DENIED
SELECT * FROM system.tables;
-- error: PERMISSION_DENIED
SELECT * FROM system.users;
-- error: PERMISSION_DENIED
-- Permission before existence: the answer does not reveal whether the name exists.
DROP NAMESPACE no_such_namespace;
-- error: PERMISSION_DENIED
SELECT * FROM system.no_such_table;
-- error: PERMISSION_DENIED
-- A user may create USER and STREAM tables in an existing namespace.
CREATE USER TABLE app.alice_own (id INT PRIMARY KEY, v TEXT);
CREATE STREAM TABLE app.alice_stream (id INT PRIMARY KEY) WITH (TTL_SECONDS = 60);
INSERT INTO app.alice_own (id, v) VALUES (1, 'mine');
SELECT v FROM app.alice_own;
-- expect:
-- v
-- mine
SELECT v FROM app.pub;
-- expect:
-- v
-- public

-- role service: shared tables, EXECUTE AS USER for users; not the system tables.
-- as: svc
SELECT v FROM app.priv;
-- expect:
-- v
-- private
INSERT INTO app.pub (id, v) VALUES (2, 'by service');
EXECUTE AS USER 'alice' (INSERT INTO app.notes (id, body) VALUES (1, 'from service'));
SELECT * FROM system.users;
-- error: PERMISSION_DENIED
CREATE NAMESPACE svc_ns;
-- error: PERMISSION_DENIED
-- as: alice
SELECT id, body FROM app.notes;
-- expect:
-- id | body
-- 1  | from service

-- role dba: namespaces, users, system tables; cannot grant `system`.
-- as: boss
CREATE NAMESPACE boss_ns;
SELECT * FROM system.users;
-- includes: alice
CREATE USER carol WITH PASSWORD 'carol-pw' ROLE user;
CREATE USER mallory WITH PASSWORD 'm-pw' ROLE system;
-- error: PERMISSION_DENIED
EXECUTE AS USER 'svc' (SELECT v FROM app.priv);
-- expect:
-- v
-- private
ALTER USER carol SET ROLE system;
-- error: PERMISSION_DENIED
ALTER USER boss SET ROLE system;
-- error: PERMISSION_DENIED
DROP USER root;
-- error: PERMISSION_DENIED
ALTER USER carol SET ROLE service;
EXECUTE AS USER 'carol' (SELECT v FROM app.priv);
-- expect:
-- v
-- private
EXECUTE AS USER 'boss' (SELECT 1 AS one);
-- error: PERMISSION_DENIED
EXECUTE AS USER 'nobody' (SELECT 1 AS one);
-- error: NOT_FOUND
DROP USER carol;

-- Nobody changes their own role; everybody may change their own password.
-- as: alice
ALTER USER alice SET ROLE dba;
-- error: PERMISSION_DENIED
ALTER USER bob SET PASSWORD 'stolen';
-- error: PERMISSION_DENIED
ALTER USER alice SET PASSWORD 'alice-pw-2';
-- as: root
ALTER USER root SET ROLE dba;
-- error: PERMISSION_DENIED

-- SHOW TABLES lists only what the caller may read; DESCRIBE follows SELECT's rule.
-- as: alice
SHOW TABLES IN app;
-- includes: notes
-- includes: prot
-- excludes: priv
DESCRIBE TABLE app.notes;
-- includes: body
DESCRIBE TABLE app.priv;
-- error: PERMISSION_DENIED
SHOW STORAGES;
-- error: PERMISSION_DENIED
SHOW JOBS;
-- error: PERMISSION_DENIED

-- anonymous (no credentials): reads PUBLIC shared tables, nothing else.
-- as: anonymous
SELECT v FROM app.pub WHERE id = 1;
-- expect:
-- v
-- public
SELECT v FROM app.prot;
-- error: PERMISSION_DENIED
SELECT id FROM app.notes;
-- error: PERMISSION_DENIED
SELECT id FROM app.no_such_table;
-- error: PERMISSION_DENIED
SELECT p.v FROM app.pub p JOIN app.priv q ON p.id = q.id;
-- error: PERMISSION_DENIED
SELECT v FROM app.pub WHERE id IN (SELECT id FROM app.priv);
-- error: PERMISSION_DENIED
INSERT INTO app.pub (id, v) VALUES (9, 'anon');
-- error: PERMISSION_DENIED
SHOW TABLES;
-- error: PERMISSION_DENIED
CREATE USER anonymous WITH PASSWORD 'x' ROLE user;
-- error: PERMISSION_DENIED
-- as: root
CREATE USER anonymous WITH PASSWORD 'x' ROLE user;
-- error: INVALID_PARAMETER
