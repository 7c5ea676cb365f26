-- blocklab: set background_writer=off
-- Exercise (book chapter 9): the same 2,000 rows loaded by direct path into
-- a LOGGING and into a NOLOGGING table. Predict the redo size of each load.
CREATE TABLE logged (id INTEGER, pad TEXT);
CREATE TABLE unlogged (id INTEGER, pad TEXT) NOLOGGING;
COMMIT;
SET AUTOTRACE TRACEONLY
INSERT /*+ APPEND */ INTO logged SELECT value, 'row ' || value FROM generate_series(1, 2000);
COMMIT;
INSERT /*+ APPEND */ INTO unlogged SELECT value, 'row ' || value FROM generate_series(1, 2000);
COMMIT;
SET AUTOTRACE OFF
