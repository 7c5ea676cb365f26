-- blocklab: set background_writer=off
-- Two sessions and one row: a lock wait, then a deadlock.
CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER);
INSERT INTO acct VALUES (1, 100), (2, 100);
COMMIT;

-- main locks row 1; b's update of row 1 waits (it is pending) until main
-- commits; b then updates the committed row: 90 + 10, not 100 + 10. It
-- does not restart, because the column its WHERE clause reads (id) did not
-- change; READ COMMITTED restarts only when one of those did.
UPDATE acct SET balance = balance - 10 WHERE id = 1;
\connect b
UPDATE acct SET balance = balance + 10 WHERE id = 1;
\connect main
COMMIT;
\wait b
\connect b
COMMIT;
SELECT * FROM acct ORDER BY id;

-- A deadlock: each session holds one row and asks for the other's. As in
-- Oracle (Database Concepts, "Deadlocks"; ORA-00060), the session that
-- detects it gets ORA-00060: the one that has waited longest (b, waiting
-- for row 1), not main, whose request closes the cycle. Only b's statement
-- is rolled back: b still holds row 2, so main waits on until b ends.
\connect main
UPDATE acct SET balance = 0 WHERE id = 1;
\connect b
UPDATE acct SET balance = 0 WHERE id = 2;
UPDATE acct SET balance = 0 WHERE id = 1;
\connect main
UPDATE acct SET balance = 0 WHERE id = 2;
\connect b
SELECT * FROM acct ORDER BY id;
ROLLBACK;
\wait main
\connect main
COMMIT;
SELECT * FROM acct ORDER BY id;

-- AUTOTRACE: the statement's own counters, exact.
SET AUTOTRACE ON
SELECT balance FROM acct WHERE id = 2;
SET AUTOTRACE TRACEONLY
UPDATE acct SET balance = 100;
SET AUTOTRACE OFF
ROLLBACK;
