-- System tables, SHOW and DESCRIBE.

-- setup
CREATE NAMESPACE app;
CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
CREATE USER TABLE app.todos (id INT PRIMARY KEY, title TEXT NOT NULL, done BOOLEAN);
CREATE SHARED TABLE app.cfg (k TEXT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');
CREATE STREAM TABLE app.ev (id INT PRIMARY KEY, kind TEXT) WITH (TTL_SECONDS = 30);
-- end setup

SELECT namespace, table_name, table_type FROM system.tables WHERE namespace = 'app' ORDER BY table_name;
-- expect:
-- namespace | table_name | table_type
-- app       | cfg        | SHARED
-- app       | ev         | STREAM
-- app       | todos      | USER
SELECT namespace, table_name, table_type, storage_id, access_level, flush_policy, ttl_seconds, schema_version, created_at FROM system.tables WHERE namespace = 'app';
-- rowcount: 3
SELECT table_name, ttl_seconds, created_at IS NOT NULL AS has_created FROM system.tables WHERE namespace = 'app' AND table_name = 'ev';
-- expect:
-- table_name | ttl_seconds | has_created
-- ev         | 30          | true
SELECT COUNT(*) AS n FROM system.tables WHERE namespace = 'app' AND table_type = 'USER';
-- expect:
-- n
-- 1

SELECT * FROM system.columns;
-- includes: todos
-- includes: title
-- includes: done
SELECT * FROM system.namespaces;
-- includes: app
SELECT * FROM system.users;
-- includes: alice
-- includes: root
-- columns exclude: pass|hash
SELECT * FROM system.storages;
-- includes: local
-- columns exclude: secret|credential_value
-- Filled by later issues (jobs, live queries): present already, or not yet.
SELECT * FROM system.jobs;
-- error or ok: TABLE_NOT_FOUND | UNSUPPORTED
SELECT * FROM system.live_queries;
-- error or ok: TABLE_NOT_FOUND | UNSUPPORTED
SELECT * FROM system.stats;
-- error or ok: TABLE_NOT_FOUND | UNSUPPORTED

SHOW NAMESPACES;
-- includes: app
SHOW TABLES IN app;
-- includes: todos
-- includes: cfg
-- includes: ev
SHOW TABLES;
-- includes: todos
DESCRIBE TABLE app.todos;
-- includes: id
-- includes: title
-- includes: done
-- includes: TEXT
-- includes: BOOLEAN
DESCRIBE TABLE app.nope;
-- error: TABLE_NOT_FOUND

-- A join between a SHARED table and a SYSTEM table.
SELECT c.k, t.table_type FROM app.cfg c JOIN system.tables t ON t.table_name = 'cfg' AND t.namespace = 'app';
-- expect:
-- k | table_type
INSERT INTO app.cfg (k, v) VALUES ('theme', 'dark');
SELECT c.k, t.table_type FROM app.cfg c JOIN system.tables t ON t.table_name = 'cfg' AND t.namespace = 'app';
-- expect:
-- k     | table_type
-- theme | SHARED
