-- Isolation matrix (Hermitage, github.com/ept/hermitage): OTV, observed
-- transaction vanishes.
--
-- Anomaly: T3 observes some of T2's effects (overwriting T1's) and later
-- sees T1's value again: a transaction it observed seems to vanish.
--
-- Oracle 11.2 (Hermitage oracle.md):
--   READ COMMITTED  prevented: T2 blocks on T1's row lock; T3 sees
--                   1 => 11, 2 => 19 (T1) until T2 commits, then
--                   2 => 18, 1 => 12 (T2).
--   SERIALIZABLE    no Hermitage test (n/a).
-- blocklab:
--   READ COMMITTED  prevented, same as Oracle.

create table test (id int not null primary key, value int);
insert into test (id, value) values (1, 10), (2, 20);
commit;

\echo ==== OTV, READ COMMITTED (Oracle: prevented) ====
\connect t1
set transaction isolation level read committed;
\connect t2
set transaction isolation level read committed;
\connect t3
set transaction isolation level read committed;
\connect t1
update test set value = 11 where id = 1;
update test set value = 19 where id = 2;
-- T2 blocks on T1's row lock.
\connect t2
update test set value = 12 where id = 1;
\connect t1
-- Commit unblocks T2.
commit;
\wait t2
\connect t3
-- Shows 1 => 11.
select * from test where id = 1;
\connect t2
update test set value = 18 where id = 2;
\connect t3
-- Shows 2 => 19.
select * from test where id = 2;
\connect t2
commit;
\connect t3
-- Shows 2 => 18.
select * from test where id = 2;
-- Shows 1 => 12.
select * from test where id = 1;
commit;
