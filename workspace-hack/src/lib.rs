//! No code: the crate's dependencies (its `Cargo.toml`, kept by
//! `cargo hakari`) give every third-party crate one feature set across the
//! workspace.
