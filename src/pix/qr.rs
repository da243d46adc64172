//! QR images of a BR Code: SVG for the web, PNG for WhatsApp. Error correction M and a
//! 4-module quiet zone, as the BR Code manual recommends.

use std::io::Cursor;

use image::{ImageFormat, Luma};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// Pixels per module in the PNG: a 512-byte code (version ~13, 69 modules + quiet zone)
/// comes out near 620 px, readable from a phone screen.
pub const PNG_MODULE_PX: u32 = 8;

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("the payload does not fit a QR code: {0}")]
    Encode(#[from] qrcode::types::QrError),
    #[error("PNG encoding failed: {0}")]
    Png(#[from] image::ImageError),
}

fn qr_code(payload: &str) -> Result<QrCode, QrError> {
    Ok(QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)?)
}

/// An SVG document, 8 user units per module, quiet zone included.
pub fn to_svg(payload: &str) -> Result<String, QrError> {
    let code = qr_code(payload)?;
    Ok(code.render::<svg::Color<'_>>().quiet_zone(true).module_dimensions(8, 8).build())
}

/// A grayscale PNG, [`PNG_MODULE_PX`] pixels per module, quiet zone included.
pub fn to_png(payload: &str) -> Result<Vec<u8>, QrError> {
    let code = qr_code(payload)?;
    let image = code.render::<Luma<u8>>().quiet_zone(true).module_dimensions(PNG_MODULE_PX, PNG_MODULE_PX).build();
    let mut png = Vec::new();
    image.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)?;
    Ok(png)
}
