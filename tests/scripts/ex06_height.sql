-- blocklab: set block_size=2048 background_writer=off
-- Exercise (book chapter 6): the same unique lookup on 1,000 and on
-- 100,000 rows, in 2 KiB blocks. Predict the index gets of each.
CREATE TABLE small (id INTEGER PRIMARY KEY, v INTEGER);
INSERT INTO small SELECT value, value FROM generate_series(1, 1000);
CREATE TABLE big (id INTEGER PRIMARY KEY, v INTEGER);
INSERT INTO big SELECT value, value FROM generate_series(1, 100000);
COMMIT;
SET AUTOTRACE TRACEONLY
SELECT v FROM small WHERE id = 500;
SELECT v FROM big WHERE id = 50000;
SET AUTOTRACE OFF
