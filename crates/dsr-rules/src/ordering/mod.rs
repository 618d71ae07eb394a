//! ORD — ordering, causality and time.

pub mod wall_clock_for_durations;
pub mod wall_clock_ordering;
