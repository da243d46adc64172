//! The transactional outbox: a state change and the messages it causes commit
//! together; a worker delivers them after, with retries and backoff, and any
//! number of processes share the work without sending a message twice.

pub mod outbox;
pub mod worker;
