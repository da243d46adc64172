//! E-mail to shops: over SMTP (`SMTP_URL`), or written as `.eml` files to the
//! mail folder when no server is set (the embedded default).

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

/// An e-mail as its send job keeps it. Fields after `text` came later:
/// jobs queued before them still read (serde defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// The HTML part; absent: the text, escaped, paragraph by paragraph.
    #[serde(default)]
    pub html: Option<String>,
    /// The sender's display name (the shop's name); absent: the service's.
    #[serde(default)]
    pub from_name: Option<String>,
    /// Left of the `@` in `Message-ID`, fixed when queued so a retried
    /// send carries the same id and the recipient's client can dedupe it.
    #[serde(default)]
    pub message_key: Option<String>,
}

impl Email {
    pub fn new(to: impl Into<String>, subject: impl Into<String>, text: impl Into<String>) -> Email {
        Email {
            to: to.into(),
            subject: subject.into(),
            text: text.into(),
            html: None,
            from_name: None,
            message_key: None,
        }
    }

    pub fn from_name(mut self, name: impl Into<String>) -> Email {
        self.from_name = Some(name.into());
        self
    }

    pub fn html(mut self, html: impl Into<String>) -> Email {
        self.html = Some(html.into());
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("`{0}` is not a mail address")]
    Address(String),
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("the mail server refused the message: {0}")]
    Refused(String),
    #[error("mail delivery failed, will retry: {0}")]
    Transient(String),
    #[error("cannot set up mail: {0}")]
    Setup(String),
}

impl MailError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, MailError::Transient(_))
    }
}

#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

/// The longest one SMTP exchange may take (connecting, TLS, AUTH, DATA):
/// well inside a job's lease, so a slow server never has two workers
/// sending the same mail. lettre's own default is 60 s.
const SMTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// How the mailer reaches its server: `SMTP_URL`, and the CA certificates
/// (PEM) trusted beside the system's for its TLS (`CHATSHOP_SMTP_CA_FILE`).
#[derive(Clone, Copy)]
pub struct SmtpSettings<'a> {
    pub url: &'a str,
    pub ca_file: Option<&'a std::path::Path>,
}

impl Mailer {
    pub fn from_config(smtp: Option<SmtpSettings<'_>>, mail_dir: &std::path::Path) -> Result<Mailer, MailError> {
        match smtp {
            Some(settings) => smtp_transport(settings).map(Mailer::Smtp),
            None => {
                std::fs::create_dir_all(mail_dir)
                    .map_err(|e| MailError::Setup(format!("{}: {e}", mail_dir.display())))?;
                Ok(Mailer::Files(AsyncFileTransport::<Tokio1Executor>::new(mail_dir)))
            }
        }
    }

    pub async fn send(&self, from: &str, email: &Email) -> Result<(), MailError> {
        let message = build(from, email)?;
        match self {
            Mailer::Smtp(smtp) => smtp.send(message).await.map(drop).map_err(|e| {
                if e.is_permanent() { MailError::Refused(e.to_string()) } else { MailError::Transient(e.to_string()) }
            }),
            Mailer::Files(files) => {
                files.send(message).await.map(drop).map_err(|e| MailError::Transient(e.to_string()))
            }
        }
    }
}

/// lettre reads `SMTP_URL` (`smtp://` plain, `smtp://…?tls=required`
/// STARTTLS, `…?tls=opportunistic`, `smtps://` implicit TLS, `user:password@`
/// for AUTH PLAIN or LOGIN); extra CA certificates replace its TLS
/// parameters with the same mode and the roots added. Errors never carry
/// the URL (it may hold the password).
fn smtp_transport(settings: SmtpSettings<'_>) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    let setup = |e: &dyn std::fmt::Display| MailError::Setup(format!("SMTP_URL: {e}"));
    let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(settings.url).map_err(|e| setup(&e))?;
    let builder = builder.timeout(Some(SMTP_TIMEOUT));
    let Some(path) = settings.ca_file else { return Ok(builder.build()) };
    let pem =
        std::fs::read(path).map_err(|e| MailError::Setup(format!("CHATSHOP_SMTP_CA_FILE {}: {e}", path.display())))?;
    let certificate = Certificate::from_pem(&pem)
        .map_err(|e| MailError::Setup(format!("CHATSHOP_SMTP_CA_FILE {}: {e}", path.display())))?;
    let url = url::Url::parse(settings.url).map_err(|e| setup(&e))?;
    let host = url.host_str().ok_or_else(|| setup(&"no host"))?.to_owned();
    let tls_mode = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
    let parameters = || {
        TlsParameters::builder(host.clone())
            .add_root_certificate(certificate.clone())
            .build()
            .map_err(|e| MailError::Setup(format!("CHATSHOP_SMTP_CA_FILE {}: {e}", path.display())))
    };
    let tls = match (url.scheme(), tls_mode.as_deref()) {
        ("smtps", _) => Tls::Wrapper(parameters()?),
        (_, Some("required")) => Tls::Required(parameters()?),
        (_, Some("opportunistic")) => Tls::Opportunistic(parameters()?),
        // Plain SMTP: no TLS for the roots to apply to.
        _ => return Ok(builder.build()),
    };
    Ok(builder.tls(tls).build())
}

/// The MIME message: the shop's name before the service's address, a
/// `Message-ID` on the sender's domain, plain text and HTML.
pub fn build(from: &str, email: &Email) -> Result<Message, MailError> {
    let mailbox = |text: &str| text.parse::<Mailbox>().map_err(|_| MailError::Address(text.to_owned()));
    let service = mailbox(from)?;
    let sender = match &email.from_name {
        Some(name) => Mailbox::new(Some(name.clone()), service.email.clone()),
        None => service.clone(),
    };
    let key = email.message_key.clone().unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let html_part = email.html.clone().unwrap_or_else(|| html(&email.text));
    Message::builder()
        .from(sender)
        .to(mailbox(&email.to)?)
        .subject(&email.subject)
        .message_id(Some(format!("<{key}@{}>", service.email.domain())))
        .multipart(MultiPart::alternative_plain_html(email.text.clone(), html_part))
        .map_err(|e| MailError::Build(e.to_string()))
}

/// What sending e-mail needs from the running service.
pub trait MailDeps: Send + Sync + 'static {
    fn mailer(&self) -> &Mailer;
    fn mail_from(&self) -> &str;
}

/// The job that sends one e-mail: retried while the server is unreachable or
/// answers a temporary failure, dead when it refuses the message.
impl crate::jobs::JobKind for Email {
    const KIND: &'static str = "email.send";
}

impl<C: MailDeps> crate::jobs::Job<C> for Email {
    async fn run(self, context: std::sync::Arc<C>, run: crate::jobs::JobRun) -> crate::jobs::Outcome {
        use crate::jobs::Outcome;
        // The lease covers this send only; a worker that lost it sends nothing.
        if !run.renew().await {
            return Outcome::lost();
        }
        match context.mailer().send(context.mail_from(), &self).await {
            Ok(()) => Outcome::done(),
            Err(error) if error.is_retryable() => Outcome::retry(error.to_string()),
            Err(error) => Outcome::dead(error.to_string()),
        }
    }
}

/// Queues an e-mail in the caller's transaction.
pub fn enqueue(
    conn: &mut crate::db::AnyConnection,
    shop: Option<crate::ids::ShopId>,
    email: &Email,
) -> Result<(), crate::jobs::JobError> {
    let schedule = crate::jobs::Schedule { shop_id: shop, ..Default::default() };
    let mut email = email.clone();
    email.message_key.get_or_insert_with(|| uuid::Uuid::new_v4().simple().to_string());
    crate::jobs::enqueue(conn, &email, schedule).map(drop)
}

/// The HTML part: the text, escaped, paragraph by paragraph.
fn html(text: &str) -> String {
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let paragraphs: Vec<String> =
        escaped.split("\n\n").map(|p| format!("<p>{}</p>", p.replace('\n', "<br>"))).collect();
    format!("<!doctype html><html><body style=\"font-family:sans-serif\">{}</body></html>", paragraphs.join(""))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_message_has_the_shop_as_sender_name_and_a_message_id() {
        let email = super::Email::new("dono@padaria.com.br", "Pedido pago", "Olá").from_name("Padaria São João");
        let bytes = super::build("chatshop <no-reply@chatshop.local>", &email).expect("built").formatted();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("From: =?utf-8?b?"), "the accented name is encoded: {text}");
        assert!(text.contains("<no-reply@chatshop.local>"), "{text}");
        assert!(text.contains("Message-ID: <") && text.contains("@chatshop.local>"), "{text}");
    }

    #[test]
    fn the_html_part_escapes_the_text() {
        assert_eq!(
            super::html("Pedido <1> & \"2\"\n\nfim"),
            "<!doctype html><html><body style=\"font-family:sans-serif\"><p>Pedido &lt;1&gt; &amp; &quot;2&quot;</p><p>fim</p></body></html>"
        );
    }
}
