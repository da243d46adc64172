//! WhatsApp Cloud API: the Graph client and the outbound message formats.

pub mod graph;
pub mod message;

pub use graph::{GraphClient, GraphError, SentMessage};
pub use message::OutboundMessage;
