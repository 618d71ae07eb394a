//! API — API and protocol design.

pub mod offset_pagination;
