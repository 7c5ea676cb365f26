-- blocklab: set background_writer=off
-- Exercise (book chapter 8): one UPDATE of an unindexed column and one of
-- an indexed column, 100 rows each. Predict the index keys deleted and
-- inserted, and which UPDATE writes more redo.
CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER);
INSERT INTO t SELECT value, value, value FROM generate_series(1, 100);
CREATE INDEX t_a ON t (a);
COMMIT;
SET AUTOTRACE TRACEONLY
UPDATE t SET b = b + 1;
COMMIT;
UPDATE t SET a = a + 1000;
COMMIT;
SET AUTOTRACE OFF
