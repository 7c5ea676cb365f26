-- Exercise (book chapter 5): main holds row 1 locked; b queries it.
-- Predict whether b waits, and what it sees.
CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER);
INSERT INTO acct VALUES (1, 100), (2, 100);
COMMIT;
UPDATE acct SET balance = 0 WHERE id = 1;
\connect b
SELECT * FROM acct ORDER BY id;
\connect main
COMMIT;
\connect b
SELECT * FROM acct ORDER BY id;
