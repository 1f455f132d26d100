//! A small filter language over what a list shows: `price>300k Neighborhood=NridgHt`.
//!
//! Terms are separated by spaces and all must hold. `key op value` compares a field
//! (`=`, `!=`, `>`, `>=`, `<`, `<=`, `~` contains); a bare word must appear somewhere in the
//! row as shown. Keys and text compare case-insensitively; numbers take `k` and `m`
//! suffixes (`300k` = 300000).

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `~`: contains.
    Contains,
}

/// One term of a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// A word anywhere in the shown row.
    Word(String),
    /// A field compared with a value.
    Compare {
        /// Field name, lower case.
        key: String,
        /// How.
        op: Op,
        /// With what (as typed).
        value: String,
    },
}

/// A parsed filter: every term must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// The terms.
    pub terms: Vec<Term>,
}

/// A number as typed in a filter: `300k`, `1.2m`, `$250,000`.
pub fn number(text: &str) -> Option<f64> {
    let t = text
        .trim()
        .trim_start_matches('$')
        .replace(',', "")
        .to_lowercase();
    let (digits, factor) = if let Some(d) = t.strip_suffix('k') {
        (d.to_string(), 1e3)
    } else if let Some(d) = t.strip_suffix('m') {
        (d.to_string(), 1e6)
    } else {
        (t, 1.0)
    };
    digits.parse::<f64>().ok().map(|x| x * factor)
}

impl Filter {
    /// Parses a filter; an ordering against something that is not a number is an error.
    pub fn parse(text: &str) -> Result<Filter, String> {
        let mut terms = Vec::new();
        for word in text.split_whitespace() {
            let found = ["!=", ">=", "<=", "=", ">", "<", "~"]
                .iter()
                .find_map(|op| word.find(op).map(|i| (i, *op)));
            let Some((i, op)) = found.filter(|(i, _)| *i > 0) else {
                terms.push(Term::Word(word.to_lowercase()));
                continue;
            };
            let key = word[..i].to_lowercase();
            let value = word[i + op.len()..].to_string();
            let op = match op {
                "!=" => Op::Ne,
                ">=" => Op::Ge,
                "<=" => Op::Le,
                "=" => Op::Eq,
                ">" => Op::Gt,
                "<" => Op::Lt,
                _ => Op::Contains,
            };
            if matches!(op, Op::Gt | Op::Ge | Op::Lt | Op::Le) && number(&value).is_none() {
                return Err(format!("{word}: {value:?} is not a number"));
            }
            terms.push(Term::Compare { key, op, value });
        }
        Ok(Filter { terms })
    }

    /// Whether a row passes: `field` gives a field's shown value by lower-case name,
    /// `shown` is the whole row as shown.
    pub fn matches(&self, field: &dyn Fn(&str) -> Option<String>, shown: &str) -> bool {
        let shown = shown.to_lowercase();
        self.terms.iter().all(|term| match term {
            Term::Word(w) => shown.contains(w.as_str()),
            Term::Compare { key, op, value } => {
                let Some(actual) = field(key.as_str()) else {
                    return *op == Op::Ne;
                };
                let numbers = (number(&actual), number(value));
                match (op, numbers) {
                    (Op::Contains, _) => actual.to_lowercase().contains(&value.to_lowercase()),
                    (Op::Eq, (Some(a), Some(b))) => a == b,
                    (Op::Ne, (Some(a), Some(b))) => a != b,
                    (Op::Eq, _) => actual.eq_ignore_ascii_case(value),
                    (Op::Ne, _) => !actual.eq_ignore_ascii_case(value),
                    (Op::Gt, (Some(a), Some(b))) => a > b,
                    (Op::Ge, (Some(a), Some(b))) => a >= b,
                    (Op::Lt, (Some(a), Some(b))) => a < b,
                    (Op::Le, (Some(a), Some(b))) => a <= b,
                    _ => false,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str) -> Option<String> {
        match key {
            "price" => Some("312500".into()),
            "neighborhood" => Some("NridgHt".into()),
            "overallqual" => Some("8".into()),
            _ => None,
        }
    }

    fn passes(filter: &str) -> bool {
        Filter::parse(filter)
            .expect("parses")
            .matches(&row, "09:59:00 $312,500 NridgHt 8")
    }

    #[test]
    fn comparisons_take_suffixes_and_are_case_insensitive() {
        assert!(passes("price>300k Neighborhood=NridgHt"));
        assert!(passes("PRICE>=312.5k neighborhood=nridght"));
        assert!(!passes("price>0.4m"));
        assert!(passes("price<=$312,500"));
        assert!(passes("overallqual=8 overallqual!=7"));
        assert!(passes("neighborhood~ridg"));
        assert!(!passes("neighborhood=NAmes"));
    }

    #[test]
    fn bare_words_search_what_is_shown_and_missing_fields_fail() {
        assert!(passes("nridght"));
        assert!(passes("312,500"));
        assert!(!passes("collgcr"));
        assert!(!passes("YearBuilt>1990"));
        assert!(passes("YearBuilt!=1990"));
        assert!(passes(""));
    }

    #[test]
    fn an_ordering_against_a_word_is_an_error() {
        assert!(Filter::parse("price>cheap").is_err());
        assert_eq!(number("1.5m"), Some(1_500_000.0));
    }
}
