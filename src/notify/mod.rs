//! Domain events turned into messages and deliveries: to the customer in
//! the chat (`customer`), to the shop by WhatsApp and e-mail (`shop`), and
//! to the shop's own systems by signed webhooks (`webhooks`). `Publish`, the
//! job `events::record` queues, looks at one event and queues each delivery
//! as its own job, committed with the publish's outcome.

pub mod customer;
pub mod render;
pub mod shop;
pub mod summary;
pub mod webhooks;

use crate::chat::delivery::WhatsAppDeps;
use crate::db::AnyConnection;
use crate::events::{self, Event, Publish};
use crate::jobs::{Job, JobRun, Outcome};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Jobs(#[from] crate::jobs::JobError),
    #[error("cannot read the event's data: {0}")]
    Data(#[from] serde_json::Error),
    #[error(transparent)]
    Chat(#[from] crate::chat::ChatError),
    #[error(transparent)]
    Shop(#[from] crate::shops::ShopError),
    #[error(transparent)]
    Report(#[from] crate::reports::ReportError),
    #[error("a notification template failed: {0}")]
    Template(#[from] minijinja::Error),
}

/// What fanning out needs of the service.
pub trait NotifyDeps: WhatsAppDeps {}

impl<C: NotifyDeps> Job<C> for Publish {
    async fn run(self, _context: Arc<C>, run: JobRun) -> Outcome {
        let event_id = self.event_id;
        let loaded = run
            .with_conn(move |conn| events::find(conn, event_id).map_err(|e| e.to_string()))
            .await
            .and_then(|found| found);
        match loaded {
            Err(error) => Outcome::retry(error),
            Ok(None) => Outcome::dead("the event is gone"),
            Ok(Some(event)) => {
                let event = Arc::new(event);
                Outcome::done().with(move |conn| fan_out(conn, &event).map_err(into_query_error))
            }
        }
    }
}

/// Queues every delivery of one event, in the publish's transaction.
pub fn fan_out(conn: &mut AnyConnection, event: &Event) -> Result<(), NotifyError> {
    customer::on_event(conn, event)?;
    shop::on_event(conn, event)?;
    webhooks::deliver::on_event(conn, event)?;
    Ok(())
}

fn into_query_error(error: NotifyError) -> diesel::result::Error {
    match error {
        NotifyError::Db(e) => e,
        other => diesel::result::Error::SerializationError(Box::new(std::io::Error::other(other.to_string()))),
    }
}
