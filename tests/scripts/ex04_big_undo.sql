-- blocklab: set undo_segments=1 undo_blocks=1024 undo_autoextend=off undo_retention=0
-- Exercise (book chapter 4): snapshot_too_old.sql with an undo sixteen
-- times larger (1,024 blocks). Predict whether the reporter's second read
-- succeeds, and how many undo records it applies.
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
\connect reporter
SET AUTOTRACE ON
SELECT COUNT(*), SUM(balance) FROM acct;
SET AUTOTRACE OFF
