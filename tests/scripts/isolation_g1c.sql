-- Isolation matrix (Hermitage, github.com/ept/hermitage): G1c, circular
-- information flow.
--
-- Anomaly: T1 sees T2's write and T2 sees T1's write (a cycle of
-- write-read dependencies between two uncommitted transactions).
--
-- Oracle 11.2 (Hermitage oracle.md):
--   READ COMMITTED  prevented: each transaction reads the other's row as
--                   last committed (2 => 20 for T1, 1 => 10 for T2).
--   SERIALIZABLE    no Hermitage test (n/a).
-- blocklab:
--   READ COMMITTED  prevented, same as Oracle.

create table test (id int not null primary key, value int);
insert into test (id, value) values (1, 10), (2, 20);
commit;

\echo ==== G1c, READ COMMITTED (Oracle: prevented) ====
\connect t1
set transaction isolation level read committed;
\connect t2
set transaction isolation level read committed;
\connect t1
update test set value = 11 where id = 1;
\connect t2
update test set value = 22 where id = 2;
\connect t1
-- Still shows 2 => 20.
select * from test where id = 2;
\connect t2
-- Still shows 1 => 10.
select * from test where id = 1;
\connect t1
commit;
\connect t2
commit;
\connect main
-- Final state: 1 => 11, 2 => 22.
select * from test order by id;
