//! Fuzz target: any bytes are decoded as a redo record payload, and then
//! stored as the first redo log file of a ring and read back by the log
//! reader (framing, CRCs, the torn-tail and corruption rules). Neither
//! may panic or loop: each returns records or an error.

#![no_main]

use blocklab::redo::record::decode_payload;
use blocklab::redo::{read_log, LogConfig};
use blocklab::storage::SimBackend;
use blocklab::Lsn;
use libfuzzer_sys::fuzz_target;

const FILE_SIZE: u64 = 16 << 10;

fuzz_target!(|data: &[u8]| {
    let _ = decode_payload(data);
    let cfg = LogConfig {
        file_size: FILE_SIZE,
        files: 3,
    };
    let sim = SimBackend::new();
    for i in 0..cfg.files {
        let mut file = vec![0u8; FILE_SIZE as usize];
        if i == 0 {
            let n = data.len().min(file.len());
            file[..n].copy_from_slice(&data[..n]);
        }
        sim.set_bytes(&LogConfig::file_name(i), &file);
    }
    let _ = read_log(&sim, &cfg, Lsn(0));
});
