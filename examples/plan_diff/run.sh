#!/bin/sh
# The README's plan-diff walkthrough from the shell: builds a test and a
# production database with the same rows in two orders (test_db.sql,
# prod_db.sql), then compares the plans of statements.sql in both and
# runs each SELECT in both (--run). Exit status 1: a plan changed, as
# this walkthrough expects.
#
#   sh examples/plan_diff/run.sh [DIR]     (default: a new temp directory)
#
# BLOCKLAB names the binary (default: cargo run --release).
set -eu
here=$(dirname "$0")
dir=${1:-$(mktemp -d)}
bl=${BLOCKLAB:-"cargo run --release --quiet --"}
$bl sql --db "$dir/test" -f "$here/test_db.sql" > /dev/null
$bl sql --db "$dir/prod" -f "$here/prod_db.sql" > /dev/null
echo "test database: $dir/test, production database: $dir/prod"
exec $bl plan-diff --a "$dir/test" --b "$dir/prod" -f "$here/statements.sql" --run
