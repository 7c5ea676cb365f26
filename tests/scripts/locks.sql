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

-- A deadlock: each session holds one row and asks for the other's. The
-- session that closes the cycle gets ORA-00060; only its statement is
-- rolled back, so it still holds row 1 until it rolls back.
\connect main
UPDATE acct SET balance = 0 WHERE id = 1;
\connect b
UPDATE acct SET balance = 0 WHERE id = 2;
UPDATE acct SET balance = 0 WHERE id = 1;
\connect main
UPDATE acct SET balance = 0 WHERE id = 2;
ROLLBACK;
\connect b
COMMIT;
SELECT * FROM acct ORDER BY id;

-- AUTOTRACE: the statement's own counters, exact.
SET AUTOTRACE ON
SELECT balance FROM acct WHERE id = 2;
SET AUTOTRACE TRACEONLY
UPDATE acct SET balance = 100;
SET AUTOTRACE OFF
ROLLBACK;
