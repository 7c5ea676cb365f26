//! Fuzz target: any bytes are opened as a control file (two checksummed
//! slots, the newest valid one wins). Opening returns the control data or
//! an error; it never panics.

#![no_main]

use blocklab::storage::{ControlFile, SimBackend};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let sim = SimBackend::new();
    sim.set_bytes(ControlFile::NAME, data);
    let _ = ControlFile::open(&sim);
});
