-- Isolation matrix (Hermitage, github.com/ept/hermitage): G1a, aborted
-- reads.
--
-- Anomaly: T2 reads a value written by T1, and T1 then rolls back: T2 saw
-- data that never existed.
--
-- Oracle 11.2 (Hermitage oracle.md):
--   READ COMMITTED  prevented: T2 reads the last committed version
--                   (1 => 10) before and after T1's rollback.
--   SERIALIZABLE    no Hermitage test (n/a).
-- blocklab:
--   READ COMMITTED  prevented, same as Oracle: T2's consistent read rolls
--                   the uncommitted change back with undo (1 => 10 both
--                   times).

create table test (id int not null primary key, value int);
insert into test (id, value) values (1, 10), (2, 20);
commit;

\echo ==== G1a, READ COMMITTED (Oracle: prevented) ====
\connect t1
set transaction isolation level read committed;
\connect t2
set transaction isolation level read committed;
\connect t1
update test set value = 101 where id = 1;
\connect t2
-- Still shows 1 => 10.
select * from test order by id;
\connect t1
rollback;
\connect t2
-- Still shows 1 => 10.
select * from test order by id;
commit;
