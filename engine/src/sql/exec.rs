//! Runs statements.
use super::ast::Statement;
use super::SqlResult;
use crate::error::{Error, Result};
use crate::session::Session;
use crate::value::Value;

pub(crate) fn execute(
    _s: &mut Session,
    _stmt: &Statement,
    _binds: &[Value],
    _n: usize,
) -> Result<SqlResult> {
    Err(Error::Sql("the SQL layer is being built".into()))
}

pub(crate) fn execute_array(
    _s: &mut Session,
    _stmt: &Statement,
    _rows: &[Vec<Value>],
) -> Result<SqlResult> {
    Err(Error::Sql("the SQL layer is being built".into()))
}
