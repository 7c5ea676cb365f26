-- blocklab: set undo_segments=1 undo_blocks=64 undo_autoextend=off undo_retention=0
-- Snapshot too old (ORA-01555) with two sessions, claims C06/C07.
--
-- The undo is small (64 blocks, one segment), fixed in size, and keeps no
-- committed undo on purpose (undo_retention=0). A reporting session fixes
-- its snapshot; another session then updates every row ten times,
-- committing each time, so the undo ring wraps. The reporter's next read
-- must roll blocks back past undo that has been overwritten.
CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER);
INSERT INTO acct SELECT value, 100 FROM generate_series(1, 1000);
COMMIT;

\connect reporter
SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;
SELECT COUNT(*), SUM(balance) FROM acct;

\connect main
UPDATE acct SET balance = balance + 1;
COMMIT;
UPDATE acct SET balance = balance + 1;
COMMIT;
UPDATE acct SET balance = balance + 1;
COMMIT;
UPDATE acct SET balance = balance + 1;
COMMIT;
UPDATE acct SET balance = balance + 1;
COMMIT;
UPDATE acct SET balance = balance + 1;
COMMIT;
UPDATE acct SET balance = balance + 1;
COMMIT;
UPDATE acct SET balance = balance + 1;
COMMIT;
UPDATE acct SET balance = balance + 1;
COMMIT;
UPDATE acct SET balance = balance + 1;
COMMIT;
SELECT COUNT(*), SUM(balance) FROM acct;

-- The reporter still reads as of its snapshot: the undo it needs is gone.
\connect reporter
SELECT COUNT(*), SUM(balance) FROM acct;
-- A new transaction takes a new snapshot and reads fine.
ROLLBACK;
SELECT COUNT(*), SUM(balance) FROM acct;
