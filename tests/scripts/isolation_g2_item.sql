-- Isolation matrix (Hermitage, github.com/ept/hermitage): G2-item, write
-- skew.
--
-- Anomaly: T1 and T2 both read rows 1 and 2, then each updates a
-- different row based on what it read, and both commit: no serial order
-- of T1 and T2 gives this result (each missed the other's write).
--
-- Oracle 11.2 (Hermitage oracle.md):
--   READ COMMITTED  no Hermitage test (n/a; it is allowed a fortiori).
--   SERIALIZABLE    allowed: both commit; 1 => 11, 2 => 21. Oracle's
--                   SERIALIZABLE is snapshot isolation, which only checks
--                   write-write conflicts.
-- blocklab:
--   SERIALIZABLE    allowed, same as Oracle (also snapshot isolation: the
--                   two transactions write different rows, so there is no
--                   conflict to detect).

create table test (id int not null primary key, value int);
insert into test (id, value) values (1, 10), (2, 20);
commit;

\echo ==== G2-item, SERIALIZABLE (Oracle: allowed) ====
\connect t1
set transaction isolation level serializable;
\connect t2
set transaction isolation level serializable;
\connect t1
select * from test where id in (1, 2) order by id;
\connect t2
select * from test where id in (1, 2) order by id;
\connect t1
update test set value = 11 where id = 1;
\connect t2
update test set value = 21 where id = 2;
\connect t1
commit;
\connect t2
commit;
\connect t1
-- Returns 1 => 11, 2 => 21 (a new transaction).
select * from test order by id;
commit;
