//! Predict view: a form built from the model's schema (`GET /model`), sent to the endpoint and
//! to the local core-model side by side.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState, Wrap};

use super::{DrawContext, Intent, View};
use crate::tui::action::Command;
use crate::tui::widgets::status::{Remote, dollars, status_line};

/// Fields shown before "all fields" is toggled on.
pub const FIRST_FIELDS: usize = 14;

/// One field of the form.
#[derive(Debug, Clone, PartialEq)]
pub struct FormField {
    /// Field name sent in the request.
    pub name: String,
    /// Help text.
    pub description: String,
    /// `integer`, `real`, `ordinal` or `nominal`.
    pub kind: String,
    /// Levels `(code, label)` of categorical fields.
    pub levels: Vec<(String, String)>,
    /// Unit of numeric fields.
    pub unit: Option<String>,
    /// What the model imputes when empty.
    pub default: String,
    /// Smallest plausible value of a numeric field.
    pub min: Option<f64>,
    /// Largest plausible value of a numeric field.
    pub max: Option<f64>,
}

impl FormField {
    /// Whether values are picked from levels.
    pub fn is_select(&self) -> bool {
        !self.levels.is_empty()
    }

    /// The label of a level code (the code itself when undocumented).
    pub fn label<'a>(&'a self, code: &'a str) -> &'a str {
        self.levels
            .iter()
            .find(|(c, _)| c == code)
            .map_or(code, |(_, l)| l.as_str())
    }

    /// Whether typed text is a value the model takes: empty (imputed), a number of the
    /// right kind within the plausible range, or a level named by code or label.
    pub fn validate(&self, text: &str) -> Result<(), String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(());
        }
        if self.is_select() {
            return self
                .level_matching(text)
                .map(|_| ())
                .ok_or_else(|| format!("no level matches {text:?}"));
        }
        let x: f64 = text.parse().map_err(|_| "not a number".to_string())?;
        if self.kind == "integer" && x.fract() != 0.0 {
            return Err("a whole number".to_string());
        }
        let unit = self
            .unit
            .as_deref()
            .map(|u| format!(" {u}"))
            .unwrap_or_default();
        match (self.min, self.max) {
            (Some(lo), Some(hi)) if x < lo || x > hi => Err(format!(
                "between {} and {}{unit}",
                core_model::house::format_number(lo),
                core_model::house::format_number(hi)
            )),
            (Some(lo), None) if x < lo => Err(format!(
                "at least {}{unit}",
                core_model::house::format_number(lo)
            )),
            (None, Some(hi)) if x > hi => Err(format!(
                "at most {}{unit}",
                core_model::house::format_number(hi)
            )),
            _ => Ok(()),
        }
    }

    /// The first level whose code or label starts with `query` (else contains it),
    /// case-insensitive: type-to-search over levels.
    pub fn level_matching(&self, query: &str) -> Option<&str> {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return None;
        }
        let starts = self.levels.iter().find(|(c, l)| {
            c.to_lowercase() == q
                || l.to_lowercase().starts_with(&q)
                || c.to_lowercase().starts_with(&q)
        });
        starts
            .or_else(|| {
                self.levels
                    .iter()
                    .find(|(c, l)| l.to_lowercase().contains(&q) || c.to_lowercase().contains(&q))
            })
            .map(|(c, _)| c.as_str())
    }

    /// The range and unit as a hint (`1–10 grade`, `sq ft`).
    pub fn hint(&self) -> String {
        let unit = self.unit.clone().unwrap_or_default();
        match (self.min, self.max) {
            (Some(lo), Some(hi)) => format!(
                "{}–{} {unit}",
                core_model::house::format_number(lo),
                core_model::house::format_number(hi)
            )
            .trim()
            .to_string(),
            _ => unit,
        }
    }
}

/// The form's schema, most important fields first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FormSchema {
    /// Model id the schema belongs to.
    pub model_id: String,
    /// Fields.
    pub fields: Vec<FormField>,
}

/// A house of the held-out split, read through core-model like training reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct TestHouse {
    /// Its fields as the form takes them (Kaggle names; `Id` and `SalePrice` are not fields).
    pub input: serde_json::Value,
    /// Its sale price.
    pub actual: f64,
    /// Its `Id`, when the file has one.
    pub id: Option<i64>,
    /// Its position among the test houses (from 0).
    pub index: usize,
    /// How many test houses there are.
    pub total: usize,
}

/// Where the split stage writes the held-out houses, relative to the project root.
pub const TEST_HOUSES: &str = "data/test.csv";

/// The test house at `index` (counting round) of a table read by core-model; an error names
/// what is missing.
pub fn test_house(table: &core_model::dataset::Table, index: usize) -> Result<TestHouse, String> {
    let priced: Vec<&core_model::dataset::Record> =
        table.records.iter().filter(|r| r.price.is_some()).collect();
    if priced.is_empty() {
        return Err(format!("{TEST_HOUSES} has no house with a SalePrice"));
    }
    let index = index % priced.len();
    let record = priced[index];
    Ok(TestHouse {
        input: serde_json::Value::Object(record.house.to_json()),
        actual: record.price.unwrap_or(f64::NAN),
        id: record.id,
        index,
        total: priced.len(),
    })
}

/// What came back from a test prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictOutcome {
    /// Price from the deployed endpoint, or why it failed.
    pub remote: Result<RemoteReply, String>,
    /// Price from the local core-model for the same input.
    pub local_price: Result<f64, String>,
}

/// The endpoint's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteReply {
    /// Price.
    pub price: f64,
    /// Interval bounds.
    pub low: f64,
    /// Interval bounds.
    pub high: f64,
    /// Model that answered.
    pub model_id: String,
    /// Round trip, milliseconds.
    pub latency_ms: f64,
    /// Fields the model filled in.
    pub imputed: Vec<String>,
    /// Levels it did not know.
    pub unknown_levels: Vec<String>,
    /// Whether the record was stored.
    pub stored: bool,
    /// Nominal coverage of the range.
    pub level: f64,
    /// How the range was made (`normalised_conformal` or `fixed`).
    pub method: String,
    /// Why this price.
    pub explanation: core_model::explain::Explanation,
    /// The most similar training sales.
    pub comparables: Vec<core_model::comparables::Comparable>,
}

impl RemoteReply {
    /// From the endpoint's typed reply, with the measured round trip.
    pub fn from_wire(reply: predictor::wire::PredictReply, latency_ms: f64) -> RemoteReply {
        RemoteReply {
            price: reply.price,
            low: reply.interval.low,
            high: reply.interval.high,
            model_id: reply.model.id,
            latency_ms,
            imputed: reply.imputed,
            unknown_levels: reply.unknown_levels,
            stored: reply.stored,
            level: reply.interval.level,
            method: reply.interval.method,
            explanation: reply.explanation,
            comparables: reply.comparables,
        }
    }
}

/// State of the Predict view.
#[derive(Debug, Default)]
pub struct PredictView {
    /// The schema.
    pub schema: Remote<FormSchema>,
    values: Vec<String>,
    table: TableState,
    show_all: bool,
    /// The last outcome.
    pub outcome: Remote<PredictOutcome>,
    /// A field is being edited in place (a number typed, or a level searched by name).
    pub editing: bool,
    /// The text being edited: committed by enter, ↑/↓ or tab, discarded by esc.
    buffer: String,
    /// Nothing typed yet: the first keystroke replaces the value.
    fresh: bool,
    /// The price of the estimate before the last one, for the change.
    previous_price: Option<f64>,
    /// A held-out test house's actual price, when the form holds one.
    pub actual: Option<f64>,
    /// A house to fill in once the schema arrives.
    pending: Option<(serde_json::Value, Option<f64>)>,
    /// The held-out test house the form holds (`t`), until another house is loaded.
    pub test_house: Option<TestHouse>,
    /// The test house `t` asks for next.
    next_test: usize,
}

impl PredictView {
    /// Takes the schema, keeping values typed for fields that still exist.
    pub fn on_schema(&mut self, result: Result<FormSchema, String>, now: std::time::Instant) {
        if let Ok(schema) = &result {
            let old: Vec<(String, String)> = self
                .schema
                .data()
                .map(|s| {
                    s.fields
                        .iter()
                        .map(|f| f.name.clone())
                        .zip(self.values.iter().cloned())
                        .collect()
                })
                .unwrap_or_default();
            self.values = schema
                .fields
                .iter()
                .map(|f| {
                    old.iter()
                        .find(|(n, _)| *n == f.name)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                })
                .collect();
            self.table.select(Some(0));
        }
        self.schema.finish(result, now);
        if let Some((input, actual)) = self.pending.take() {
            let test_house = self.test_house.take();
            self.load_house(&input, actual);
            self.test_house = test_house;
        }
    }

    /// Takes a held-out test house: fills the form with it and its sale price; the next `t`
    /// asks for the one after it. Returns the fields given.
    pub fn on_test_house(&mut self, house: TestHouse) -> usize {
        let filled = self.load_house(&house.input, Some(house.actual));
        self.next_test = house.index + 1;
        self.test_house = Some(house);
        filled
    }

    /// Takes a prediction outcome.
    pub fn on_outcome(&mut self, result: Result<PredictOutcome, String>, now: std::time::Instant) {
        self.previous_price = self
            .outcome
            .data()
            .and_then(|o| o.remote.as_ref().ok())
            .map(|r| r.price);
        self.outcome.finish(result, now);
    }

    /// Fills the form from a stored record's inputs (or a test house): every field the
    /// record gives, the rest left to imputation; `actual` is a known sale price.
    pub fn load_house(&mut self, input: &serde_json::Value, actual: Option<f64>) -> usize {
        // Another house: the last estimate (and its test house) was of the one before.
        self.test_house = None;
        self.outcome = Remote::Idle;
        self.previous_price = None;
        let Some(schema) = self.schema.data() else {
            self.pending = Some((input.clone(), actual));
            self.actual = actual;
            return 0;
        };
        let mut filled = 0;
        self.values = schema
            .fields
            .iter()
            .map(|f| match input.get(&f.name) {
                Some(serde_json::Value::String(s)) => {
                    filled += 1;
                    s.clone()
                }
                Some(serde_json::Value::Number(n)) => {
                    filled += 1;
                    n.as_f64()
                        .map(core_model::house::format_number)
                        .unwrap_or_else(|| n.to_string())
                }
                _ => String::new(),
            })
            .collect();
        self.actual = actual;
        self.editing = false;
        filled
    }

    /// The field under the cursor.
    fn field(&self, index: usize) -> Option<FormField> {
        self.schema
            .data()
            .and_then(|s| s.fields.get(index))
            .cloned()
    }

    /// The edit's problem, if any (shown beside the field as it is typed).
    pub fn edit_error(&self) -> Option<String> {
        if !self.editing {
            return None;
        }
        let field = self.field(self.table.selected().unwrap_or(0))?;
        field.validate(&self.buffer).err()
    }

    /// Ends the edit: keeps a valid value (a level found by name becomes its code);
    /// returns false (and keeps editing) when the text is not valid.
    fn commit(&mut self) -> bool {
        let selected = self.table.selected().unwrap_or(0);
        let Some(field) = self.field(selected) else {
            self.editing = false;
            return true;
        };
        if field.validate(&self.buffer).is_err() {
            return false;
        }
        let value = if field.is_select() {
            field
                .level_matching(&self.buffer)
                .map(str::to_string)
                .unwrap_or_default()
        } else {
            self.buffer.trim().to_string()
        };
        if let Some(slot) = self.values.get_mut(selected) {
            *slot = value;
        }
        self.editing = false;
        true
    }

    fn start_edit(&mut self, selected: usize) {
        self.editing = true;
        self.fresh = true;
        self.buffer = self.values.get(selected).cloned().unwrap_or_default();
        if let Some(field) = self.field(selected).filter(FormField::is_select) {
            self.buffer = field.label(&self.buffer).to_string();
        }
    }

    fn edit_key(&mut self, key: KeyEvent, selected: usize) -> Option<Intent> {
        match key.code {
            KeyCode::Esc => self.editing = false,
            KeyCode::Enter => {
                self.commit();
            }
            KeyCode::Down | KeyCode::Up | KeyCode::Tab | KeyCode::BackTab if self.commit() => {
                let last = self.shown().saturating_sub(1);
                let next = if matches!(key.code, KeyCode::Down | KeyCode::Tab) {
                    (selected + 1).min(last)
                } else {
                    selected.saturating_sub(1)
                };
                self.table.select(Some(next));
                self.start_edit(next);
            }
            KeyCode::Backspace => {
                self.fresh = false;
                self.buffer.pop();
            }
            KeyCode::Char(c) => {
                if self.fresh {
                    self.buffer.clear();
                    self.fresh = false;
                }
                self.buffer.push(c);
            }
            _ => {}
        }
        None
    }

    /// Sets a field's value by name (used by tests and scripted input).
    pub fn set_value(&mut self, name: &str, value: &str) -> bool {
        let Some(index) = self
            .schema
            .data()
            .and_then(|s| s.fields.iter().position(|f| f.name == name))
        else {
            return false;
        };
        if let Some(slot) = self.values.get_mut(index) {
            *slot = value.to_string();
        }
        true
    }

    fn shown(&self) -> usize {
        let n = self.schema.data().map_or(0, |s| s.fields.len());
        if self.show_all {
            n
        } else {
            n.min(FIRST_FIELDS)
        }
    }

    /// The request body: the filled fields, numbers as numbers.
    pub fn body(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        if let Some(schema) = self.schema.data() {
            for (field, value) in schema.fields.iter().zip(&self.values) {
                if value.is_empty() {
                    continue;
                }
                let json = match (
                    field.is_select(),
                    value.parse::<i64>(),
                    value.parse::<f64>(),
                ) {
                    (false, Ok(n), _) => serde_json::json!(n),
                    (false, _, Ok(x)) => serde_json::json!(x),
                    _ => serde_json::Value::String(value.clone()),
                };
                map.insert(field.name.clone(), json);
            }
        }
        serde_json::Value::Object(map)
    }
}

impl View for PredictView {
    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("s", "send the prediction"),
            ("↑/↓", "field"),
            (
                "enter",
                "edit (type a number or a level's name; esc discards)",
            ),
            ("←/→", "previous / next level or number"),
            ("x", "clear (impute)"),
            (
                "t",
                "test house (the next held-out one, with its sale price)",
            ),
            ("a", "all fields / important only"),
            ("r", "reload schema"),
        ]
    }

    fn on_enter(&mut self, now: std::time::Instant) -> Option<Command> {
        if matches!(self.schema, Remote::Idle) {
            self.reload(now)
        } else {
            None
        }
    }

    fn reload(&mut self, now: std::time::Instant) -> Option<Command> {
        self.schema.start(now);
        Some(Command::LoadSchema)
    }

    fn capturing_text(&self) -> bool {
        self.editing
    }

    fn handle_key(&mut self, key: KeyEvent, now: std::time::Instant) -> Option<Intent> {
        let selected = self.table.selected().unwrap_or(0);
        let field = self
            .schema
            .data()
            .and_then(|s| s.fields.get(selected))
            .cloned();
        if self.editing {
            return self.edit_key(key, selected);
        }
        match key.code {
            KeyCode::Down | KeyCode::Char('j') => self
                .table
                .select(Some((selected + 1).min(self.shown().saturating_sub(1)))),
            KeyCode::Up | KeyCode::Char('k') => self.table.select(Some(selected.saturating_sub(1))),
            KeyCode::Char('a') => {
                self.show_all = !self.show_all;
                self.table
                    .select(Some(selected.min(self.shown().saturating_sub(1))));
            }
            KeyCode::Char('r') => return self.reload(now).map(Intent::Run),
            KeyCode::Char('t') => {
                return Some(Intent::Run(Command::LoadTestHouse {
                    index: self.next_test,
                }));
            }
            KeyCode::Char('s') => {
                if self.schema.data().is_none() {
                    return Some(Intent::Note(
                        "the form has no schema yet: r to load it".to_string(),
                    ));
                }
                self.outcome.start(now);
                return Some(Intent::Run(Command::SubmitPrediction(self.body())));
            }
            KeyCode::Enter | KeyCode::Char('i') if field.is_some() => self.start_edit(selected),
            KeyCode::Backspace | KeyCode::Char('x') => {
                if let Some(value) = self.values.get_mut(selected) {
                    value.clear();
                }
            }
            KeyCode::Left | KeyCode::Right
                if field
                    .as_ref()
                    .is_some_and(|f| !f.is_select() && f.kind == "integer") =>
            {
                // Whole numbers step by one from the value (or the imputed default),
                // within the plausible range.
                if let (Some(field), Some(value)) = (field, self.values.get_mut(selected)) {
                    let from = value
                        .parse::<f64>()
                        .or_else(|_| field.default.parse::<f64>())
                        .unwrap_or(0.0);
                    let step = if key.code == KeyCode::Right {
                        1.0
                    } else {
                        -1.0
                    };
                    let next = (from + step)
                        .max(field.min.unwrap_or(f64::MIN))
                        .min(field.max.unwrap_or(f64::MAX));
                    *value = core_model::house::format_number(next);
                }
            }
            KeyCode::Left | KeyCode::Right => {
                if let (Some(field), Some(value)) = (
                    field.filter(FormField::is_select),
                    self.values.get_mut(selected),
                ) {
                    let codes: Vec<&str> = std::iter::once("")
                        .chain(field.levels.iter().map(|(c, _)| c.as_str()))
                        .collect();
                    let at = codes.iter().position(|c| c == value).unwrap_or(0);
                    let next = if key.code == KeyCode::Right {
                        (at + 1) % codes.len()
                    } else {
                        (at + codes.len() - 1) % codes.len()
                    };
                    *value = codes[next].to_string();
                }
            }
            _ => {}
        }
        None
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, ctx: &DrawContext) {
        let theme = &ctx.theme;
        let [status, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(area);
        frame.render_widget(
            Paragraph::new(status_line(&self.schema, ctx.now, ctx.frozen, theme, "r")),
            status,
        );
        let Some(schema) = self.schema.data() else {
            let message = if self.schema.is_loading() {
                "loading the model's schema (GET /model)…"
            } else {
                "no schema: r to retry"
            };
            frame.render_widget(
                Paragraph::new(Span::styled(message, theme.dim())).centered(),
                body,
            );
            return;
        };
        let [form, result] =
            Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)])
                .areas(body);
        let selected = self.table.selected().unwrap_or(0);
        let rows: Vec<Row> = schema
            .fields
            .iter()
            .zip(&self.values)
            .take(self.shown())
            .enumerate()
            .map(|(i, (f, v))| {
                let value = if self.editing && i == selected {
                    // Edit in place: the text, what it names, and what is wrong with it.
                    let mut spans = vec![Span::styled(format!("{}▏", self.buffer), theme.warn())];
                    match f.validate(&self.buffer) {
                        Err(e) => spans.push(Span::styled(format!(" ✗ {e}"), theme.error())),
                        Ok(()) if f.is_select() => {
                            if let Some(code) = f.level_matching(&self.buffer) {
                                spans.push(Span::styled(
                                    format!(" → {} ({code})", f.label(code)),
                                    theme.ok(),
                                ));
                            }
                        }
                        Ok(()) => spans.push(Span::styled(format!(" {}", f.hint()), theme.dim())),
                    }
                    Line::from(spans)
                } else if v.is_empty() {
                    let default = match f.default.as_str() {
                        "" => "imputed".to_string(),
                        "NA" if f.is_select() => "imputed: none".to_string(),
                        d if f.is_select() => format!("imputed: {}", f.label(d)),
                        d => format!("imputed: {d}"),
                    };
                    Line::from(Span::styled(format!("({default})"), theme.dim()))
                } else if f.is_select() {
                    Line::from(format!("‹ {} ›", f.label(v)))
                } else {
                    Line::from(format!("{v} {}", f.unit.as_deref().unwrap_or("")))
                };
                Row::new(vec![Line::from(f.name.clone()), value])
            })
            .collect();
        let title = format!(
            " {} · {} of {} fields · a {} ",
            match &self.test_house {
                Some(h) => format!(
                    "test house {}{} of {}",
                    h.id.map(|id| format!("Id {id} · ")).unwrap_or_default(),
                    h.index + 1,
                    h.total
                ),
                None => "house".to_string(),
            },
            self.shown(),
            schema.fields.len(),
            if self.show_all {
                "important only"
            } else {
                "all fields"
            }
        );
        let table = Table::new(rows, [Constraint::Length(14), Constraint::Min(10)])
            .row_highlight_style(theme.selected())
            .block(Block::default().borders(Borders::ALL).title(title));
        frame.render_stateful_widget(table, form, &mut self.table);

        let mut lines: Vec<Line> = Vec::new();
        if let Some(field) = self.table.selected().and_then(|i| schema.fields.get(i)) {
            let hint = field.hint();
            lines.push(Line::from(Span::styled(
                if hint.is_empty() {
                    field.description.clone()
                } else {
                    format!("{} · {hint}", field.description)
                },
                theme.dim(),
            )));
            lines.push(Line::from(""));
        }
        match (&self.outcome, self.outcome.data()) {
            (Remote::Loading { .. }, _) => {
                lines.push(Line::from(Span::styled("predicting…", theme.warn())))
            }
            (Remote::Failed { error, .. }, _) => lines.push(Line::from(Span::styled(
                format!("error: {error}"),
                theme.error(),
            ))),
            (_, Some(outcome)) => lines.extend(outcome_lines(
                outcome,
                self.previous_price,
                self.actual,
                ctx,
            )),
            _ => match (&self.test_house, self.actual) {
                (Some(h), Some(actual)) => {
                    lines.push(Line::from(Span::styled(
                        format!(
                            "held-out test house {}{} of {}: sold for {}",
                            h.id.map(|id| format!("Id {id}, ")).unwrap_or_default(),
                            h.index + 1,
                            h.total,
                            dollars(actual)
                        ),
                        theme.accent(),
                    )));
                    lines.push(Line::from(Span::styled(
                        "s sends it (the result shows the error) · t the next one",
                        theme.dim(),
                    )));
                }
                _ => lines.push(Line::from(Span::styled(
                    "fill what you know, then s to send · t loads a held-out test house",
                    theme.dim(),
                ))),
            },
        }
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: true })
                .block(Block::default().borders(Borders::ALL).title(" result ")),
            result,
        );
    }
}

fn outcome_lines(
    outcome: &PredictOutcome,
    previous: Option<f64>,
    actual: Option<f64>,
    ctx: &DrawContext,
) -> Vec<Line<'static>> {
    let theme = &ctx.theme;
    let mut lines = Vec::new();
    match &outcome.remote {
        Ok(reply) => {
            lines.push(Line::from(vec![
                Span::raw("endpoint   "),
                Span::styled(dollars(reply.price), theme.accent()),
            ]));
            lines.push(Line::from(format!(
                "{:.0}% range  {} – {}",
                reply.level * 100.0,
                dollars(reply.low),
                dollars(reply.high)
            )));
            if let Some(before) = previous {
                let change = reply.price - before;
                lines.push(Line::from(Span::styled(
                    format!(
                        "change     {}{} from the last estimate",
                        if change < 0.0 { "-" } else { "+" },
                        dollars(change.abs())
                    ),
                    theme.dim(),
                )));
            }
            if let Some(actual) = actual {
                lines.push(Line::from(Span::styled(
                    format!(
                        "actual     {} (error {:+.1} %)",
                        dollars(actual),
                        100.0 * (reply.price - actual) / actual
                    ),
                    theme.accent(),
                )));
            }
            if !reply.method.is_empty() {
                lines.push(Line::from(Span::styled(
                    format!("method     {}", reply.method.replace('_', " ")),
                    theme.dim(),
                )));
            }
            lines.push(Line::from(format!("model      {}", reply.model_id)));
            lines.push(Line::from(format!(
                "latency    {:.1} ms",
                if ctx.frozen { 0.0 } else { reply.latency_ms }
            )));
            lines.push(Line::from(format!(
                "stored     {}",
                if reply.stored {
                    "yes"
                } else {
                    "NO (logged instead)"
                }
            )));
        }
        Err(e) => lines.push(Line::from(Span::styled(
            format!("endpoint error: {e}"),
            theme.error(),
        ))),
    }
    match &outcome.local_price {
        Ok(p) => lines.push(Line::from(format!("core-model {}", dollars(*p)))),
        Err(e) => lines.push(Line::from(Span::styled(
            format!("core-model error: {e}"),
            theme.error(),
        ))),
    }
    if let (Ok(reply), Ok(local)) = (&outcome.remote, &outcome.local_price) {
        if reply.price.to_bits() == local.to_bits() {
            lines.push(Line::from(Span::styled(
                "agree: identical to the last bit",
                theme.ok(),
            )));
        } else {
            lines.push(Line::from(Span::styled(
                format!(
                    "DISAGREE by ${:.2}: the endpoint serves another model or code",
                    reply.price - local
                ),
                theme.error(),
            )));
        }
        if !reply.imputed.is_empty() {
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(
                format!(
                    "imputed {} fields: {}{}",
                    reply.imputed.len(),
                    reply
                        .imputed
                        .iter()
                        .take(12)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                    if reply.imputed.len() > 12 {
                        format!(" +{} more", reply.imputed.len() - 12)
                    } else {
                        String::new()
                    }
                ),
                theme.dim(),
            )));
        }
        if !reply.unknown_levels.is_empty() {
            lines.push(Line::from(Span::styled(
                format!("unknown levels: {}", reply.unknown_levels.join(", ")),
                theme.warn(),
            )));
        }
    }
    if let Ok(reply) = &outcome.remote {
        lines.extend(explanation_lines(reply, ctx));
    }
    lines
}

/// The largest contributions and the comparable sales, as the web page shows them.
fn explanation_lines(reply: &RemoteReply, ctx: &DrawContext) -> Vec<Line<'static>> {
    let theme = &ctx.theme;
    let mut lines = Vec::new();
    let contributions = &reply.explanation.contributions;
    if !contributions.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            format!(
                "why (from {}, the average house)",
                dollars(reply.explanation.base_log.exp())
            ),
            theme.accent(),
        )));
        for c in contributions.iter().take(6) {
            let style = if c.log >= 0.0 {
                theme.ok()
            } else {
                theme.warn()
            };
            lines.push(Line::from(vec![
                Span::raw(format!("{:<13}{:>8} ", c.feature, c.value.to_string())),
                Span::styled(format!("{:+.1} %", c.percent), style),
            ]));
        }
        if contributions.len() > 6 {
            lines.push(Line::from(Span::styled(
                format!("… and {} smaller", contributions.len() - 6),
                theme.dim(),
            )));
        }
    }
    if !reply.comparables.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            "comparable sales → adjusted to this house",
            theme.accent(),
        )));
        for comp in &reply.comparables {
            lines.push(Line::from(format!(
                "#{:<5}{} {:>5.0} sq ft ${:.0}k → ${:.0}k",
                comp.id,
                comp.sold,
                comp.fields.GrLivArea,
                comp.sale_price / 1000.0,
                comp.adjusted_price / 1000.0
            )));
        }
    }
    lines
}
