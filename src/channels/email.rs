//! E-mail to shops: over SMTP (`SMTP_URL`), or written as `.eml` files to the
//! mail folder when no server is set (the embedded default).

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

pub const CHANNEL_EMAIL: &str = "email";

/// An e-mail as the outbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
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

impl Mailer {
    pub fn from_config(smtp_url: Option<&str>, mail_dir: &std::path::Path) -> Result<Mailer, MailError> {
        match smtp_url {
            Some(url) => AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map(|builder| Mailer::Smtp(builder.build()))
                .map_err(|e| MailError::Setup(format!("SMTP_URL: {e}"))),
            None => {
                std::fs::create_dir_all(mail_dir)
                    .map_err(|e| MailError::Setup(format!("{}: {e}", mail_dir.display())))?;
                Ok(Mailer::Files(AsyncFileTransport::<Tokio1Executor>::new(mail_dir)))
            }
        }
    }

    pub async fn send(&self, from: &str, email: &Email) -> Result<(), MailError> {
        let mailbox = |text: &str| text.parse::<Mailbox>().map_err(|_| MailError::Address(text.to_owned()));
        let message = Message::builder()
            .from(mailbox(from)?)
            .to(mailbox(&email.to)?)
            .subject(&email.subject)
            .multipart(MultiPart::alternative_plain_html(email.text.clone(), html(&email.text)))
            .map_err(|e| MailError::Build(e.to_string()))?;
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
    fn the_html_part_escapes_the_text() {
        assert_eq!(
            super::html("Pedido <1> & \"2\"\n\nfim"),
            "<!doctype html><html><body style=\"font-family:sans-serif\"><p>Pedido &lt;1&gt; &amp; &quot;2&quot;</p><p>fim</p></body></html>"
        );
    }
}
