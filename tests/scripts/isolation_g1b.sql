-- Isolation matrix (Hermitage, github.com/ept/hermitage): G1b,
-- intermediate reads.
--
-- Anomaly: T2 reads a version T1 wrote but later overwrote: T2 saw a
-- state that was never committed.
--
-- Oracle 11.2 (Hermitage oracle.md):
--   READ COMMITTED  prevented: T2 sees 1 => 10 while T1 is open and only
--                   T1's final value 1 => 11 after T1 commits.
--   SERIALIZABLE    no Hermitage test (n/a).
-- blocklab:
--   READ COMMITTED  prevented, same as Oracle (1 => 10, then 1 => 11).

create table test (id int not null primary key, value int);
insert into test (id, value) values (1, 10), (2, 20);
commit;

\echo ==== G1b, READ COMMITTED (Oracle: prevented) ====
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
update test set value = 11 where id = 1;
commit;
\connect t2
-- Now shows 1 => 11.
select * from test order by id;
commit;
