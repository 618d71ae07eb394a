//! BKP — backpressure and load.

pub mod remote_call_in_loop;
pub mod unbounded_body_read;
pub mod unbounded_channel;
pub mod unbounded_concurrency;
