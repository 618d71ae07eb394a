//! `cargo fuzz run edit_sequence`: the edit-sequence property under libFuzzer (see docs/hardening.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    dsr_fuzz::run(data);
});
