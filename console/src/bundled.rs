//! The data snapshot shipped inside the binary, so `fetch` works offline and anywhere, and
//! smoke tests have a real house to send. A leaf module: every layer may read it.

/// The bundled Ames training data (`datasets/ames.csv`).
pub const DATA: &[u8] = include_bytes!("../../datasets/ames.csv");

/// The first house of the bundled data: what every smoke test sends, local or on AWS, so both
/// check the candidate on the same house.
pub fn first_house() -> Result<core_model::House, BundledError> {
    let table = core_model::Table::read(DATA)?;
    table
        .records
        .into_iter()
        .next()
        .map(|r| r.house)
        .ok_or(BundledError::Empty)
}

/// The bundled snapshot does not give a house (only a broken build can cause it).
#[derive(Debug, thiserror::Error)]
pub enum BundledError {
    /// It does not parse.
    #[error("bundled data: {0}")]
    Unreadable(#[from] core_model::dataset::DataError),
    /// It has no rows.
    #[error("the bundled data is empty")]
    Empty,
}
