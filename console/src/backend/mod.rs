//! Backends behind small traits, each with a local and a remote implementation, so commands
//! and views never depend on where the data lives.

pub mod deployer;
pub mod endpoint;
pub mod logs;
pub mod store;
pub mod tracker;
