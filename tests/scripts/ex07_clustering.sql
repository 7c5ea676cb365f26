-- Exercise (book chapter 7): the same 5,000 rows loaded in key order and
-- in a scattered order; the same 100-row range through an index on k.
-- Predict the table blocks each range scan visits.
CREATE TABLE ordered (k INTEGER, pad TEXT);
INSERT INTO ordered SELECT value, 'row ' || value FROM generate_series(1, 5000);
CREATE INDEX ordered_k ON ordered (k);
CREATE TABLE scattered (k INTEGER, pad TEXT);
INSERT INTO scattered SELECT (value * 37) % 5000, 'row ' || value FROM generate_series(1, 5000);
CREATE INDEX scattered_k ON scattered (k);
COMMIT;
SET AUTOTRACE TRACEONLY
SELECT /*+ INDEX(ordered ordered_k) */ pad FROM ordered WHERE k BETWEEN 2000 AND 2099;
SELECT /*+ INDEX(scattered scattered_k) */ pad FROM scattered WHERE k BETWEEN 2000 AND 2099;
SET AUTOTRACE OFF
