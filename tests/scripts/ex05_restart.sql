-- blocklab: set background_writer=off
-- Exercise (book chapter 5): b's UPDATE selects rows by balance, and main
-- changes row 1's balance from 100 to 90, which still matches. Predict the
-- write consistency restarts of b's UPDATE and the final balances.
CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER);
INSERT INTO acct VALUES (1, 100), (2, 100);
COMMIT;
UPDATE acct SET balance = balance - 10 WHERE id = 1;
\connect b
SET AUTOTRACE ON
UPDATE acct SET balance = balance + 1 WHERE balance >= 50;
\connect main
COMMIT;
\wait b
\connect b
SET AUTOTRACE OFF
COMMIT;
SELECT * FROM acct ORDER BY id;
