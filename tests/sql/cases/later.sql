-- Statements that later issues implement: each answers UNSUPPORTED today or a real result;
-- either way the data stays intact.

-- setup
CREATE NAMESPACE app;
CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
CREATE USER TABLE app.t (id INT PRIMARY KEY, v TEXT);
-- as: alice
INSERT INTO app.t (id, v) VALUES (1, 'one'), (2, 'two');
-- as: root
-- end setup

FLUSH TABLE app.t;
-- error or ok: UNSUPPORTED
STORAGE FLUSH TABLE app.t;
-- error or ok: UNSUPPORTED
FLUSH ALL TABLES IN app;
-- error or ok: UNSUPPORTED
STORAGE FLUSH ALL IN app;
-- error or ok: UNSUPPORTED
COMPACT TABLE app.t;
-- error or ok: UNSUPPORTED
SHOW STATS FOR TABLE app.t;
-- error or ok: UNSUPPORTED
SHOW JOBS;
-- error or ok: UNSUPPORTED
SHOW LIVE QUERIES;
-- error or ok: UNSUPPORTED
KILL JOB 'no-such-job';
-- error or ok: UNSUPPORTED | NOT_FOUND
KILL LIVE QUERY 'no-such-live-query';
-- error or ok: UNSUPPORTED | NOT_FOUND
SHOW STORAGES;
-- error or ok: UNSUPPORTED
ALTER TABLE app.t SET FLUSH_POLICY 'rows:10';
-- error or ok: UNSUPPORTED
ALTER TABLE app.t SET STORAGE local;
-- error or ok: UNSUPPORTED
-- as: alice
SUBSCRIBE TO app.t WHERE id > 0 OPTIONS (last_rows = 5);
-- error or ok: UNSUPPORTED
EXPORT USER DATA;
-- error or ok: UNSUPPORTED
SHOW EXPORTS;
-- error or ok: UNSUPPORTED
SELECT id, v FROM app.t;
-- expect:
-- id | v
-- 1  | one
-- 2  | two
