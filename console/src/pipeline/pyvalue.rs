//! Python semantics of YAML values, as DVC (a Python program) compares and prints them.
//!
//! DVC compares a parameter in params.yaml with the value in dvc.lock using Python's `==`
//! (so `1 == 1.0 == True`), and interpolates `${…}` with Python's `str()` (with `true`/`false`
//! for booleans). Matching those rules is what keeps our status identical to `dvc status`.

use serde_yaml::Value;

/// A YAML number or boolean seen as a Python number.
#[derive(Debug, Clone, Copy)]
enum Number {
    Int(i128),
    Float(f64),
}

fn number(value: &Value) -> Option<Number> {
    match value {
        Value::Bool(b) => Some(Number::Int(i128::from(*b))),
        Value::Number(n) => n
            .as_i64()
            .map(|i| Number::Int(i128::from(i)))
            .or_else(|| n.as_u64().map(|u| Number::Int(i128::from(u))))
            .or_else(|| n.as_f64().map(Number::Float)),
        _ => None,
    }
}

/// Python's `==` on two values loaded from YAML (`1 == 1.0`, `True == 1`, nested containers).
pub fn py_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Tagged(t), _) => py_eq(&t.value, b),
        (_, Value::Tagged(t)) => py_eq(a, &t.value),
        (Value::Null, Value::Null) => true,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Sequence(x), Value::Sequence(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        (Value::Mapping(x), Value::Mapping(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|other| py_eq(v, other)))
        }
        _ => match (number(a), number(b)) {
            (Some(Number::Int(x)), Some(Number::Int(y))) => x == y,
            (Some(Number::Int(x)), Some(Number::Float(y)))
            | (Some(Number::Float(y)), Some(Number::Int(x))) => (x as f64) == y,
            (Some(Number::Float(x)), Some(Number::Float(y))) => x == y,
            _ => false,
        },
    }
}

/// Python's `repr()` of a float: shortest round-trip digits, exponent form outside 1e-4..1e16.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    let scientific = format!("{:e}", x.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if x < 0.0 { "-" } else { "" };
    if (-4..16).contains(&exponent) {
        let point = exponent + 1;
        let body = if point <= 0 {
            format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
        } else {
            let point = point as usize;
            if digits.len() <= point {
                format!("{digits}{}.0", "0".repeat(point - digits.len()))
            } else {
                format!("{}.{}", &digits[..point], &digits[point..])
            }
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exponent_sign}{:02}", exponent.abs())
    }
}

/// Python's `str()` of a scalar as DVC interpolates it (`true`/`false`, `None`, float repr).
pub fn scalar_str(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some("None".to_string()),
        Value::Bool(b) => Some(if *b { "true" } else { "false" }.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (None, None, Some(f)) => float_repr(f),
            (None, None, None) => n.to_string(),
        }),
        Value::Tagged(t) => scalar_str(&t.value),
        Value::Sequence(_) | Value::Mapping(_) => None,
    }
}

/// Python's `shlex.quote`: how DVC puts a string value of a dict into a command line.
pub fn shell_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".to_string();
    }
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\"'\"'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).expect("valid YAML")
    }

    #[test]
    fn floats_print_like_python_repr() {
        for (x, python) in [
            (0.0005, "0.0005"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (0.2, "0.2"),
            (42.0, "42.0"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (-2.5, "-2.5"),
            (0.1 + 0.2, "0.30000000000000004"),
        ] {
            assert_eq!(float_repr(x), python, "{x}");
        }
    }

    #[test]
    fn equality_follows_python() {
        assert!(py_eq(&yaml("1"), &yaml("1.0")));
        assert!(py_eq(&yaml("true"), &yaml("1")));
        assert!(!py_eq(&yaml("'1'"), &yaml("1")));
        assert!(py_eq(&yaml("{a: [1, 2.0]}"), &yaml("{a: [1.0, 2]}")));
        assert!(!py_eq(&yaml("{a: 1}"), &yaml("{a: 1, b: 2}")));
        assert!(py_eq(&yaml("null"), &yaml("~")));
    }

    #[test]
    fn strings_are_quoted_like_shlex() {
        assert_eq!(shell_quote("data/train.csv"), "data/train.csv");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\"'\"'s'");
        assert_eq!(shell_quote(""), "''");
    }
}
