//! STA — state ownership.

pub mod process_local_state_in_handler;
