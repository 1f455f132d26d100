//! The data snapshot shipped inside the binary, so `fetch` works offline and anywhere, and
//! smoke tests have a real house to send. A leaf module: every layer may read it.

/// The bundled Ames training data (`datasets/ames.csv`).
pub const DATA: &[u8] = include_bytes!("../../datasets/ames.csv");
