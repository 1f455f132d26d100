//! Name matching beyond the exact spellings: the loose rule of the lookup (case and
//! separators ignored) and the suggestions for an unknown name (edit distance).

use super::COLUMNS;

/// Separators ignored by the loosest name lookup.
pub(super) fn is_separator(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'/' | b'_' | b'-')
}

/// Case-insensitive equality ignoring separators.
pub(super) fn loose_eq(a: &str, b: &str) -> bool {
    let squash = |s: &str| {
        s.bytes()
            .filter(|&b| !is_separator(b))
            .map(|b| b.to_ascii_lowercase())
            .collect::<Vec<u8>>()
    };
    let (a, b) = (squash(a), squash(b));
    !a.is_empty() && a == b
}

/// Lowercase ASCII letters and digits of a name.
fn letters_digits(s: &str) -> Vec<u8> {
    s.bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.to_ascii_lowercase())
        .collect()
}

/// Levenshtein distance between two byte strings.
fn levenshtein(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Up to 3 Kaggle column names closest to an unknown name (edit distance
/// on lowercase letters/digits against both spellings), best first. Only
/// names within a third of the longer length (at least 1 edit) are kept.
pub fn close_matches(name: &str) -> Vec<&'static str> {
    let query = letters_digits(name);
    if query.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(usize, usize)> = COLUMNS
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            [c.name, c.decock]
                .iter()
                .filter_map(|candidate| {
                    let candidate = letters_digits(candidate);
                    let distance = levenshtein(&query, &candidate);
                    let limit = (query.len().max(candidate.len()) / 3).max(1);
                    (distance <= limit).then_some(distance)
                })
                .min()
                .map(|distance| (distance, i))
        })
        .collect();
    scored.sort_unstable();
    scored
        .into_iter()
        .take(3)
        .map(|(_, i)| COLUMNS[i].name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_matches_suggests_near_names() {
        let m = close_matches("GrLivArae");
        assert_eq!(m.first(), Some(&"GrLivArea"));
        assert!(m.len() <= 3);
        assert_eq!(close_matches("1st flr sf").first(), Some(&"1stFlrSF"));
        assert_eq!(
            close_matches("Neighbourhood").first(),
            Some(&"Neighborhood")
        );
        assert_eq!(
            close_matches("KitchenQuality").first(),
            Some(&"KitchenQual")
        );
        assert!(close_matches("zzzzzzzz").is_empty());
        assert!(close_matches("").is_empty());
        assert_eq!(levenshtein(b"kitten", b"sitting"), 3);
        assert_eq!(levenshtein(b"", b"abc"), 3);
    }
}
