//! The stage graph: stage A comes before stage B when an output of A is a dependency of B, or
//! one lies inside the other (a directory output feeding a file dependency, or the reverse).

use super::Error;
use super::dvcyaml::Stage;
use super::paths::overlaps;

/// Stages in run order, with their direct upstream stages.
#[derive(Debug, Clone)]
pub struct Dag {
    /// Stage indices (into dvc.yaml order), each after everything it depends on; ties keep
    /// dvc.yaml order.
    pub order: Vec<usize>,
    /// For each stage, the stages whose outputs it reads.
    pub parents: Vec<Vec<usize>>,
}

impl Dag {
    /// Builds the graph; a cycle is an error, as for dvc.
    pub fn build(stages: &[Stage]) -> Result<Dag, Error> {
        let parents: Vec<Vec<usize>> = stages
            .iter()
            .map(|stage| {
                (0..stages.len())
                    .filter(|&other| {
                        stages[other]
                            .outs
                            .iter()
                            .any(|out| stage.input_paths().any(|input| overlaps(&out.path, input)))
                    })
                    .collect()
            })
            .collect();
        let mut remaining: Vec<usize> = parents.iter().map(Vec::len).collect();
        let mut order = Vec::with_capacity(stages.len());
        let mut done = vec![false; stages.len()];
        while order.len() < stages.len() {
            let Some(next) = (0..stages.len()).find(|&i| !done[i] && remaining[i] == 0) else {
                let cycle: Vec<&str> = (0..stages.len())
                    .filter(|&i| !done[i])
                    .map(|i| stages[i].name.as_str())
                    .collect();
                return Err(Error::Cycle(cycle.join(", ")));
            };
            done[next] = true;
            order.push(next);
            for (child, its_parents) in parents.iter().enumerate() {
                remaining[child] -= its_parents.iter().filter(|&&p| p == next).count();
            }
        }
        Ok(Dag { order, parents })
    }

    /// A stage and everything upstream of it, in run order.
    pub fn with_ancestors(&self, stage: usize) -> Vec<usize> {
        let mut wanted = vec![false; self.parents.len()];
        let mut stack = vec![stage];
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut wanted[i], true) {
                stack.extend(&self.parents[i]);
            }
        }
        self.order.iter().copied().filter(|&i| wanted[i]).collect()
    }
}
