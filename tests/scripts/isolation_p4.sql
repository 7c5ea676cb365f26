-- Isolation matrix (Hermitage, github.com/ept/hermitage): P4, lost
-- update.
--
-- Anomaly: T1 and T2 both read row 1 and both write it based on what they
-- read; T2's write silently overwrites T1's committed write.
--
-- Oracle 11.2 (Hermitage oracle.md):
--   READ COMMITTED  allowed: T2's update blocks on T1's row lock, then
--                   overwrites T1's committed value when T1 commits.
--   SERIALIZABLE    prevented: when T1 commits, T2's blocked update fails
--                   with ORA-08177.
-- blocklab:
--   READ COMMITTED  allowed, same as Oracle (T2's update re-checks
--                   `id = 1` on T1's committed row, still true, and
--                   overwrites it).
--   SERIALIZABLE    prevented, same as Oracle: the row T2 locks after the
--                   wait is not the version its snapshot saw: ORA-08177.

create table test (id int not null primary key, value int);
insert into test (id, value) values (1, 10), (2, 20);
commit;

\echo ==== P4, READ COMMITTED (Oracle: allowed) ====
\connect t1
set transaction isolation level read committed;
\connect t2
set transaction isolation level read committed;
\connect t1
select * from test where id = 1;
\connect t2
select * from test where id = 1;
\connect t1
update test set value = 11 where id = 1;
\connect t2
-- Blocks on T1's row lock.
update test set value = 11 where id = 1;
\connect t1
-- Commit unblocks T2, so T1's update is overwritten.
commit;
\wait t2
\connect t2
commit;

\echo ==== P4, SERIALIZABLE (Oracle: prevented, ORA-08177) ====
\connect main
drop table test;
create table test (id int not null primary key, value int);
insert into test (id, value) values (1, 10), (2, 20);
commit;
\connect t1
set transaction isolation level serializable;
\connect t2
set transaction isolation level serializable;
\connect t1
select * from test where id = 1;
\connect t2
select * from test where id = 1;
\connect t1
update test set value = 11 where id = 1;
\connect t2
-- Blocks on T1's row lock.
update test set value = 11 where id = 1;
\connect t1
-- Commit unblocks T2, which gets ORA-08177.
commit;
\wait t2
\connect t2
rollback;
