pub mod ack_before_process;
pub mod dual_write_without_outbox;
pub mod transaction_not_rolled_back;
