//! CON — consistency and correctness.

pub mod read_modify_write_race;
