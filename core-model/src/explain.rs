//! Why a house gets its price: additive contributions in ln(price), one per input field.
//!
//! Each part of the estimator is explained exactly and the parts are combined with the blend
//! weights applied to this house:
//! - the linear model: feature `j` contributes `w_j · (x_j − μ_j)`, with `x_j` the encoded (so
//!   clipped and scaled) feature and `μ_j` its mean over the training rows; the base is the
//!   model's ln price of the mean encoded house;
//! - the trees: path-dependent TreeSHAP (Lundberg et al. 2018, algorithm 2) with the training
//!   row counts stored in every node as the background distribution; the base is the
//!   count-weighted mean leaf of each tree.
//!
//! Features are grouped back to the field they come from: every one-hot column
//! `Neighborhood=…` and the tree input `Neighborhood` become `Neighborhood`; engineered features
//! (`TotalSF`, `HouseAge`, …) are their own group. So `base_log + Σ log = ln(price)` holds up to
//! rounding, for the price actually returned.

use serde::{Deserialize, Serialize};

use crate::derived::Derived;
use crate::encode::Source;
use crate::fill::Filled;
use crate::gbm::{Gbm, Tree, TreeInput};
use crate::model::LinearModel;
use crate::schema::{self, COLUMNS, Kind};

/// A field's value as the model used it (after filling gaps, before clipping).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    /// A number, a count, a year, or an engineered total.
    Number(f64),
    /// A level code (`CollgCr`, `Gd`, `NA` for none).
    Level(String),
}

impl std::fmt::Display for FieldValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldValue::Number(x) => f.write_str(&crate::house::format_number(*x)),
            FieldValue::Level(code) => f.write_str(code),
        }
    }
}

/// One field's share of the price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The field (Kaggle column name) or engineered feature (`TotalSF`).
    pub feature: String,
    /// Its value for this house.
    pub value: FieldValue,
    /// Its additive contribution to ln(price).
    pub log: f64,
    /// The same as a change of the price: `(e^log − 1) × 100` percent.
    pub percent: f64,
}

/// Why this price: `base_log + Σ contributions.log = ln(price)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// ln(price) of the average training house, the starting point.
    pub base_log: f64,
    /// Every field with a non-zero contribution, largest absolute effect first.
    pub contributions: Vec<Contribution>,
}

/// Number of contribution groups: every schema column, then every engineered feature.
const GROUPS: usize = COLUMNS.len() + Derived::ALL.len();

fn derived_group(derived: Derived) -> usize {
    COLUMNS.len() + Derived::ALL.iter().position(|d| *d == derived).unwrap_or(0)
}

/// The group of a linear feature.
fn source_group(source: &Source) -> Option<usize> {
    match source {
        Source::Value { column } | Source::Level { column, .. } | Source::Equals { column, .. } => {
            schema::column_index(column)
        }
        Source::Derived { derived } => Some(derived_group(*derived)),
    }
}

/// The group of a tree input.
fn input_group(input: &TreeInput) -> Option<usize> {
    match input {
        TreeInput::Value { column } | TreeInput::Level { column, .. } => {
            schema::column_index(column)
        }
        TreeInput::Derived { derived } => Some(derived_group(*derived)),
    }
}

fn group_name(group: usize) -> &'static str {
    match COLUMNS.get(group) {
        Some(column) => column.name,
        None => Derived::ALL[group - COLUMNS.len()].name(),
    }
}

fn group_value(group: usize, filled: &Filled) -> FieldValue {
    match COLUMNS.get(group) {
        Some(column) if matches!(column.kind, Kind::Ordinal | Kind::Nominal) => {
            FieldValue::Level(filled.levels[group].to_string())
        }
        Some(_) => FieldValue::Number(filled.numbers[group]),
        None => FieldValue::Number(Derived::ALL[group - COLUMNS.len()].value(filled)),
    }
}

/// Per-group contributions of one part, before weighting.
pub struct PartExplanation {
    /// The part's ln price of the average training house.
    pub base: f64,
    /// Contribution of each group (index: schema column, then engineered feature).
    pub groups: Vec<f64>,
}

/// The linear model's exact contributions: `w_j (x_j − μ_j)` summed per field.
///
/// `features` is the encoded house, `means` the mean encoded training house (zeros when the
/// artifact has none: the base is then the house with every feature at zero).
pub fn linear<'a>(
    model: &LinearModel,
    sources: impl Iterator<Item = &'a Source>,
    features: &[f64],
    means: &[f64],
) -> PartExplanation {
    let mut groups = vec![0.0; GROUPS];
    let mut base = model.intercept;
    for (j, source) in sources.enumerate() {
        let (w, x) = (model.weights[j], features[j]);
        let mean = means.get(j).copied().unwrap_or(0.0);
        base += w * mean;
        if let Some(g) = source_group(source) {
            groups[g] += w * (x - mean);
        }
    }
    PartExplanation { base, groups }
}

/// The trees' exact TreeSHAP contributions summed per field.
pub fn trees(gbm: &Gbm, inputs: &[f64]) -> PartExplanation {
    let mut phi = vec![0.0; gbm.inputs.len()];
    let mut base = gbm.base;
    let mut path = Vec::new();
    for tree in &gbm.trees {
        base += expected_value(tree, 0);
        tree_shap(tree, inputs, &mut phi, &mut path);
    }
    let mut groups = vec![0.0; GROUPS];
    for (input, value) in gbm.inputs.iter().zip(&phi) {
        if let Some(g) = input_group(input) {
            groups[g] += value;
        }
    }
    PartExplanation { base, groups }
}

/// Mean leaf value below `node`, weighted by the training rows through each branch.
pub fn expected_value(tree: &Tree, node: usize) -> f64 {
    let left = tree.left[node] as usize;
    if left == 0 {
        return tree.value[node];
    }
    let right = tree.right[node] as usize;
    let cover = tree.cover[node];
    (tree.cover[left] * expected_value(tree, left)
        + tree.cover[right] * expected_value(tree, right))
        / cover
}

/// Combines the parts with their blend weights into one explanation.
pub fn combine(parts: &[(f64, PartExplanation)], filled: &Filled) -> Explanation {
    let mut base_log = 0.0;
    let mut groups = vec![0.0; GROUPS];
    for (weight, part) in parts {
        base_log += weight * part.base;
        for (total, g) in groups.iter_mut().zip(&part.groups) {
            *total += weight * g;
        }
    }
    let mut contributions: Vec<Contribution> = groups
        .iter()
        .enumerate()
        .filter(|(_, log)| **log != 0.0)
        .map(|(g, &log)| Contribution {
            feature: group_name(g).to_string(),
            value: group_value(g, filled),
            log,
            percent: log.exp_m1() * 100.0,
        })
        .collect();
    contributions.sort_by(|a, b| b.log.abs().total_cmp(&a.log.abs()));
    Explanation {
        base_log,
        contributions,
    }
}

/// One element of a TreeSHAP path: the input split on, the share of the background rows
/// (`zero`) and of this house (`one`, 0 or 1) flowing down this way, and the path weight.
#[derive(Debug, Clone, Copy, Default)]
pub struct PathElement {
    input: i64,
    zero: f64,
    one: f64,
    weight: f64,
}

/// Adds every input's path-dependent Shapley value for this tree to `phi`.
pub fn tree_shap(tree: &Tree, x: &[f64], phi: &mut [f64], path: &mut Vec<PathElement>) {
    let depth = max_depth(tree, 0);
    let needed = (depth + 2) * (depth + 3) / 2;
    path.clear();
    path.resize(needed, PathElement::default());
    recurse(tree, x, phi, path, 0, 0, 0, 1.0, 1.0, -1);
}

fn max_depth(tree: &Tree, node: usize) -> usize {
    let left = tree.left[node] as usize;
    if left == 0 {
        return 0;
    }
    1 + max_depth(tree, left).max(max_depth(tree, tree.right[node] as usize))
}

#[allow(clippy::too_many_arguments)]
fn recurse(
    tree: &Tree,
    x: &[f64],
    phi: &mut [f64],
    buffer: &mut [PathElement],
    // Start of the parent's path in `buffer`, and where this node's path starts.
    parent_start: usize,
    mut unique_depth: usize,
    node: usize,
    parent_zero: f64,
    parent_one: f64,
    parent_input: i64,
) {
    // This node's path: a copy of the parent's, extended.
    let start = if node == 0 {
        0
    } else {
        parent_start + unique_depth
    };
    if node != 0 {
        buffer.copy_within(parent_start..parent_start + unique_depth, start);
    }
    let path = &mut buffer[start..];
    extend(path, unique_depth, parent_zero, parent_one, parent_input);
    let left = tree.left[node] as usize;
    if left == 0 {
        let leaf = tree.value[node];
        for i in 1..=unique_depth {
            let w = unwound_sum(path, unique_depth, i);
            let element = path[i];
            phi[element.input as usize] += w * (element.one - element.zero) * leaf;
        }
        return;
    }
    let right = tree.right[node] as usize;
    let input = tree.feature[node] as usize;
    let (hot, cold) = if x[input] <= tree.threshold[node] {
        (left, right)
    } else {
        (right, left)
    };
    let cover = tree.cover[node];
    let hot_zero = tree.cover[hot] / cover;
    let cold_zero = tree.cover[cold] / cover;
    let (mut incoming_zero, mut incoming_one) = (1.0, 1.0);
    // An input already split on above: undo that split, its fractions carry on.
    if let Some(k) = (1..=unique_depth).find(|&k| path[k].input == input as i64) {
        incoming_zero = path[k].zero;
        incoming_one = path[k].one;
        unwind(path, unique_depth, k);
        unique_depth -= 1;
    }
    recurse(
        tree,
        x,
        phi,
        buffer,
        start,
        unique_depth + 1,
        hot,
        hot_zero * incoming_zero,
        incoming_one,
        input as i64,
    );
    recurse(
        tree,
        x,
        phi,
        buffer,
        start,
        unique_depth + 1,
        cold,
        cold_zero * incoming_zero,
        0.0,
        input as i64,
    );
}

fn extend(path: &mut [PathElement], depth: usize, zero: f64, one: f64, input: i64) {
    path[depth] = PathElement {
        input,
        zero,
        one,
        weight: if depth == 0 { 1.0 } else { 0.0 },
    };
    let d = depth as f64;
    for i in (0..depth).rev() {
        let fi = i as f64;
        path[i + 1].weight += one * path[i].weight * (fi + 1.0) / (d + 1.0);
        path[i].weight = zero * path[i].weight * (d - fi) / (d + 1.0);
    }
}

fn unwind(path: &mut [PathElement], depth: usize, index: usize) {
    let one = path[index].one;
    let zero = path[index].zero;
    let d = depth as f64;
    let mut next_one = path[depth].weight;
    for i in (0..depth).rev() {
        let fi = i as f64;
        if one != 0.0 {
            let tmp = path[i].weight;
            path[i].weight = next_one * (d + 1.0) / ((fi + 1.0) * one);
            next_one = tmp - path[i].weight * zero * (d - fi) / (d + 1.0);
        } else {
            path[i].weight = path[i].weight * (d + 1.0) / (zero * (d - fi));
        }
    }
    for i in index..depth {
        path[i].input = path[i + 1].input;
        path[i].zero = path[i + 1].zero;
        path[i].one = path[i + 1].one;
    }
}

fn unwound_sum(path: &[PathElement], depth: usize, index: usize) -> f64 {
    let one = path[index].one;
    let zero = path[index].zero;
    let d = depth as f64;
    let mut next_one = path[depth].weight;
    let mut total = 0.0;
    for i in (0..depth).rev() {
        let fi = i as f64;
        if one != 0.0 {
            let tmp = next_one * (d + 1.0) / ((fi + 1.0) * one);
            total += tmp;
            next_one = path[i].weight - tmp * zero * (d - fi) / (d + 1.0);
        } else if zero != 0.0 {
            total += path[i].weight / zero / ((d - fi) / (d + 1.0));
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A depth-3 tree on three inputs that splits input 0 twice on one path.
    fn tree() -> Tree {
        // 0: x0 <= 5 ? 1 : 2
        // 1: x1 <= 0 ? 3 : 4        2: x0 <= 8 ? 5 : 6
        // 3: leaf 1.0   4: x2 <= 2 ? 7 : 8   5: x1 <= 1 ? 9 : 10   6: leaf 4.0
        // 7: leaf -2   8: leaf 3   9: leaf 0.5   10: leaf 2.5
        let feature = vec![0, 1, 0, 0, 2, 1, 0, 0, 0, 0, 0];
        let threshold = vec![5.0, 0.0, 8.0, 0.0, 2.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let left = vec![1, 3, 5, 0, 7, 9, 0, 0, 0, 0, 0];
        let right = vec![2, 4, 6, 0, 8, 10, 0, 0, 0, 0, 0];
        let cover = vec![
            100.0, 60.0, 40.0, 25.0, 35.0, 30.0, 10.0, 20.0, 15.0, 12.0, 18.0,
        ];
        let mut value = vec![0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 4.0, -2.0, 3.0, 0.5, 2.5];
        for node in (0..11).rev() {
            if left[node] != 0 {
                let (l, r) = (left[node] as usize, right[node] as usize);
                value[node] = (value[l] * cover[l] + value[r] * cover[r]) / cover[node];
            }
        }
        Tree {
            feature,
            threshold,
            left,
            right,
            value,
            cover,
        }
    }

    /// E[f(x) | x_S] under the tree's path-dependent background: follow x on inputs in S,
    /// average the children by training rows elsewhere.
    fn conditional(tree: &Tree, x: &[f64], subset: u32, node: usize) -> f64 {
        let left = tree.left[node] as usize;
        if left == 0 {
            return tree.value[node];
        }
        let right = tree.right[node] as usize;
        let input = tree.feature[node] as usize;
        if subset & (1 << input) != 0 {
            let next = if x[input] <= tree.threshold[node] {
                left
            } else {
                right
            };
            conditional(tree, x, subset, next)
        } else {
            (tree.cover[left] * conditional(tree, x, subset, left)
                + tree.cover[right] * conditional(tree, x, subset, right))
                / tree.cover[node]
        }
    }

    /// Shapley values by enumerating every subset.
    fn brute_force(tree: &Tree, x: &[f64], m: usize) -> Vec<f64> {
        let factorial = |n: usize| (1..=n).product::<usize>() as f64;
        let mut phi = vec![0.0; m];
        for (i, p) in phi.iter_mut().enumerate() {
            for subset in 0u32..(1 << m) {
                if subset & (1 << i) != 0 {
                    continue;
                }
                let s = subset.count_ones() as usize;
                let weight = factorial(s) * factorial(m - s - 1) / factorial(m);
                *p += weight
                    * (conditional(tree, x, subset | (1 << i), 0)
                        - conditional(tree, x, subset, 0));
            }
        }
        phi
    }

    #[test]
    fn tree_shap_equals_the_shapley_values_of_the_path_dependent_expectation() {
        let tree = tree();
        for x in [
            [3.0, 0.0, 1.0],
            [3.0, 1.0, 5.0],
            [6.0, 0.0, 0.0],
            [6.0, 2.0, 9.0],
            [9.0, 0.5, 2.0],
        ] {
            let mut phi = vec![0.0; 3];
            let mut path = Vec::new();
            tree_shap(&tree, &x, &mut phi, &mut path);
            let expected = brute_force(&tree, &x, 3);
            for (a, b) in phi.iter().zip(&expected) {
                assert!((a - b).abs() < 1e-12, "{x:?}: {phi:?} vs {expected:?}");
            }
            let sum: f64 = phi.iter().sum::<f64>() + expected_value(&tree, 0);
            assert!((sum - tree.predict(&x)).abs() < 1e-12, "{x:?}");
        }
    }
}
