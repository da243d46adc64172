//! The running service's shared parts: the pool, the clock and the channels'
//! clients, one value shared by HTTP handlers, job runners and commands.

use crate::channels::email::{MailDeps, MailError, Mailer, SmtpSettings};
use crate::channels::webhooks::WebhookSender;
use crate::channels::whatsapp::GraphClient;
use crate::chat::delivery::{SendWhatsApp, WhatsAppDeps};
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::Keyring;
use crate::db::AnyConnection;
use crate::db::Pool;
use crate::ids::ShopId;
use crate::jobs::Runner;
use crate::payments::psp::PspError;
use crate::payments::psp::api_pix::Transport;
use crate::payments::psp::shop::{PspClients, ShopPsp};
use crate::payments::{self, Links, PaymentsDeps, Placed};
use chrono::TimeDelta;
use std::sync::Arc;

pub struct Services {
    pub pool: Pool,
    pub clock: Clock,
    pub graph: GraphClient,
    pub mailer: Mailer,
    pub mail_from: String,
    /// Seals and opens shop secrets at rest.
    pub keyring: Keyring,
    /// Where customers' pages are (pay links).
    pub links: Links,
    pub reconcile_interval: TimeDelta,
    pub charge_ttl: TimeDelta,
    /// The sandbox PSP's pay endpoint and command are on.
    pub sandbox: bool,
    /// API Pix clients per shop, so tokens and connections are reused.
    pub psp_clients: PspClients,
    /// Sends the shops' signed webhooks.
    pub webhooks: WebhookSender,
    /// How long a job's claim holds (`CHATSHOP_JOB_LEASE_SECONDS`).
    pub job_lease: TimeDelta,
    /// Shops' morning summaries are scheduled (`CHATSHOP_DAILY_SUMMARY`).
    pub daily_summary: bool,
}

impl Services {
    pub fn new(config: &Config, pool: Pool, clock: Clock, keyring: Keyring) -> Result<Services, MailError> {
        Ok(Services {
            pool,
            clock,
            graph: GraphClient::new(&config.whatsapp_graph_url, &config.whatsapp_api_version),
            mailer: Mailer::from_config(
                config.smtp_url.as_deref().map(|url| SmtpSettings { url, ca_file: config.smtp_ca_file.as_deref() }),
                &config.mail_dir,
            )?,
            mail_from: config.mail_from.clone(),
            keyring,
            links: Links { public_url: config.public_url(config.bind) },
            reconcile_interval: config.reconcile_interval(),
            charge_ttl: config.charge_ttl(),
            sandbox: config.sandbox,
            psp_clients: PspClients::new(Transport { extra_roots: psp_roots(config), timeout: config.psp_timeout() }),
            webhooks: WebhookSender::new(),
            job_lease: config.job_lease(),
            daily_summary: config.daily_summary,
        })
    }

    /// Where a PSP posts the shop's callbacks.
    pub fn pix_webhook_url(&self, shop: ShopId) -> String {
        format!("{}/webhooks/pix/{shop}", self.links.public_url.trim_end_matches('/'))
    }

    /// Pay links point at `public_url` (the address the service bound, when
    /// no public URL is set).
    pub fn with_public_url(mut self, public_url: String) -> Services {
        self.links = Links { public_url };
        self
    }

    /// What a checkout needs of the service.
    pub fn placed(&self) -> Placed<'_> {
        Placed { links: &self.links, default_ttl: self.charge_ttl, reconcile_interval: self.reconcile_interval }
    }

    /// The jobs runner with every kind this service runs.
    pub fn runner(self: &Arc<Self>) -> Runner<Services> {
        Runner::builder(self.pool.clone(), self.clock.clone(), self.clone())
            .lease(self.job_lease)
            .register::<SendWhatsApp>()
            .register::<crate::channels::email::Email>()
            .register::<crate::events::Publish>()
            .register::<crate::notify::webhooks::DeliverWebhook>()
            .register::<crate::notify::summary::SendSummary>()
            .register::<payments::CreateCharge>()
            .register::<payments::CancelCharge>()
            .register::<payments::ExpireOrder>()
            .register::<payments::PollCharge>()
            .register::<payments::VerifyPix>()
            .register::<payments::SweepPix>()
            .register::<payments::RequestRefund>()
            .register::<payments::FollowRefund>()
            .build()
    }
}

/// The extra CA certificates for PSPs. An unreadable file is logged and
/// trusts nothing more: calls to a PSP behind that CA then fail visibly, and
/// the rest of the service runs.
fn psp_roots(config: &Config) -> Vec<String> {
    let Some(path) = &config.psp_ca_file else { return Vec::new() };
    match std::fs::read_to_string(path) {
        Ok(pem) => vec![pem],
        Err(error) => {
            tracing::error!(path = %path.display(), %error, "CHATSHOP_PSP_CA_FILE cannot be read");
            Vec::new()
        }
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

impl crate::notify::NotifyDeps for Services {}

impl crate::notify::webhooks::WebhookDeps for Services {
    fn webhook_sender(&self) -> &WebhookSender {
        &self.webhooks
    }
    fn secrets(&self) -> &Keyring {
        &self.keyring
    }
}

impl PaymentsDeps for Services {
    type Psp = ShopPsp;
    fn psp(&self, conn: &mut AnyConnection, shop: ShopId) -> Result<ShopPsp, PspError> {
        self.psp_clients.for_shop(conn, &self.keyring, shop)
    }
    fn links(&self) -> &Links {
        &self.links
    }
    fn reconcile_interval(&self) -> TimeDelta {
        self.reconcile_interval
    }
}
