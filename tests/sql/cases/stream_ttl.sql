-- STREAM tables: per-user, and rows older than TTL_SECONDS are invisible at once.
-- skip modes: flushed mixed
-- (stream tables are never flushed to Parquet, so the other modes have nothing to add)

-- setup
CREATE NAMESPACE app;
CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
CREATE USER bob WITH PASSWORD 'bob-pw' ROLE user;
CREATE STREAM TABLE app.typing (id INT PRIMARY KEY, state TEXT) WITH (TTL_SECONDS = 1);
CREATE STREAM TABLE app.events (id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), kind TEXT) WITH (TTL_SECONDS = 3600);
-- end setup

-- as: alice
INSERT INTO app.events (kind) VALUES ('login'), ('click');
SELECT kind FROM app.events;
-- expect:
-- kind
-- login
-- click
-- as: bob
SELECT kind FROM app.events;
-- expect:
-- kind

-- as: alice
INSERT INTO app.typing (id, state) VALUES (1, 'typing') RETURNING id, state;
-- expect:
-- id | state
-- 1  | typing

-- Once older than the TTL the row is invisible (polled: no event marks expiry). Whether it is
-- still visible right after the write is not asserted: with a 1 s TTL that depends on timing.
-- The poll's deadline is generous (a loaded machine); it ends as soon as the row is gone.
SELECT id, state FROM app.typing;
-- expect within 30s:
-- id | state
SELECT COUNT(*) AS n FROM app.typing;
-- expect:
-- n
-- 0

-- The other stream table keeps its rows.
SELECT COUNT(*) AS n FROM app.events;
-- expect:
-- n
-- 2
