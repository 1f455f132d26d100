//! The subset of MLflow's run filter and order syntax the SQLite store understands, so a
//! search typed in the console means the same against either store.
//!
//! Filter: clauses joined by `and`, each `<entity>.<key> <op> <value>`, with entity `metrics`,
//! `params`, `tags` or `attributes` (`status`, `run_name`, `run_id`, `start_time`, `end_time`).
//! Keys may be quoted with backticks or double quotes. Metrics and times compare numbers with
//! `= != < <= > >=`; the rest compare strings with `= !=`, `LIKE` or `ILIKE` (`%`, `_`).
//! Order: `<entity>.<key> [ASC|DESC]`; runs without the value come last either way.

use std::cmp::Ordering;

mod lexer;

use super::error::{ErrorKind, TrackerError, TrackerResult};
use super::types::Run;
use lexer::Lexer;

/// What a clause looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// Latest value of a metric.
    Metric(String),
    /// A parameter.
    Param(String),
    /// A tag.
    Tag(String),
    /// A run attribute: `status`, `run_name`, `run_id`, `start_time` or `end_time`.
    Attribute(String),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `LIKE` (case-sensitive pattern)
    Like,
    /// `ILIKE` (case-insensitive pattern)
    ILike,
}

/// A literal on the right of a clause.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A number.
    Number(f64),
    /// A quoted string.
    Text(String),
}

/// One `field op literal` clause.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// What is compared.
    pub field: Field,
    /// How.
    pub op: Op,
    /// With what.
    pub literal: Literal,
}

/// One `field [ASC|DESC]` ordering key.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderKey {
    /// What is sorted on.
    pub field: Field,
    /// Ascending unless `DESC`.
    pub ascending: bool,
}

/// A value read from a run, for comparing and sorting.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Number(f64),
    Text(String),
}

/// A refused filter or order, naming what was not understood.
fn invalid(message: String) -> TrackerError {
    TrackerError::new("search filter", ErrorKind::InvalidInput, message)
}

/// Parses a filter; an empty one matches every run.
pub fn parse_filter(text: &str) -> TrackerResult<Vec<Clause>> {
    let mut lexer = Lexer::new(text);
    let mut clauses = Vec::new();
    if lexer.at_end() {
        return Ok(clauses);
    }
    loop {
        let field = parse_field(&lexer.identifier()?)?;
        let op = lexer.operator()?;
        let literal = lexer.literal()?;
        clauses.push(check_clause(Clause { field, op, literal })?);
        if lexer.at_end() {
            return Ok(clauses);
        }
        let word = lexer.word()?;
        if !word.eq_ignore_ascii_case("and") {
            return Err(invalid(format!(
                "expected `and` between clauses, found {word:?} (only `and` is supported)"
            )));
        }
    }
}

/// Parses one `order_by` entry such as `metrics.rmse_log ASC`.
pub fn parse_order(text: &str) -> TrackerResult<OrderKey> {
    let mut lexer = Lexer::new(text);
    let field = parse_field(&lexer.identifier()?)?;
    let ascending = if lexer.at_end() {
        true
    } else {
        match lexer.word()?.to_ascii_uppercase().as_str() {
            "ASC" => true,
            "DESC" => false,
            other => {
                return Err(invalid(format!(
                    "order {text:?}: expected ASC or DESC, found {other:?}"
                )));
            }
        }
    };
    if !lexer.at_end() {
        return Err(invalid(format!(
            "order {text:?}: unexpected text after the direction"
        )));
    }
    Ok(OrderKey { field, ascending })
}

fn parse_field((entity, key): &(String, String)) -> TrackerResult<Field> {
    if key.is_empty() {
        return Err(invalid(format!("{entity:?} needs a key after the dot")));
    }
    let key = key.clone();
    Ok(match entity.to_ascii_lowercase().as_str() {
        "metric" | "metrics" => Field::Metric(key),
        "param" | "params" | "parameter" | "parameters" => Field::Param(key),
        "tag" | "tags" => Field::Tag(key),
        "attribute" | "attributes" | "attr" | "run" => {
            match key.as_str() {
                "status" | "run_name" | "run_id" | "start_time" | "end_time" => {}
                other => {
                    return Err(invalid(format!(
                        "unknown attribute {other:?}; use status, run_name, run_id, start_time or end_time"
                    )));
                }
            }
            Field::Attribute(key)
        }
        other => {
            return Err(invalid(format!(
                "unknown entity {other:?}; use metrics., params., tags. or attributes."
            )));
        }
    })
}

fn is_numeric(field: &Field) -> bool {
    match field {
        Field::Metric(_) => true,
        Field::Attribute(key) => key == "start_time" || key == "end_time",
        _ => false,
    }
}

fn check_clause(clause: Clause) -> TrackerResult<Clause> {
    let numeric = is_numeric(&clause.field);
    let string_op = matches!(clause.op, Op::Eq | Op::Ne | Op::Like | Op::ILike);
    match (&clause.literal, numeric) {
        (Literal::Number(_), true) if !matches!(clause.op, Op::Like | Op::ILike) => Ok(clause),
        (Literal::Text(_), false) if string_op => Ok(clause),
        _ => Err(invalid(format!(
            "{:?} {:?} {:?}: {} compare {} with {}",
            clause.field,
            clause.op,
            clause.literal,
            if numeric {
                "metrics and times"
            } else {
                "params, tags and text attributes"
            },
            if numeric { "numbers" } else { "quoted strings" },
            if numeric {
                "= != < <= > >="
            } else {
                "= != LIKE ILIKE"
            }
        ))),
    }
}

fn value_of(run: &Run, field: &Field) -> Option<Value> {
    match field {
        Field::Metric(key) => run.metric(key).map(Value::Number),
        Field::Param(key) => run.params.get(key).cloned().map(Value::Text),
        Field::Tag(key) => run.tags.get(key).cloned().map(Value::Text),
        Field::Attribute(key) => match key.as_str() {
            "status" => Some(Value::Text(run.info.status.as_str().to_string())),
            "run_name" => Some(Value::Text(run.info.run_name.clone())),
            "run_id" => Some(Value::Text(run.info.run_id.clone())),
            "start_time" => Some(Value::Number(run.info.start_time as f64)),
            "end_time" => run.info.end_time.map(|t| Value::Number(t as f64)),
            _ => None,
        },
    }
}

/// Whether a run satisfies every clause (a missing metric, param or tag never matches).
pub fn matches(run: &Run, clauses: &[Clause]) -> bool {
    clauses.iter().all(|clause| {
        let Some(value) = value_of(run, &clause.field) else {
            return false;
        };
        match (&value, &clause.literal) {
            (Value::Number(a), Literal::Number(b)) => match clause.op {
                Op::Eq => a == b,
                Op::Ne => a != b,
                Op::Lt => a < b,
                Op::Le => a <= b,
                Op::Gt => a > b,
                Op::Ge => a >= b,
                Op::Like | Op::ILike => false,
            },
            (Value::Text(a), Literal::Text(b)) => match clause.op {
                Op::Eq => a == b,
                Op::Ne => a != b,
                Op::Like => like(a, b),
                Op::ILike => like(&a.to_lowercase(), &b.to_lowercase()),
                _ => false,
            },
            _ => false,
        }
    })
}

/// SQL `LIKE`: `%` is any run of characters, `_` exactly one.
fn like(text: &str, pattern: &str) -> bool {
    fn go(text: &[char], pattern: &[char]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some(('%', rest)) => (0..=text.len()).any(|skip| go(&text[skip..], rest)),
            Some(('_', rest)) => !text.is_empty() && go(&text[1..], rest),
            Some((c, rest)) => text.first() == Some(c) && go(&text[1..], rest),
        }
    }
    let text: Vec<char> = text.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    go(&text, &pattern)
}

/// Orders runs by the keys, missing values last, then newest first, then by run id, as MLflow does.
pub fn compare(a: &Run, b: &Run, order: &[OrderKey]) -> Ordering {
    for key in order {
        let ordering = match (value_of(a, &key.field), value_of(b, &key.field)) {
            (Some(x), Some(y)) => {
                let natural = match (x, y) {
                    (Value::Number(x), Value::Number(y)) => x.total_cmp(&y),
                    (Value::Text(x), Value::Text(y)) => x.cmp(&y),
                    _ => Ordering::Equal,
                };
                if key.ascending {
                    natural
                } else {
                    natural.reverse()
                }
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    b.info
        .start_time
        .cmp(&a.info.start_time)
        .then_with(|| a.info.run_id.cmp(&b.info.run_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_mlflow_forms_used_by_the_console() {
        let clauses = parse_filter(
            "metrics.cv_rmse_log < 0.2 and params.train.alpha = '0.0005' AND tags.`host name` != \"x\"",
        )
        .expect("valid filter");
        assert_eq!(
            clauses,
            vec![
                Clause {
                    field: Field::Metric("cv_rmse_log".into()),
                    op: Op::Lt,
                    literal: Literal::Number(0.2)
                },
                Clause {
                    field: Field::Param("train.alpha".into()),
                    op: Op::Eq,
                    literal: Literal::Text("0.0005".into())
                },
                Clause {
                    field: Field::Tag("host name".into()),
                    op: Op::Ne,
                    literal: Literal::Text("x".into())
                },
            ]
        );
        assert_eq!(
            parse_order("metrics.rmse_log DESC").map(|o| o.ascending),
            Ok(false)
        );
        assert!(parse_filter("").expect("empty filter").is_empty());
    }

    #[test]
    fn refuses_what_it_does_not_understand_with_a_reason() {
        for bad in [
            "metrics.x < 'a'",
            "params.k < 1",
            "metrics.x < 1 or metrics.y > 2",
            "rmse < 1",
            "metrics.x <",
            "attributes.colour = 'red'",
        ] {
            let error = parse_filter(bad).expect_err(bad);
            assert_eq!(error.kind, ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn like_handles_percent_and_underscore() {
        assert!(like("train-2026", "train-%"));
        assert!(like("abc", "a_c"));
        assert!(!like("abc", "a_"));
    }
}
