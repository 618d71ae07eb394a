//! RES — failure handling and resilience.
