//! Temporary blocks: where a hash join's partitions and a sort's runs go
//! when they outgrow their work area.
//!
//! A run of rows is written as each row's encoded length (4 bytes, little
//! endian) then its bytes, and counted in temporary blocks of
//! [`TEMP_BLOCK`] bytes (`physical writes direct temporary tablespace`
//! when written, `… reads …` when read back). Departure: this version
//! keeps the bytes in memory; what is counted is what a one-pass join or
//! sort would write to the temporary tablespace and read back.

use crate::error::{Error, Result};
use crate::value::{decode_row, encode_row, Row, Value};

/// The size of a temporary block, in bytes.
pub(super) const TEMP_BLOCK: u64 = 8192;

/// Temporary blocks holding `bytes`.
pub(super) fn blocks(bytes: usize) -> u64 {
    (bytes as u64).div_ceil(TEMP_BLOCK)
}

/// Appends `row` to a run: its encoded length, then its bytes.
pub(super) fn put(buf: &mut Vec<u8>, row: &[Value]) {
    let r = encode_row(row);
    buf.extend_from_slice(&(r.len() as u32).to_le_bytes());
    buf.extend_from_slice(&r);
}

/// The rows of a run, in the order written.
pub(super) fn rows_of(mut buf: &[u8]) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    while buf.len() >= 4 {
        let n = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        let row = buf
            .get(4..4 + n)
            .ok_or_else(|| Error::Internal("a truncated temporary run".into()))?;
        out.push(decode_row(row).map_err(Error::Internal)?);
        buf = &buf[4 + n..];
    }
    Ok(out)
}
