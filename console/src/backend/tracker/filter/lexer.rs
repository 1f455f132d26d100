//! The filter tokenizer: identifiers with optionally quoted keys, operators, numbers and
//! quoted strings, with errors that point at the character that was not understood.

use super::super::error::{TrackerError, TrackerResult};
use super::{Literal, Op, invalid};

/// A tiny tokenizer over the filter text.
pub struct Lexer<'a> {
    text: &'a str,
    position: usize,
}

impl<'a> Lexer<'a> {
    /// Starts at the beginning of `text`.
    pub fn new(text: &'a str) -> Self {
        Lexer { text, position: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.position..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.position += rest.len() - rest.trim_start().len();
    }

    /// Whether only blanks are left.
    pub fn at_end(&mut self) -> bool {
        self.skip_space();
        self.rest().is_empty()
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let rest = self.rest();
        let end = rest.find(|c| !keep(c)).unwrap_or(rest.len());
        self.position += end;
        &rest[..end]
    }

    /// Reads a bare word (`and`, `ASC`, `LIKE`).
    pub fn word(&mut self) -> TrackerResult<String> {
        self.skip_space();
        let word = self.take_while(|c| c.is_alphanumeric() || c == '_');
        if word.is_empty() {
            return Err(self.unexpected("a word"));
        }
        Ok(word.to_string())
    }

    fn unexpected(&self, wanted: &str) -> TrackerError {
        let found: String = self.rest().chars().take(20).collect();
        if found.is_empty() {
            invalid(format!("{:?}: expected {wanted} at the end", self.text))
        } else {
            invalid(format!(
                "{:?}: expected {wanted} at {found:?} (character {})",
                self.text,
                self.position + 1
            ))
        }
    }

    /// Reads `entity.key`, the key possibly quoted: returns (entity, key).
    pub fn identifier(&mut self) -> TrackerResult<(String, String)> {
        self.skip_space();
        let start = self.position;
        let entity = self.take_while(|c| c.is_alphanumeric() || c == '_');
        if entity.is_empty() || !self.rest().starts_with('.') {
            self.position = start;
            return Err(self.unexpected("an identifier such as metrics.rmse_log"));
        }
        self.position += 1;
        let key = match self.rest().chars().next() {
            Some(quote @ ('`' | '"')) => self.quoted(quote)?,
            _ => self
                .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'))
                .to_string(),
        };
        Ok((entity.to_string(), key))
    }

    fn quoted(&mut self, quote: char) -> TrackerResult<String> {
        let body = &self.rest()[quote.len_utf8()..];
        match body.find(quote) {
            Some(end) => {
                self.position += quote.len_utf8() * 2 + end;
                Ok(body[..end].to_string())
            }
            None => Err(self.unexpected(&format!("a closing {quote}"))),
        }
    }

    /// Reads a comparison operator.
    pub fn operator(&mut self) -> TrackerResult<Op> {
        self.skip_space();
        for (symbol, op) in [
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("=", Op::Eq),
            ("<", Op::Lt),
            (">", Op::Gt),
        ] {
            if self.rest().starts_with(symbol) {
                self.position += symbol.len();
                return Ok(op);
            }
        }
        let start = self.position;
        match self.word().map(|w| w.to_ascii_uppercase()).as_deref() {
            Ok("LIKE") => Ok(Op::Like),
            Ok("ILIKE") => Ok(Op::ILike),
            _ => {
                self.position = start;
                Err(self.unexpected("a comparison (= != < <= > >= LIKE ILIKE)"))
            }
        }
    }

    /// Reads a number or a quoted string.
    pub fn literal(&mut self) -> TrackerResult<Literal> {
        self.skip_space();
        match self.rest().chars().next() {
            Some(quote @ ('\'' | '"')) => Ok(Literal::Text(self.quoted(quote)?)),
            Some(_) => {
                let start = self.position;
                let number = self
                    .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
                number.parse().map(Literal::Number).map_err(|_| {
                    self.position = start;
                    self.unexpected("a number or a quoted string")
                })
            }
            None => Err(self.unexpected("a value")),
        }
    }
}
