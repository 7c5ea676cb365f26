//! Text to `ast::Statement`.
use super::ast::Statement;
use crate::error::{Error, Result};

pub(crate) fn parse(_sql: &str) -> Result<Statement> {
    Err(Error::Sql("the SQL layer is being built".into()))
}
