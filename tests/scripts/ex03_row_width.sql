-- Exercise (book chapter 3): the redo of a one-character value and of a
-- value 484 characters longer. Predict the difference in redo size.
CREATE TABLE t (id INTEGER, v TEXT);
INSERT INTO t VALUES (0, 'warm-up: the table block is formatted here');
SET AUTOTRACE TRACEONLY
INSERT INTO t VALUES (1, 'x');
INSERT INTO t VALUES (2, 'x....................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................');
SET AUTOTRACE OFF
COMMIT;
