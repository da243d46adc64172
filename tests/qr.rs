//! QR images decode back to the payload they were made from.

use chatshop::pix::qr::{to_png, to_svg};

const PAYLOAD: &str = "00020101021226740014br.gov.bcb.pix2552payload.psp.com/3ec9d2f9-5f03-4e0e-820d-63a81e769e875204000053039865802BR5914THALES OGLIARI6015SAO MIGUEL DO O62070503***63042895";

fn read_qr(png: &[u8]) -> String {
    let image = image::load_from_memory(png).expect("PNG loads").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    let (_, content) = grids[0].decode().expect("QR decodes");
    content
}

#[test]
fn png_reads_back() {
    let png = to_png(PAYLOAD).expect("PNG");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(read_qr(&png), PAYLOAD);
}

#[test]
fn png_has_quiet_zone_and_module_size() {
    let png = to_png(PAYLOAD).expect("PNG");
    let image = image::load_from_memory(&png).expect("PNG loads").to_luma8();
    // Top-left 4 modules x 8 px are white (quiet zone); the finder pattern starts at 32 px.
    assert!((0..32).all(|i| image.get_pixel(i, i).0[0] == 255));
    assert_eq!(image.get_pixel(32, 32).0[0], 0);
    assert_eq!(image.width() % 8, 0);
}

#[test]
fn largest_payload_fits() {
    let payload = "0".repeat(512);
    assert_eq!(read_qr(&to_png(&payload).expect("PNG")), payload);
}

#[test]
fn svg_is_an_svg_document() {
    let svg = to_svg(PAYLOAD).expect("SVG");
    assert!(svg.contains("<svg"));
    assert!(svg.contains("</svg>"));
}
