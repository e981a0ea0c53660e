//! The embedded font: DejaVu Sans (Bitstream Vera licence, `assets/DejaVuSans-LICENSE.txt`), registered once as
//! plotters' "sans-serif" so that figures render without system font packages.

use plotters::style::{FontStyle, register_font};
use std::sync::Once;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Registers the font (idempotent).
pub fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            // The bytes are a valid TrueType font, checked by the tests; a failure here would only lose text.
            let _ = register_font("sans-serif", style, FONT);
        }
    });
}
