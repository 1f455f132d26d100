//! The tree estimator: gradient-boosted regression trees on ln(price), histogram-based.
//!
//! Trees split the label-encoded house (numbers, ordinal ranks, nominal levels encoded by their
//! mean log price in the training rows, engineered totals), so no one-hot columns are needed
//! and a value beyond the training range simply lands in the outermost leaf: trees cannot
//! extrapolate. Every tree is stored explicitly (split input, threshold, children, leaf value and
//! the number of training rows through each node), so the artifact holds everything an
//! explanation of a prediction needs, and nothing depends on another crate's types.
//!
//! Training is deterministic for a seed: row and input subsampling use [`SplitMix64`], and
//! every sum is taken in a fixed order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::derived::Derived;
use crate::fill::Filled;
use crate::schema;
use crate::split::SplitMix64;

/// Hyper-parameters of the boosting, from `params.yaml` (`train.gbm_*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbmParams {
    /// Number of trees.
    pub trees: usize,
    /// Shrinkage applied to every leaf value.
    pub learning_rate: f64,
    /// Depth of each tree (a tree has at most 2^depth leaves).
    pub max_depth: usize,
    /// Fewest training rows in a leaf.
    pub min_leaf: usize,
    /// Share of rows each tree is fitted on (drawn without replacement).
    pub subsample: f64,
    /// Most rows a tree is fitted on, whatever the share: beyond some tens of thousands of
    /// rows a depth-limited tree learns nothing more from more rows, and this keeps the cost of
    /// a tree constant on large data.
    pub max_rows_per_tree: usize,
    /// Share of inputs each tree may split on.
    pub colsample: f64,
    /// L2 penalty on leaf values (XGBoost's lambda).
    pub l2: f64,
    /// Most histogram bins per input (at most 256).
    pub max_bins: usize,
    /// Seed of the subsampling.
    pub seed: u64,
}

/// Where an input of the trees comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum TreeInput {
    /// A numeric column, or an ordinal column's rank.
    Value {
        /// Kaggle column name.
        column: String,
    },
    /// A nominal column, encoded by the smoothed mean ln(price) of its level in training.
    Level {
        /// Kaggle column name.
        column: String,
        /// Encoded value of each level seen in training.
        levels: BTreeMap<String, f64>,
        /// Value of a level not seen in training (the mean ln price of all training rows).
        unseen: f64,
    },
    /// An engineered feature.
    Derived {
        /// Which one.
        derived: Derived,
    },
}

impl TreeInput {
    /// The input's name, e.g. `GrLivArea`, `Neighborhood`, `TotalSF`.
    pub fn name(&self) -> &str {
        match self {
            TreeInput::Value { column } | TreeInput::Level { column, .. } => column,
            TreeInput::Derived { derived } => derived.name(),
        }
    }
}

/// One regression tree, as parallel arrays indexed by node (the root is node 0).
///
/// A node with `left[i] == 0` is a leaf (the root is never a child). An internal node sends a
/// house left when its input `feature[i]` is at most `threshold[i]`, else right. `value[i]` is a
/// leaf's contribution to ln(price) (learning rate applied); for an internal node it is the
/// cover-weighted mean of the leaves below. `cover[i]` is the number of training rows of the
/// tree's sample that reached the node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// Split input (index into [`Gbm::inputs`]); 0 for leaves.
    pub feature: Vec<u32>,
    /// Split threshold (go left when `x <= threshold`); 0 for leaves.
    pub threshold: Vec<f64>,
    /// Left child; 0 for leaves.
    pub left: Vec<u32>,
    /// Right child; 0 for leaves.
    pub right: Vec<u32>,
    /// Leaf value, or mean value below an internal node.
    pub value: Vec<f64>,
    /// Training rows through the node.
    pub cover: Vec<f64>,
}

impl Tree {
    /// The contribution of this tree for a house's inputs.
    #[inline]
    pub fn predict(&self, x: &[f64]) -> f64 {
        let mut node = 0usize;
        loop {
            let left = self.left[node] as usize;
            if left == 0 {
                return self.value[node];
            }
            node = if x[self.feature[node] as usize] <= self.threshold[node] {
                left
            } else {
                self.right[node] as usize
            };
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Levels of splits on the longest path (0 for a single leaf).
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(0usize, 0usize)];
        while let Some((node, level)) = stack.pop() {
            match self.left.get(node) {
                Some(&left) if left != 0 => {
                    stack.push((left as usize, level + 1));
                    stack.push((self.right[node] as usize, level + 1));
                }
                _ => deepest = deepest.max(level),
            }
        }
        deepest
    }

    /// Whether the tree has no nodes.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    fn check(&self, inputs: usize) -> Result<(), String> {
        let n = self.value.len();
        if n == 0
            || [
                self.feature.len(),
                self.threshold.len(),
                self.left.len(),
                self.right.len(),
                self.cover.len(),
            ]
            .iter()
            .any(|&len| len != n)
        {
            return Err("a tree's node arrays differ in length".to_string());
        }
        for i in 0..n {
            let (l, r) = (self.left[i] as usize, self.right[i] as usize);
            if l == 0 {
                continue;
            }
            // Children come after their parent (depth-first order), so walks always end.
            if l <= i || r <= i || l >= n || r >= n || self.feature[i] as usize >= inputs {
                return Err(format!("tree node {i} has an invalid child or input"));
            }
        }
        Ok(())
    }
}

/// A fitted ensemble: its inputs, the base ln(price) and the trees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gbm {
    /// What each tree input is, in order.
    pub inputs: Vec<TreeInput>,
    /// ln(price) before any tree (the training mean).
    pub base: f64,
    /// The trees, in boosting order.
    pub trees: Vec<Tree>,
    #[serde(skip)]
    compiled: Vec<CompiledInput>,
    /// The trees laid out for fast prediction; built by [`Gbm::prepare`].
    #[serde(skip)]
    layout: Layout,
}

/// Trees at most this deep are padded to complete binary trees for prediction (a tree of
/// depth d then takes 2^d − 1 splits and 2^d leaves).
const COMPLETE_MAX_DEPTH: usize = 10;

/// How prediction walks the trees.
#[derive(Debug, Clone, Default, PartialEq)]
enum Layout {
    /// Not prepared yet, or no trees.
    #[default]
    Empty,
    /// Every tree padded to a complete binary tree of `depth` levels, in level order: a walk is
    /// exactly `depth` steps of `i = 2i + 1 + (x > threshold)`, with no test for a leaf, over
    /// arrays one tree after another (split inputs, thresholds, then leaf values). A leaf above
    /// the last level continues as splits that always go left (threshold +∞) to a copy of its
    /// value.
    Complete {
        depth: usize,
        features: Vec<u32>,
        thresholds: Vec<f64>,
        leaves: Vec<f64>,
    },
    /// Deeper trees: every node in one array, children as absolute indices.
    Flat {
        nodes: Vec<FlatNode>,
        roots: Vec<u32>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct FlatNode {
    threshold: f64,
    value: f64,
    feature: u32,
    /// Absolute index of the left child; 0 for a leaf.
    left: u32,
    right: u32,
}

#[derive(Debug, Clone, PartialEq)]
enum CompiledInput {
    Value(usize),
    Level(usize, Vec<(String, f64)>, f64),
    Derived(Derived),
}

impl Gbm {
    /// Resolves column names after deserialising and checks every tree.
    pub fn prepare(&mut self) -> Result<(), String> {
        let index = |column: &str| {
            schema::column_index(column)
                .ok_or_else(|| format!("the trees refer to unknown column {column:?}"))
        };
        self.compiled = self
            .inputs
            .iter()
            .map(|input| {
                Ok(match input {
                    TreeInput::Value { column } => CompiledInput::Value(index(column)?),
                    TreeInput::Level {
                        column,
                        levels,
                        unseen,
                    } => CompiledInput::Level(
                        index(column)?,
                        levels.iter().map(|(k, v)| (k.clone(), *v)).collect(),
                        *unseen,
                    ),
                    TreeInput::Derived { derived } => CompiledInput::Derived(*derived),
                })
            })
            .collect::<Result<_, String>>()?;
        for tree in &self.trees {
            tree.check(self.inputs.len())?;
        }
        let depth = self.trees.iter().map(Tree::depth).max();
        self.layout = match depth {
            None => Layout::Empty,
            Some(depth) if depth <= COMPLETE_MAX_DEPTH => {
                let (splits, width) = ((1usize << depth) - 1, 1usize << depth);
                let mut features = vec![0; splits * self.trees.len()];
                let mut thresholds = vec![f64::INFINITY; splits * self.trees.len()];
                let mut leaves = vec![0.0; width * self.trees.len()];
                for (t, tree) in self.trees.iter().enumerate() {
                    // (node, slot in level order, level)
                    let mut stack = vec![(0usize, 0usize, 0usize)];
                    while let Some((node, slot, level)) = stack.pop() {
                        if tree.left[node] == 0 {
                            // The leftmost leaf below the slot is where the walk ends; every
                            // leaf below gets the value, so any path gives it.
                            let below = 1usize << (depth - level);
                            let first = ((slot + 1) << (depth - level)) - 1 - splits;
                            leaves[t * width + first..t * width + first + below]
                                .fill(tree.value[node]);
                        } else {
                            features[t * splits + slot] = tree.feature[node];
                            thresholds[t * splits + slot] = tree.threshold[node];
                            stack.push((tree.left[node] as usize, 2 * slot + 1, level + 1));
                            stack.push((tree.right[node] as usize, 2 * slot + 2, level + 1));
                        }
                    }
                }
                Layout::Complete {
                    depth,
                    features,
                    thresholds,
                    leaves,
                }
            }
            Some(_) => {
                let mut nodes = Vec::new();
                let mut roots = Vec::with_capacity(self.trees.len());
                for tree in &self.trees {
                    let offset = nodes.len() as u32;
                    roots.push(offset);
                    for i in 0..tree.len() {
                        let leaf = tree.left[i] == 0;
                        nodes.push(FlatNode {
                            threshold: tree.threshold[i],
                            value: tree.value[i],
                            feature: tree.feature[i],
                            left: if leaf { 0 } else { offset + tree.left[i] },
                            right: if leaf { 0 } else { offset + tree.right[i] },
                        });
                    }
                }
                Layout::Flat { nodes, roots }
            }
        };
        Ok(())
    }

    /// The inputs of a filled house, in [`Gbm::inputs`] order, into `out`.
    pub fn inputs_into(&self, filled: &Filled, out: &mut Vec<f64>) {
        out.clear();
        out.extend(self.compiled.iter().map(|input| match input {
            CompiledInput::Value(i) => filled.numbers[*i],
            CompiledInput::Level(i, levels, unseen) => {
                let level = filled.levels[*i];
                levels
                    .iter()
                    .find(|(code, _)| code == level)
                    .map_or(*unseen, |(_, v)| *v)
            }
            CompiledInput::Derived(d) => d.value(filled),
        }));
    }

    /// Predicted ln(price) from the inputs: the base plus every tree's leaf, summed in
    /// boosting order (the same sum as [`Tree::predict`] over [`Gbm::trees`]).
    pub fn predict_log(&self, x: &[f64]) -> f64 {
        let mut sum = 0.0;
        match &self.layout {
            Layout::Empty => {}
            Layout::Complete {
                depth,
                features,
                thresholds,
                leaves,
            } => {
                let splits = (1usize << depth) - 1;
                if *depth == 0 {
                    leaves.iter().for_each(|v| sum += v);
                } else {
                    let trees = features
                        .chunks_exact(splits)
                        .zip(thresholds.chunks_exact(splits))
                        .zip(leaves.chunks_exact(splits + 1));
                    for ((features, thresholds), leaves) in trees {
                        let mut i = 0;
                        for _ in 0..*depth {
                            let right = x[features[i] as usize] > thresholds[i];
                            i = 2 * i + 1 + usize::from(right);
                        }
                        sum += leaves[i - splits];
                    }
                }
            }
            Layout::Flat { nodes, roots } => {
                for &root in roots {
                    let mut node = &nodes[root as usize];
                    while node.left != 0 {
                        // By index rather than by branch (see `walk_binned`).
                        let children = [node.left, node.right];
                        let right = usize::from(x[node.feature as usize] > node.threshold);
                        node = &nodes[children[right] as usize];
                    }
                    sum += node.value;
                }
            }
        }
        self.base + sum
    }

    /// Total nodes over all trees.
    pub fn nodes(&self) -> usize {
        self.trees.iter().map(Tree::len).sum()
    }
}

/// Builds the tree inputs and their values for training rows.
///
/// `rows` yields each training row's filled house and ln price; nominal columns are encoded by
/// the mean ln price of their level over these rows, shrunk towards the overall mean with the
/// weight of `SMOOTHING` rows so a rare level is not trusted on one sale.
pub struct InputBuilder {
    columns: Vec<(usize, bool)>,
    derived: Vec<Derived>,
    /// Row-major values; nominal columns hold the level's position until `finish`.
    values: Vec<f64>,
    y: Vec<f64>,
    /// Per nominal column: (sum of y, count) per level code.
    level_stats: Vec<BTreeMap<&'static str, (f64, f64)>>,
}

/// Weight, in rows, of the overall mean in a level's encoded value.
const SMOOTHING: f64 = 10.0;

impl InputBuilder {
    /// An empty builder for `rows` rows.
    pub fn new(rows: usize) -> InputBuilder {
        let columns: Vec<(usize, bool)> = schema::COLUMNS
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.kind == schema::Kind::Nominal))
            .collect();
        let derived: Vec<Derived> = Derived::ALL
            .iter()
            .copied()
            .filter(|d| !d.is_indicator())
            .collect();
        let width = columns.len() + derived.len();
        InputBuilder {
            level_stats: vec![BTreeMap::new(); columns.len()],
            values: Vec::with_capacity(rows * width),
            y: Vec::with_capacity(rows),
            columns,
            derived,
        }
    }

    /// Adds one training row.
    pub fn add(&mut self, filled: &Filled<'_>, log_price: f64) {
        for &(i, nominal) in &self.columns {
            if nominal {
                let code = schema::COLUMNS[i]
                    .levels
                    .iter()
                    .find(|l| l.code == filled.levels[i])
                    .map_or(crate::fill::NONE_CODE, |l| l.code);
                let stats = self.level_stats[i].entry(code).or_insert((0.0, 0.0));
                stats.0 += log_price;
                stats.1 += 1.0;
                // Placeholder: the position of the level among the column's codes.
                let position = schema::COLUMNS[i]
                    .levels
                    .iter()
                    .position(|l| l.code == code)
                    .map_or(-1.0, |p| p as f64);
                self.values.push(position);
            } else {
                self.values.push(filled.numbers[i]);
            }
        }
        for d in &self.derived {
            self.values.push(d.value(filled));
        }
        self.y.push(log_price);
    }

    /// The inputs (constant ones dropped), the row-major matrix and the targets.
    pub fn finish(self) -> (Vec<TreeInput>, Vec<f64>, Vec<f64>) {
        let width = self.columns.len() + self.derived.len();
        let n = self.y.len();
        let mean = self.y.iter().sum::<f64>() / n.max(1) as f64;
        let mut inputs = Vec::new();
        let mut keep = Vec::new();
        let mut encoders: Vec<Option<Vec<f64>>> = Vec::new();
        for (position, &(i, nominal)) in self.columns.iter().enumerate() {
            let column = &schema::COLUMNS[i];
            if nominal {
                let mut levels = BTreeMap::new();
                // Encoded value by level position (-1 = none).
                let mut by_position = vec![mean; column.levels.len() + 1];
                for (code, (sum, count)) in &self.level_stats[i] {
                    let value = (sum + SMOOTHING * mean) / (count + SMOOTHING);
                    levels.insert(code.to_string(), value);
                    let slot = column
                        .levels
                        .iter()
                        .position(|l| l.code == *code)
                        .map_or(column.levels.len(), |p| p);
                    by_position[slot] = value;
                }
                if levels.len() < 2 {
                    continue;
                }
                inputs.push(TreeInput::Level {
                    column: column.name.to_string(),
                    levels,
                    unseen: mean,
                });
                encoders.push(Some(by_position));
            } else {
                if is_constant(&self.values, width, position, n) {
                    continue;
                }
                inputs.push(TreeInput::Value {
                    column: column.name.to_string(),
                });
                encoders.push(None);
            }
            keep.push(position);
        }
        for (k, d) in self.derived.iter().enumerate() {
            let position = self.columns.len() + k;
            if is_constant(&self.values, width, position, n) {
                continue;
            }
            inputs.push(TreeInput::Derived { derived: *d });
            encoders.push(None);
            keep.push(position);
        }
        let m = keep.len();
        let mut x = Vec::with_capacity(n * m);
        for row in self.values.chunks_exact(width) {
            for (&position, encoder) in keep.iter().zip(&encoders) {
                let v = row[position];
                x.push(match encoder {
                    Some(by_position) => {
                        let slot = if v < 0.0 {
                            by_position.len() - 1
                        } else {
                            v as usize
                        };
                        by_position[slot]
                    }
                    None => v,
                });
            }
        }
        (inputs, x, self.y)
    }
}

fn is_constant(values: &[f64], width: usize, position: usize, n: usize) -> bool {
    let first = values.get(position).copied();
    (0..n).all(|r| Some(values[r * width + position]) == first)
}

/// Fits the ensemble on row-major inputs `x` (`y.len()` rows × `inputs.len()` columns).
pub fn fit(inputs: Vec<TreeInput>, x: &[f64], y: &[f64], params: &GbmParams) -> Gbm {
    let n = y.len();
    let m = inputs.len();
    let base = y.iter().sum::<f64>() / n.max(1) as f64;
    let mut gbm = Gbm {
        inputs,
        base,
        trees: Vec::with_capacity(params.trees),
        compiled: Vec::new(),
        layout: Layout::Empty,
    };
    if n == 0 || m == 0 {
        return gbm;
    }
    let binned = Binned::new(x, n, m, params.max_bins.clamp(2, 256));
    let mut pred = vec![base; n];
    let mut grad = vec![0.0; n];
    let mut feature_order: Vec<usize> = (0..m).collect();
    // Each row joins a tree's sample with this probability (so the sample comes out in row
    // order, ready for cache-friendly histograms, without sorting).
    let rate = params
        .subsample
        .clamp(0.0, 1.0)
        .min(params.max_rows_per_tree.max(1) as f64 / n as f64);
    let sample_features =
        ((params.colsample.clamp(0.0, 1.0) * m as f64).round() as usize).clamp(1, m);
    let mut scratch = Vec::with_capacity(n);
    let mut rows: Vec<u32> = Vec::with_capacity(n);
    for t in 0..params.trees {
        let mut rng = SplitMix64::new(
            params
                .seed
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(t as u64),
        );
        rows.clear();
        if rate >= 1.0 {
            rows.extend(0..n as u32);
        } else {
            // Bernoulli sampling by geometric gaps: one draw per sampled row, not per row.
            let log_keep = (1.0 - rate).ln();
            let mut next = 0usize;
            loop {
                let u = ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
                next += (u.ln() / log_keep) as usize;
                if next >= n {
                    break;
                }
                rows.push(next as u32);
                next += 1;
            }
        }
        if rows.len() < 2 {
            rows.clear();
            rows.extend(0..n as u32);
        }
        partial_shuffle(&mut feature_order, sample_features, &mut rng);
        let mut features: Vec<usize> = feature_order[..sample_features].to_vec();
        features.sort_unstable();
        // Squared loss: the gradient is the residual (only the sampled rows need it).
        for &r in &rows {
            let r = r as usize;
            grad[r] = pred[r] - y[r];
        }
        let mut builder = TreeBuilder {
            binned: &binned,
            grad: &grad,
            features: &features,
            params,
            nodes: Vec::new(),
            scratch: &mut scratch,
        };
        let hist = builder.histogram(&rows);
        let g_sum: f64 = rows.iter().map(|&r| grad[r as usize]).sum();
        builder.grow(&mut rows, hist, g_sum, 0);
        let nodes = builder.nodes;
        for (r, p) in pred.iter_mut().enumerate() {
            *p += walk_binned(&nodes, binned.row(r));
        }
        gbm.trees.push(to_tree(&nodes, &binned));
    }
    // Column names resolve by construction; the trees are well-formed by construction.
    let _ = gbm.prepare();
    gbm
}

/// Moves a random `k` of `items` to the front (the first `k` steps of Fisher–Yates).
fn partial_shuffle<T>(items: &mut [T], k: usize, rng: &mut SplitMix64) {
    let n = items.len();
    for i in 0..k.min(n.saturating_sub(1)) {
        let j = i + rng.below(n - i);
        items.swap(i, j);
    }
}

/// Inputs mapped to histogram bins, row-major, with each input's thresholds.
struct Binned {
    m: usize,
    bins: Vec<u8>,
    /// Offset of each input's bins in a histogram.
    offsets: Vec<usize>,
    /// Bins of each input.
    counts: Vec<usize>,
    /// Threshold between bin b and b + 1 of each input, in raw units.
    thresholds: Vec<Vec<f64>>,
    total_bins: usize,
}

impl Binned {
    fn new(x: &[f64], n: usize, m: usize, max_bins: usize) -> Binned {
        let mut bins = vec![0u8; n * m];
        let mut offsets = Vec::with_capacity(m);
        let mut counts = Vec::with_capacity(m);
        let mut thresholds = Vec::with_capacity(m);
        let mut total_bins = 0;
        let mut column = Vec::with_capacity(n);
        for j in 0..m {
            column.clear();
            column.extend((0..n).map(|r| x[r * m + j]));
            column.sort_unstable_by(f64::total_cmp);
            let uppers = bin_uppers(&column, max_bins);
            // The threshold after bin b: halfway to the next distinct value seen in training.
            let mut cuts = Vec::with_capacity(uppers.len().saturating_sub(1));
            for &upper in &uppers[..uppers.len().saturating_sub(1)] {
                let next_index = column.partition_point(|v| *v <= upper);
                let next = column[next_index.min(column.len() - 1)];
                let mid = upper + (next - upper) / 2.0;
                cuts.push(if mid < next { mid } else { upper });
            }
            for r in 0..n {
                let v = x[r * m + j];
                bins[r * m + j] = cuts.partition_point(|c| *c < v) as u8;
            }
            offsets.push(total_bins);
            counts.push(cuts.len() + 1);
            total_bins += cuts.len() + 1;
            thresholds.push(cuts);
        }
        Binned {
            m,
            bins,
            offsets,
            counts,
            thresholds,
            total_bins,
        }
    }

    #[inline]
    fn row(&self, r: usize) -> &[u8] {
        &self.bins[r * self.m..(r + 1) * self.m]
    }
}

/// Largest value of each bin of a sorted column: every distinct value when there are few,
/// else cuts at equal-count quantiles.
fn bin_uppers(sorted: &[f64], max_bins: usize) -> Vec<f64> {
    let mut distinct: Vec<f64> = sorted.to_vec();
    distinct.dedup();
    if distinct.len() <= max_bins {
        return distinct;
    }
    let n = sorted.len();
    let mut uppers = Vec::with_capacity(max_bins);
    for b in 1..max_bins {
        let v = sorted[(b * n / max_bins).min(n - 1)];
        if uppers.last().is_none_or(|last| v > *last) {
            uppers.push(v);
        }
    }
    let last = sorted[n - 1];
    if uppers.last().is_none_or(|l| last > *l) {
        uppers.push(last);
    }
    uppers
}

/// A node while growing: split on bin `bin` of input `feature`, or a leaf.
#[derive(Debug, Clone, Copy)]
struct BuildNode {
    feature: u32,
    bin: u8,
    left: u32,
    right: u32,
    value: f64,
    cover: f64,
}

struct TreeBuilder<'a> {
    binned: &'a Binned,
    grad: &'a [f64],
    features: &'a [usize],
    params: &'a GbmParams,
    nodes: Vec<BuildNode>,
    scratch: &'a mut Vec<u32>,
}

/// Histogram entry: sum of gradients and of hessians (row count: the loss is squared error).
type Bin = [f64; 2];

impl TreeBuilder<'_> {
    fn histogram(&self, rows: &[u32]) -> Vec<Bin> {
        let mut hist = vec![[0.0, 0.0]; self.binned.total_bins];
        let selected: Vec<(usize, usize)> = self
            .features
            .iter()
            .map(|&f| (f, self.binned.offsets[f]))
            .collect();
        let m = self.binned.m;
        for &r in rows {
            let r = r as usize;
            let g = self.grad[r];
            let row = &self.binned.bins[r * m..(r + 1) * m];
            for &(f, offset) in &selected {
                let bin = &mut hist[offset + row[f] as usize];
                bin[0] += g;
                bin[1] += 1.0;
            }
        }
        hist
    }

    /// Best split of a node: (gain, input, bin, left gradient sum, left rows).
    fn best_split(&self, hist: &[Bin], g_sum: f64, n: f64) -> Option<(usize, u8, f64)> {
        let lambda = self.params.l2;
        let min_leaf = self.params.min_leaf.max(1) as f64;
        let parent = g_sum * g_sum / (n + lambda);
        let mut best: Option<(f64, usize, u8, f64)> = None;
        for &f in self.features {
            let offset = self.binned.offsets[f];
            let (mut gl, mut hl) = (0.0, 0.0);
            for b in 0..self.binned.counts[f] - 1 {
                let bin = hist[offset + b];
                gl += bin[0];
                hl += bin[1];
                if hl < min_leaf {
                    continue;
                }
                let hr = n - hl;
                if hr < min_leaf {
                    break;
                }
                let gr = g_sum - gl;
                let gain = gl * gl / (hl + lambda) + gr * gr / (hr + lambda) - parent;
                if gain > 1e-12 && best.is_none_or(|(g, ..)| gain > g) {
                    best = Some((gain, f, b as u8, gl));
                }
            }
        }
        best.map(|(_, f, b, gl)| (f, b, gl))
    }

    fn grow(&mut self, rows: &mut [u32], mut hist: Vec<Bin>, g_sum: f64, depth: usize) -> u32 {
        let index = self.nodes.len() as u32;
        let n = rows.len() as f64;
        self.nodes.push(BuildNode {
            feature: 0,
            bin: 0,
            left: 0,
            right: 0,
            value: -g_sum / (n + self.params.l2) * self.params.learning_rate,
            cover: n,
        });
        if depth >= self.params.max_depth || rows.len() < 2 * self.params.min_leaf.max(1) {
            return index;
        }
        let Some((feature, bin, gl)) = self.best_split(&hist, g_sum, n) else {
            return index;
        };
        // Stable partition: rows going left first, in their order.
        self.scratch.clear();
        let mut left_len = 0;
        for i in 0..rows.len() {
            let r = rows[i];
            if self.binned.row(r as usize)[feature] <= bin {
                rows[left_len] = r;
                left_len += 1;
            } else {
                self.scratch.push(r);
            }
        }
        rows[left_len..].copy_from_slice(self.scratch);
        let (left_rows, right_rows) = rows.split_at_mut(left_len);
        // Histogram of the smaller child; the larger one's is the parent's minus it.
        let left_smaller = left_rows.len() <= right_rows.len();
        let small = self.histogram(if left_smaller { left_rows } else { right_rows });
        for (p, s) in hist.iter_mut().zip(&small) {
            p[0] -= s[0];
            p[1] -= s[1];
        }
        let (left_hist, right_hist) = if left_smaller {
            (small, hist)
        } else {
            (hist, small)
        };
        let left = self.grow(left_rows, left_hist, gl, depth + 1);
        let right = self.grow(right_rows, right_hist, g_sum - gl, depth + 1);
        let (lv, lc) = (
            self.nodes[left as usize].value,
            self.nodes[left as usize].cover,
        );
        let (rv, rc) = (
            self.nodes[right as usize].value,
            self.nodes[right as usize].cover,
        );
        let node = &mut self.nodes[index as usize];
        node.feature = feature as u32;
        node.bin = bin;
        node.left = left;
        node.right = right;
        node.value = (lv * lc + rv * rc) / (lc + rc);
        index
    }
}

/// The leaf value a binned row reaches. The child is picked by index, not by a branch: the
/// path through a tree is data-dependent, and mispredicted branches cost more than the walk.
fn walk_binned(nodes: &[BuildNode], row: &[u8]) -> f64 {
    let mut node = &nodes[0];
    while node.left != 0 {
        let children = [node.left, node.right];
        let right = usize::from(row[node.feature as usize] > node.bin);
        node = &nodes[children[right] as usize];
    }
    node.value
}

fn to_tree(nodes: &[BuildNode], binned: &Binned) -> Tree {
    let mut tree = Tree::default();
    for n in nodes {
        let leaf = n.left == 0;
        tree.feature.push(if leaf { 0 } else { n.feature });
        tree.threshold.push(if leaf {
            0.0
        } else {
            binned.thresholds[n.feature as usize][n.bin as usize]
        });
        tree.left.push(n.left);
        tree.right.push(n.right);
        tree.value.push(n.value);
        tree.cover.push(n.cover);
    }
    tree
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> GbmParams {
        GbmParams {
            trees: 200,
            learning_rate: 0.1,
            max_depth: 3,
            min_leaf: 2,
            subsample: 0.8,
            max_rows_per_tree: 100_000,
            colsample: 1.0,
            l2: 0.0,
            max_bins: 255,
            seed: 7,
        }
    }

    fn inputs(m: usize) -> Vec<TreeInput> {
        (0..m)
            .map(|_| TreeInput::Value {
                column: "GrLivArea".to_string(),
            })
            .collect()
    }

    #[test]
    fn trees_fit_a_step_function_and_predict_from_raw_thresholds() {
        let x: Vec<f64> = (0..200).map(|i| i as f64).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|v| if *v < 100.0 { 1.0 } else { 3.0 })
            .collect();
        let gbm = fit(inputs(1), &x, &y, &params());
        assert_eq!(gbm.trees.len(), 200);
        for (v, target) in x.iter().zip(&y) {
            let p = gbm.predict_log(&[*v]);
            assert!((p - target).abs() < 0.05, "{v}: {p}");
        }
        // Beyond the training range the prediction stays at the outermost leaf.
        assert_eq!(gbm.predict_log(&[1e9]), gbm.predict_log(&[199.0]));
        assert_eq!(gbm.predict_log(&[-1e9]), gbm.predict_log(&[0.0]));
    }

    /// The sum of every tree's own walk, as the stored trees define the model.
    fn reference(gbm: &Gbm, x: &[f64]) -> f64 {
        gbm.base + gbm.trees.iter().map(|t| t.predict(x)).sum::<f64>()
    }

    #[test]
    fn the_prediction_layouts_give_the_stored_trees_sum_to_the_bit() {
        // Complete layout: trees of mixed depth (some leaves stop early).
        let x: Vec<f64> = (0..300)
            .flat_map(|i| [((i * 37) % 101) as f64, (i % 7) as f64, (i / 50) as f64])
            .collect();
        let y: Vec<f64> = x
            .chunks(3)
            .map(|r| (r[0] / 10.0).sin() + r[1] * r[2] / 7.0)
            .collect();
        let gbm = fit(
            inputs(3),
            &x,
            &y,
            &GbmParams {
                max_depth: 5,
                min_leaf: 4,
                ..params()
            },
        );
        assert!(matches!(gbm.layout, Layout::Complete { depth: 5, .. }));
        assert!(
            gbm.trees.iter().any(|t| t.len() < 63),
            "some trees stop early"
        );
        for row in x.chunks(3).chain([[1e9, -1e9, 0.5].as_slice()]) {
            assert_eq!(
                gbm.predict_log(row).to_bits(),
                reference(&gbm, row).to_bits()
            );
        }
        // Flat layout: a chain deeper than the complete layout takes, and a lone leaf.
        let depth = COMPLETE_MAX_DEPTH + 2;
        // Node 2k splits on `x <= k`: its left child 2k + 1 is a leaf, its right child 2k + 2
        // the next split (or, after the last, the final leaf).
        let mut fixed = Tree::default();
        for i in 0..=2 * depth {
            let split = i % 2 == 0 && i < 2 * depth;
            fixed.feature.push(0);
            fixed
                .threshold
                .push(if split { (i / 2) as f64 } else { 0.0 });
            fixed.left.push(if split { i as u32 + 1 } else { 0 });
            fixed.right.push(if split { i as u32 + 2 } else { 0 });
            fixed.value.push(i as f64 * 0.01);
            fixed.cover.push(1.0);
        }
        assert_eq!(fixed.depth(), depth);
        let lone = Tree {
            feature: vec![0],
            threshold: vec![0.0],
            left: vec![0],
            right: vec![0],
            value: vec![0.25],
            cover: vec![1.0],
        };
        let mut deep = Gbm {
            inputs: inputs(1),
            base: 3.0,
            trees: vec![fixed, lone.clone()],
            compiled: Vec::new(),
            layout: Layout::Empty,
        };
        deep.prepare().expect("valid trees");
        assert!(matches!(deep.layout, Layout::Flat { .. }));
        for v in -1..=(depth as i32 + 1) {
            let row = [v as f64 + 0.5];
            assert_eq!(
                deep.predict_log(&row).to_bits(),
                reference(&deep, &row).to_bits()
            );
        }
        // Only lone leaves: depth 0.
        let mut flat = Gbm {
            trees: vec![lone.clone(), lone],
            layout: Layout::Empty,
            ..deep
        };
        flat.prepare().expect("valid trees");
        assert!(matches!(flat.layout, Layout::Complete { depth: 0, .. }));
        assert_eq!(flat.predict_log(&[0.0]), 3.5);
    }

    #[test]
    fn the_same_seed_gives_the_same_trees_and_another_seed_others() {
        let x: Vec<f64> = (0..300).map(|i| ((i * 37) % 101) as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| (v / 10.0).sin()).collect();
        let a = fit(inputs(1), &x, &y, &params());
        let b = fit(inputs(1), &x, &y, &params());
        assert_eq!(a, b);
        let c = fit(
            inputs(1),
            &x,
            &y,
            &GbmParams {
                seed: 8,
                ..params()
            },
        );
        assert_ne!(a, c);
    }

    #[test]
    fn covers_add_up_and_internal_values_are_cover_weighted_means() {
        let x: Vec<f64> = (0..100).flat_map(|i| [i as f64, (i % 7) as f64]).collect();
        let y: Vec<f64> = (0..100)
            .map(|i| (i as f64).sqrt() + (i % 7) as f64)
            .collect();
        let gbm = fit(inputs(2), &x, &y, &params());
        for tree in &gbm.trees {
            for i in 0..tree.len() {
                let (l, r) = (tree.left[i] as usize, tree.right[i] as usize);
                if l == 0 {
                    continue;
                }
                assert_eq!(tree.cover[i], tree.cover[l] + tree.cover[r]);
                let mean =
                    (tree.value[l] * tree.cover[l] + tree.value[r] * tree.cover[r]) / tree.cover[i];
                assert!((tree.value[i] - mean).abs() < 1e-12);
            }
            assert!(
                (60.0..=95.0).contains(&tree.cover[0]),
                "about 0.8 of 100 rows: {}",
                tree.cover[0]
            );
        }
    }
}
