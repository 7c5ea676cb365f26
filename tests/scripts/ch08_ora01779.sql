-- Book chapter 8, One SQL: an UPDATE through a join view may change only a
-- key-preserved table. With ref.id a PRIMARY KEY each order pairs with at
-- most one ref row, so orders is key-preserved; ref_nokey has no key, so
-- the same view over it is refused (ORA-01779), and so is setting a ref
-- column (orders is not joined through a key of its own).
CREATE TABLE orders (id INTEGER PRIMARY KEY, ref_id INTEGER, status TEXT);
CREATE TABLE ref (id INTEGER PRIMARY KEY, new_status TEXT);
CREATE TABLE ref_nokey (id INTEGER, new_status TEXT);
INSERT INTO orders VALUES (1, 1, 'new'), (2, 2, 'new'), (3, 9, 'new');
INSERT INTO ref VALUES (1, 'paid'), (2, 'sent');
INSERT INTO ref_nokey SELECT * FROM ref;
COMMIT;
UPDATE (SELECT o.status, r.new_status FROM orders o JOIN ref_nokey r ON r.id = o.ref_id) SET status = new_status;
UPDATE (SELECT o.status, r.new_status FROM orders o JOIN ref r ON r.id = o.ref_id) SET new_status = status;
SET AUTOTRACE ON STATISTICS
UPDATE (SELECT o.status, r.new_status FROM orders o JOIN ref r ON r.id = o.ref_id) SET status = new_status;
SET AUTOTRACE OFF
SELECT id, status FROM orders ORDER BY id;
COMMIT;
