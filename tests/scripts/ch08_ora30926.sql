-- Book chapter 8, One SQL: a MERGE that matches one target row with two
-- source rows cannot say which row's values win (ORA-30926); the statement
-- changes nothing. A MERGE may not set a column its ON clause reads
-- (ORA-38104).
CREATE TABLE orders (id INTEGER PRIMARY KEY, ref_id INTEGER, status TEXT);
CREATE TABLE changes (order_id INTEGER, status TEXT);
INSERT INTO orders VALUES (1, 1, 'new'), (2, 2, 'new');
INSERT INTO changes VALUES (1, 'paid'), (1, 'cancelled'), (2, 'sent');
COMMIT;
MERGE INTO orders o USING changes c ON (o.id = c.order_id) WHEN MATCHED THEN UPDATE SET o.status = c.status;
MERGE INTO orders o USING changes c ON (o.id = c.order_id) WHEN MATCHED THEN UPDATE SET o.id = c.order_id + 10;
SELECT id, status FROM orders ORDER BY id;
