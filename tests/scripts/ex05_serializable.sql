-- Exercise (book chapter 5): locks.sql's first exchange with b in a
-- SERIALIZABLE transaction that read the balance before main's change.
-- Predict what b's UPDATE does once main commits.
CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER);
INSERT INTO acct VALUES (1, 100), (2, 100);
COMMIT;
\connect b
SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;
SELECT balance FROM acct WHERE id = 1;
\connect main
UPDATE acct SET balance = balance - 10 WHERE id = 1;
\connect b
UPDATE acct SET balance = balance + 10 WHERE id = 1;
\connect main
COMMIT;
\wait b
\connect b
ROLLBACK;
SELECT * FROM acct ORDER BY id;
