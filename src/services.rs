//! The running service's shared parts: the pool, the clock and the channels'
//! clients, one value shared by HTTP handlers, job runners and commands.

use crate::channels::email::{MailDeps, MailError, Mailer};
use crate::channels::whatsapp::GraphClient;
use crate::chat::delivery::{SendWhatsApp, WhatsAppDeps};
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::Keyring;
use crate::db::Pool;
use crate::jobs::Runner;
use std::sync::Arc;

pub struct Services {
    pub pool: Pool,
    pub clock: Clock,
    pub graph: GraphClient,
    pub mailer: Mailer,
    pub mail_from: String,
    /// Seals and opens shop secrets at rest.
    pub keyring: Keyring,
}

impl Services {
    pub fn new(config: &Config, pool: Pool, clock: Clock, keyring: Keyring) -> Result<Services, MailError> {
        Ok(Services {
            pool,
            clock,
            graph: GraphClient::new(&config.whatsapp_graph_url, &config.whatsapp_api_version),
            mailer: Mailer::from_config(config.smtp_url.as_deref(), &config.mail_dir)?,
            mail_from: config.mail_from.clone(),
            keyring,
        })
    }

    /// The jobs runner with every kind this service runs.
    pub fn runner(self: &Arc<Self>) -> Runner<Services> {
        Runner::builder(self.pool.clone(), self.clock.clone(), self.clone())
            .register::<SendWhatsApp>()
            .register::<crate::channels::email::Email>()
            .build()
    }
}

impl WhatsAppDeps for Services {
    fn graph(&self) -> &GraphClient {
        &self.graph
    }
    fn keyring(&self) -> &Keyring {
        &self.keyring
    }
}

impl MailDeps for Services {
    fn mailer(&self) -> &Mailer {
        &self.mailer
    }
    fn mail_from(&self) -> &str {
        &self.mail_from
    }
}
