//! Seeded, reproducible shuffling for the train/test split and cross-validation folds.
//!
//! The generator is SplitMix64, written out here so a seed gives the same split on every
//! platform and every version of every dependency.

/// A tiny deterministic random generator.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// Starts a stream from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform index below `bound` (Lemire's multiply-shift; bias is negligible here).
    pub fn below(&mut self, bound: usize) -> usize {
        ((u128::from(self.next_u64()) * bound as u128) >> 64) as usize
    }
}

/// The indices `0..n` in a seeded random order (Fisher–Yates).
pub fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut rng = SplitMix64::new(seed);
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.below(i + 1);
        order.swap(i, j);
    }
    order
}

/// Splits `0..n` into (train, test) indices, each sorted, with `test_fraction` of rows in test.
pub fn train_test(n: usize, test_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let order = shuffled(n, seed);
    let n_test = ((n as f64) * test_fraction.clamp(0.0, 1.0)).round() as usize;
    let mut test = order[..n_test].to_vec();
    let mut train = order[n_test..].to_vec();
    test.sort_unstable();
    train.sort_unstable();
    (train, test)
}

/// Splits `0..n` into (train, test) indices, each sorted, holding out the `test_fraction` of
/// rows sold most recently. `sold[i]` orders row `i` in time (a larger value is newer; `None`,
/// an unknown date, counts as oldest). Among rows sold in the same period the later row is held
/// out first, because appended rows (closed sales) come after the snapshot they extend.
///
/// This is the split a gate should judge on once production's own sales feed the data: both
/// models are scored on the houses that sold last, the ones most like tomorrow's requests.
pub fn newest<K: Ord + Copy>(sold: &[Option<K>], test_fraction: f64) -> (Vec<usize>, Vec<usize>) {
    let n = sold.len();
    let n_test = ((n as f64) * test_fraction.clamp(0.0, 1.0)).round() as usize;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by(|&a, &b| (sold[b], b).cmp(&(sold[a], a)));
    let mut test = order[..n_test].to_vec();
    let mut train = order[n_test..].to_vec();
    test.sort_unstable();
    train.sort_unstable();
    (train, test)
}

/// Assigns `0..n` to `k` folds of near-equal size; returns each fold's held-out indices.
pub fn folds(n: usize, k: usize, seed: u64) -> Vec<Vec<usize>> {
    let k = k.max(2).min(n.max(2));
    let mut folds = vec![Vec::new(); k];
    for (position, index) in shuffled(n, seed).into_iter().enumerate() {
        folds[position % k].push(index);
    }
    folds.iter_mut().for_each(|f| f.sort_unstable());
    folds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_split_and_different_seed_another() {
        assert_eq!(train_test(100, 0.2, 7), train_test(100, 0.2, 7));
        assert_ne!(train_test(100, 0.2, 7), train_test(100, 0.2, 8));
    }

    #[test]
    fn split_partitions_all_rows_with_the_requested_fraction() {
        let (train, test) = train_test(1460, 0.2, 42);
        assert_eq!(test.len(), 292);
        let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1460).collect::<Vec<_>>());
    }

    #[test]
    fn newest_holds_out_the_latest_sales_and_the_later_row_on_a_tie() {
        // Rows 0..6 sold in periods 3, 1, None, 5, 5, 2: the newest two are rows 4 and 3
        // (period 5, the later row first), then row 0.
        let sold = [Some(3), Some(1), None, Some(5), Some(5), Some(2)];
        assert_eq!(newest(&sold, 0.34), (vec![0, 1, 2, 5], vec![3, 4]));
        assert_eq!(newest(&sold, 0.5), (vec![1, 2, 5], vec![0, 3, 4]));
        let (_, test) = newest(&[Some(1), Some(1), Some(1)], 0.34);
        assert_eq!(test, vec![2]);
        assert_eq!(newest::<u32>(&[], 0.2), (vec![], vec![]));
    }

    #[test]
    fn folds_cover_every_row_once() {
        let folds = folds(23, 5, 1);
        assert_eq!(folds.len(), 5);
        let mut all: Vec<usize> = folds.concat();
        all.sort_unstable();
        assert_eq!(all, (0..23).collect::<Vec<_>>());
        assert!(folds.iter().all(|f| f.len() == 4 || f.len() == 5));
    }
}
