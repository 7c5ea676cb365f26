//! The dictionary as Oracle's data dictionary views show it: `user_tables`,
//! `user_indexes`, `user_ind_columns` and `user_tab_columns`, built from
//! the catalog's definitions and the statistics `ANALYZE` stored.
//!
//! These are pure functions from a [`Catalog`] to rows; nothing here reads
//! a block. The SQL layer does not query them yet (its FROM clause names
//! tables only); the shell's `\dt` and `\di` print them, and a later
//! `FROM user_tables` will read the same rows.
//!
//! The column names and their meaning follow Oracle's *Database Reference*
//! (USER_TABLES, USER_INDEXES, USER_IND_COLUMNS, USER_TAB_COLUMNS), reduced
//! to what blocklab has: one schema (no OWNER column), no partitions, no
//! LAST_ANALYZED time. As in Oracle, every statistic is NULL until the
//! table is analyzed, and names are shown as the catalog stores them
//! (blocklab folds unquoted names to lower case, Oracle to upper case).
//!
//! Invariant: rows come in name order (tables, then indexes, then column
//! position), so the same catalog always gives the same rows.

use super::constraint_def::ConstraintKind;
use super::table_stats::TableStats;
use super::Catalog;
use crate::btree::key::Order;
use crate::error::{Error, Result};
use crate::value::{Row, Value};

/// The names of the views [`view`] knows, in the order `\dt`-style help
/// lists them.
pub const VIEWS: [&str; 4] = [
    "user_tables",
    "user_indexes",
    "user_ind_columns",
    "user_tab_columns",
];

/// One view's contents: column names (upper case, as in Oracle) and rows.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

/// The rows of view `name` (any case), or `None` when no view has that
/// name. `Err` only when a table's stored statistics cannot be read back
/// (the open that loaded them would have refused them first).
pub fn view(cat: &Catalog, name: &str) -> Result<Option<View>> {
    let v = match name.to_ascii_lowercase().as_str() {
        "user_tables" => user_tables(cat)?,
        "user_indexes" => user_indexes(cat)?,
        "user_ind_columns" => user_ind_columns(cat),
        "user_tab_columns" => user_tab_columns(cat)?,
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// The statistics `ANALYZE TABLE` stored for `table`, if any.
pub fn stats_of(cat: &Catalog, table: &str) -> Result<Option<TableStats>> {
    cat.stats
        .get(table)
        .map(|s| {
            TableStats::from_json(&s.json)
                .map_err(|e| Error::Internal(format!("statistics of {table}: {e}")))
        })
        .transpose()
}

/// Whether a PRIMARY KEY or UNIQUE constraint is enforced through `index`
/// (every blocklab index is non-unique in its keys, which end with the
/// rowid; uniqueness is the constraint's, checked through the index).
pub fn is_unique_index(cat: &Catalog, index: &str) -> bool {
    cat.constraints
        .values()
        .any(|c| c.unique_index().is_some_and(|(ix, _)| ix == index))
}

fn columns(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

/// A count as a value (every count here fits: they number blocks and rows).
fn int(n: u64) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// A statistic that is NULL until the table is analyzed.
fn stat<T>(st: Option<&T>, f: impl Fn(&T) -> u64) -> Value {
    st.map_or(Value::Null, |s| int(f(s)))
}

/// USER_TABLES: TABLE_NAME, LOGGING, NUM_ROWS, BLOCKS (below the
/// high-water mark, segment header excluded), AVG_ROW_LEN.
fn user_tables(cat: &Catalog) -> Result<View> {
    let mut rows = Vec::new();
    for t in cat.tables.values() {
        let st = stats_of(cat, &t.name)?;
        rows.push(vec![
            text(&t.name),
            text(if t.logging { "YES" } else { "NO" }),
            stat(st.as_ref(), |s| s.num_rows),
            stat(st.as_ref(), |s| s.blocks),
            stat(st.as_ref(), |s| s.avg_row_len),
        ]);
    }
    Ok(View {
        columns: columns(&["TABLE_NAME", "LOGGING", "NUM_ROWS", "BLOCKS", "AVG_ROW_LEN"]),
        rows,
    })
}

/// USER_INDEXES: INDEX_NAME, TABLE_NAME, UNIQUENESS, STATUS (VALID or
/// UNUSABLE), BLEVEL, LEAF_BLOCKS, DISTINCT_KEYS, NUM_ROWS,
/// CLUSTERING_FACTOR.
fn user_indexes(cat: &Catalog) -> Result<View> {
    let mut rows = Vec::new();
    for ix in cat.indexes.values() {
        let st = stats_of(cat, &ix.table)?;
        let ist = st.as_ref().and_then(|s| s.index(&ix.name));
        rows.push(vec![
            text(&ix.name),
            text(&ix.table),
            text(if is_unique_index(cat, &ix.name) {
                "UNIQUE"
            } else {
                "NONUNIQUE"
            }),
            text(if ix.usable { "VALID" } else { "UNUSABLE" }),
            stat(ist, |i| i.blevel.into()),
            stat(ist, |i| i.leaf_blocks),
            stat(ist, |i| i.distinct_keys),
            stat(ist, |i| i.num_rows),
            stat(ist, |i| i.clustering_factor),
        ]);
    }
    Ok(View {
        columns: columns(&[
            "INDEX_NAME",
            "TABLE_NAME",
            "UNIQUENESS",
            "STATUS",
            "BLEVEL",
            "LEAF_BLOCKS",
            "DISTINCT_KEYS",
            "NUM_ROWS",
            "CLUSTERING_FACTOR",
        ]),
        rows,
    })
}

/// USER_IND_COLUMNS: INDEX_NAME, TABLE_NAME, COLUMN_NAME, COLUMN_POSITION
/// (from 1), DESCEND (ASC or DESC).
fn user_ind_columns(cat: &Catalog) -> View {
    let mut rows = Vec::new();
    for ix in cat.indexes.values() {
        let Some(t) = cat.tables.get(&ix.table) else {
            continue;
        };
        for (pos, &(col, order)) in ix.columns.iter().enumerate() {
            rows.push(vec![
                text(&ix.name),
                text(&ix.table),
                text(&t.columns[col].name),
                int(pos as u64 + 1),
                text(if order == Order::Desc { "DESC" } else { "ASC" }),
            ]);
        }
    }
    View {
        columns: columns(&[
            "INDEX_NAME",
            "TABLE_NAME",
            "COLUMN_NAME",
            "COLUMN_POSITION",
            "DESCEND",
        ]),
        rows,
    }
}

/// USER_TAB_COLUMNS: TABLE_NAME, COLUMN_NAME, DATA_TYPE, NULLABLE (Y or
/// N), COLUMN_ID (from 1, dropped columns skipped), NUM_DISTINCT,
/// NUM_NULLS. A column of a PRIMARY KEY is NOT NULL, as in Oracle.
fn user_tab_columns(cat: &Catalog) -> Result<View> {
    let mut rows = Vec::new();
    for t in cat.tables.values() {
        let st = stats_of(cat, &t.name)?;
        let pk: Vec<usize> = cat
            .constraints
            .values()
            .filter(|c| c.table == t.name)
            .filter_map(|c| match &c.kind {
                ConstraintKind::PrimaryKey { columns, .. } => Some(columns.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        for (id, (pos, c)) in t.visible_columns().enumerate() {
            let cst = st.as_ref().and_then(|s| s.column(&c.name));
            let not_null = c.not_null || pk.contains(&pos);
            rows.push(vec![
                text(&t.name),
                text(&c.name),
                text(c.ty.name()),
                text(if not_null { "N" } else { "Y" }),
                int(id as u64 + 1),
                stat(cst, |s| s.ndv),
                stat(cst, |s| s.nulls),
            ]);
        }
    }
    Ok(View {
        columns: columns(&[
            "TABLE_NAME",
            "COLUMN_NAME",
            "DATA_TYPE",
            "NULLABLE",
            "COLUMN_ID",
            "NUM_DISTINCT",
            "NUM_NULLS",
        ]),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::super::constraint_def::ConstraintDef;
    use super::super::table_stats::IndexStatsRow;
    use super::super::{IndexDef, StoredStats, TableDef};
    use super::*;
    use crate::access::ColumnStats;
    use crate::btree::tree::Tree;
    use crate::ids::{BlockNo, RowId, TableId};
    use crate::value::{ColType, Column};

    fn rowid() -> RowId {
        RowId {
            block: BlockNo(2),
            slot: 0,
        }
    }

    fn col(name: &str, ty: ColType, not_null: bool) -> Column {
        Column {
            name: name.into(),
            ty,
            not_null,
            hidden: false,
        }
    }

    /// `t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, <dropped>, v REAL)`
    /// with the key's index `t_pk` and a DESC index `t_name` on name, v;
    /// analyzed when `analyzed`.
    fn catalog(analyzed: bool) -> Catalog {
        let mut cat = Catalog::default();
        let mut dropped = col("gone", ColType::Integer, false);
        dropped.hidden = true;
        cat.tables.insert(
            "t".into(),
            TableDef {
                id: TableId(1),
                name: "t".into(),
                seg: BlockNo(9),
                columns: vec![
                    col("id", ColType::Integer, false),
                    col("name", ColType::Text, true),
                    dropped,
                    col("v", ColType::Real, false),
                ],
                logging: false,
                catalog_rowid: rowid(),
            },
        );
        let tree = Tree {
            seg: BlockNo(20),
            root: BlockNo(21),
        };
        for (name, cols) in [
            ("t_pk", vec![(0, Order::Asc)]),
            ("t_name", vec![(1, Order::Desc), (3, Order::Asc)]),
        ] {
            cat.indexes.insert(
                name.into(),
                IndexDef {
                    id: 2,
                    name: name.into(),
                    table: "t".into(),
                    tree,
                    columns: cols,
                    usable: name == "t_pk",
                    catalog_rowid: rowid(),
                },
            );
        }
        cat.constraints.insert(
            "t_pkc".into(),
            ConstraintDef {
                name: "t_pkc".into(),
                table: "t".into(),
                kind: ConstraintKind::PrimaryKey {
                    columns: vec![0],
                    index: "t_pk".into(),
                },
                catalog_rowid: rowid(),
            },
        );
        if analyzed {
            let cs = |ndv, nulls| ColumnStats {
                ndv,
                low: None,
                high: None,
                nulls,
            };
            let st = TableStats {
                table: "t".into(),
                num_rows: 1000,
                blocks: 40,
                avg_row_len: 30,
                columns: vec![
                    ("id".into(), cs(1000, 0)),
                    ("name".into(), cs(10, 0)),
                    ("gone".into(), cs(0, 1000)),
                    ("v".into(), cs(7, 3)),
                ],
                indexes: vec![IndexStatsRow {
                    name: "t_pk".into(),
                    blevel: 1,
                    leaf_blocks: 3,
                    distinct_keys: 1000,
                    num_rows: 1000,
                    clustering_factor: 40,
                    cluster_ratio: 1.0,
                    avg_leaf_blocks_per_key: 0.003,
                    avg_data_blocks_per_key: 0.04,
                }],
            };
            cat.stats.insert(
                "t".into(),
                StoredStats {
                    table_id: TableId(1),
                    table: "t".into(),
                    json: st.to_json(),
                    catalog_rowids: vec![rowid()],
                },
            );
        }
        cat
    }

    fn rows(cat: &Catalog, name: &str) -> Vec<Row> {
        view(cat, name).unwrap().expect("a view").rows
    }

    #[test]
    fn statistics_are_null_until_the_table_is_analyzed() {
        let cat = catalog(false);
        assert_eq!(
            rows(&cat, "USER_TABLES"),
            [vec![
                text("t"),
                text("NO"),
                Value::Null,
                Value::Null,
                Value::Null
            ]]
        );
        let ix = rows(&cat, "user_indexes");
        assert!(ix.iter().all(|r| r[4..].iter().all(Value::is_null)));
    }

    #[test]
    fn user_tables_and_user_indexes_show_what_analyze_stored() {
        let cat = catalog(true);
        assert_eq!(
            rows(&cat, "user_tables"),
            [vec![text("t"), text("NO"), int(1000), int(40), int(30)]]
        );
        // In name order: t_name (never measured by this ANALYZE, unusable,
        // no constraint), then t_pk (the key's index: UNIQUE).
        assert_eq!(
            rows(&cat, "user_indexes"),
            [
                vec![
                    text("t_name"),
                    text("t"),
                    text("NONUNIQUE"),
                    text("UNUSABLE"),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ],
                vec![
                    text("t_pk"),
                    text("t"),
                    text("UNIQUE"),
                    text("VALID"),
                    int(1),
                    int(3),
                    int(1000),
                    int(1000),
                    int(40),
                ],
            ]
        );
    }

    #[test]
    fn user_ind_columns_lists_each_key_column_with_position_and_order() {
        let got: Vec<(String, String, i64, String)> = rows(&catalog(false), "user_ind_columns")
            .into_iter()
            .map(|r| match r.as_slice() {
                [Value::Text(ix), _, Value::Text(c), Value::Int(p), Value::Text(d)] => {
                    (ix.clone(), c.clone(), *p, d.clone())
                }
                other => panic!("{other:?}"),
            })
            .collect();
        let want = [
            ("t_name", "name", 1, "DESC"),
            ("t_name", "v", 2, "ASC"),
            ("t_pk", "id", 1, "ASC"),
        ]
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c, d.to_string()));
        assert_eq!(got, want);
    }

    #[test]
    fn user_tab_columns_skips_dropped_columns_and_counts_key_columns_not_null() {
        let cat = catalog(true);
        assert_eq!(
            rows(&cat, "user_tab_columns"),
            [
                // id: NOT NULL through the primary key.
                vec![
                    text("t"),
                    text("id"),
                    text("INTEGER"),
                    text("N"),
                    int(1),
                    int(1000),
                    int(0)
                ],
                vec![
                    text("t"),
                    text("name"),
                    text("TEXT"),
                    text("N"),
                    int(2),
                    int(10),
                    int(0)
                ],
                // v is the third visible column (the dropped one is skipped).
                vec![
                    text("t"),
                    text("v"),
                    text("REAL"),
                    text("Y"),
                    int(3),
                    int(7),
                    int(3)
                ],
            ]
        );
    }

    #[test]
    fn an_unknown_view_is_none() {
        assert_eq!(view(&catalog(false), "user_views").unwrap(), None);
        for name in VIEWS {
            assert!(view(&catalog(false), name).unwrap().is_some(), "{name}");
        }
    }
}
