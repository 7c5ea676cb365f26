-- Exercise (book chapter 8): three rows in three INSERT statements, then
-- three rows in one. Predict the user calls and the redo entries.
CREATE TABLE t (id INTEGER, v INTEGER);
INSERT INTO t VALUES (0, 0);
SET AUTOTRACE TRACEONLY
INSERT INTO t VALUES (1, 1);
INSERT INTO t VALUES (2, 2);
INSERT INTO t VALUES (3, 3);
INSERT INTO t VALUES (4, 4), (5, 5), (6, 6);
SET AUTOTRACE OFF
COMMIT;
