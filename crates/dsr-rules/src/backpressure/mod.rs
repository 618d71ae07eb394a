//! BKP — backpressure and load.

pub mod unbounded_channel;
