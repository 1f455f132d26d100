//! Small descriptive statistics used when fitting the pipeline and reporting intervals.

/// Median of the values (average of the middle two); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    quantile(values, 0.5)
}

/// Linear-interpolated quantile (NumPy's default method); `None` when empty.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lower = position.floor() as usize;
    let upper = position.ceil() as usize;
    let weight = position - lower as f64;
    Some(sorted[lower] * (1.0 - weight) + sorted[upper] * weight)
}

/// Mean; `None` when empty.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Population standard deviation; `None` when empty.
pub fn std_dev(values: &[f64]) -> Option<f64> {
    let m = mean(values)?;
    let variance = values.iter().map(|x| (x - m).powi(2)).sum::<f64>() / values.len() as f64;
    Some(variance.sqrt())
}

/// Fisher-Pearson skewness (biased, as `scipy.stats.skew`); 0 for constant or empty input.
pub fn skewness(values: &[f64]) -> f64 {
    let Some(m) = mean(values) else {
        return 0.0;
    };
    let n = values.len() as f64;
    let m2 = values.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n;
    let m3 = values.iter().map(|x| (x - m).powi(3)).sum::<f64>() / n;
    if m2 <= f64::EPSILON {
        0.0
    } else {
        m3 / m2.powf(1.5)
    }
}

/// The most frequent item (first seen wins ties); `None` when empty.
pub fn mode<T: PartialEq + Clone>(items: impl IntoIterator<Item = T>) -> Option<T> {
    let mut counts: Vec<(T, usize)> = Vec::new();
    for item in items {
        match counts.iter_mut().find(|(seen, _)| *seen == item) {
            Some((_, count)) => *count += 1,
            None => counts.push((item, 1)),
        }
    }
    let best = counts.iter().map(|(_, c)| *c).max()?;
    counts.into_iter().find(|(_, c)| *c == best).map(|(t, _)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_interpolates_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(median(&v), Some(2.5));
        assert_eq!(quantile(&v, 0.25), Some(1.75));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn skewness_sign_follows_the_long_tail() {
        assert!(skewness(&[1.0, 1.0, 1.0, 10.0]) > 0.0);
        assert!(skewness(&[10.0, 10.0, 10.0, 1.0]) < 0.0);
        assert_eq!(skewness(&[3.0, 3.0]), 0.0);
    }

    #[test]
    fn mode_prefers_the_first_on_ties() {
        assert_eq!(mode(["a", "b", "b", "a"]), Some("a"));
        assert_eq!(mode(["a", "b", "b"]), Some("b"));
        assert_eq!(mode(Vec::<&str>::new()), None);
    }
}
