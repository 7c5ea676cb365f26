//! Fuzz target: any bytes are decoded as a data block (every block kind:
//! file header, segment header, table, index, undo header, undo) at the
//! block sizes the engine supports. Decoding returns a block or an error
//! message; it never panics. A block that decodes must also encode again.

#![no_main]

use blocklab::block::Block;
use blocklab::BlockNo;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the block size; the rest is the block (padded
    // with zeros or cut to the size, as a data file holds whole blocks).
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let size = 2048usize << (pick % 5); // 2 KiB .. 32 KiB
    let mut buf = vec![0u8; size];
    let n = body.len().min(size);
    buf[..n].copy_from_slice(&body[..n]);
    if let Ok(block) = Block::decode(BlockNo(u32::from(pick)), &buf) {
        let mut again = vec![0u8; size];
        let _ = block.encode(&mut again);
    }
});
