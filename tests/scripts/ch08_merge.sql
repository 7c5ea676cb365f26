-- Book chapter 8, One SQL: MERGE updates the matched rows and inserts the
-- others in one statement: one execute call, one undo and redo stream,
-- rows processed = rows merged. Order 3 is updated, then deleted by the
-- DELETE WHERE (its new status is 'cancelled'); change 4 has no order and
-- is inserted; change 5 is left out by the INSERT's WHERE.
CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT);
CREATE TABLE changes (order_id INTEGER PRIMARY KEY, status TEXT);
INSERT INTO orders VALUES (1, 'new'), (2, 'new'), (3, 'new');
INSERT INTO changes VALUES (1, 'paid'), (3, 'cancelled'), (4, 'new'), (5, 'draft');
COMMIT;
SET AUTOTRACE ON STATISTICS
MERGE INTO orders o USING changes c ON (o.id = c.order_id) WHEN MATCHED THEN UPDATE SET o.status = c.status DELETE WHERE o.status = 'cancelled' WHEN NOT MATCHED THEN INSERT (id, status) VALUES (c.order_id, c.status) WHERE c.status <> 'draft';
SET AUTOTRACE OFF
SELECT id, status FROM orders ORDER BY id;
ROLLBACK;
SELECT id, status FROM orders ORDER BY id;
