-- Exercise (book chapter 9): read a table in the transaction that just
-- loaded it by direct path, then after the commit. Predict each result.
CREATE TABLE t (id INTEGER, pad TEXT);
COMMIT;
INSERT /*+ APPEND */ INTO t SELECT value, 'row ' || value FROM generate_series(1, 100);
SELECT COUNT(*) FROM t;
COMMIT;
SELECT COUNT(*) FROM t;
