//! The edit-sequence property on the stable toolchain, without libFuzzer: random inputs from a seeded
//! generator (not coverage-guided), run until an iteration or time budget is spent. A failing input is written
//! to `artifacts/edit_sequence/crash-<seed>` in the format `cargo fuzz run edit_sequence <file>` also reads,
//! and can be replayed here with `--replay <file>`.
//!
//! Usage: edit_sequence_stable [--seconds N] [--iterations N] [--seed N] [--replay FILE]

use std::panic;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// splitmix64: enough to spread bytes; reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn main() {
    let mut seconds = 60u64;
    let mut iterations = u64::MAX;
    let mut seed = None;
    let mut replay = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage(&arg));
        match arg.as_str() {
            "--seconds" => seconds = value().parse().unwrap_or_else(|_| usage("--seconds")),
            "--iterations" => {
                iterations = value().parse().unwrap_or_else(|_| usage("--iterations"))
            }
            "--seed" => seed = Some(value().parse().unwrap_or_else(|_| usage("--seed"))),
            "--replay" => replay = Some(PathBuf::from(value())),
            _ => usage(&arg),
        }
    }
    if let Some(path) = replay {
        let data = std::fs::read(&path).unwrap_or_else(|err| {
            eprintln!("{}: {err}", path.display());
            std::process::exit(2)
        });
        let stats = dsr_fuzz::run(&data);
        println!(
            "replayed {}: {} steps, no disagreement",
            path.display(),
            stats.steps
        );
        return;
    }
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    println!("edit_sequence_stable: seed {seed}, budget {seconds}s / {iterations} inputs");
    let mut rng = Rng(seed);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (mut inputs, mut steps, mut changes, mut structural, mut provisional, mut settled) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let started = Instant::now();
    while inputs < iterations && Instant::now() < deadline {
        let len = (rng.next() % 4096) as usize;
        let data = rng.bytes(len);
        match panic::catch_unwind(|| dsr_fuzz::run(&data)) {
            Ok(stats) => {
                steps += stats.steps;
                changes += stats.changes;
                structural += stats.structural_only;
                provisional += stats.provisional;
                settled += stats.settled;
            }
            Err(_) => {
                let dir = PathBuf::from("artifacts/edit_sequence");
                let _ = std::fs::create_dir_all(&dir);
                let path = dir.join(format!("crash-{seed}-{inputs}"));
                let _ = std::fs::write(&path, &data);
                eprintln!(
                    "crash after {inputs} inputs; input written to {} (replay with --replay)",
                    path.display()
                );
                std::process::exit(1);
            }
        }
        inputs += 1;
    }
    println!(
        "{inputs} inputs, {steps} steps ({changes} changes; {structural} compared structurally only; {provisional} \
         provisional trees, {settled} settled at a pause) in {:.1?}, no disagreement",
        started.elapsed()
    );
}

fn usage(arg: &str) -> ! {
    eprintln!("bad argument `{arg}`\nusage: edit_sequence_stable [--seconds N] [--iterations N] [--seed N] [--replay FILE]");
    std::process::exit(2)
}
