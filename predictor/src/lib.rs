//! Serves the house-price model over HTTP.
