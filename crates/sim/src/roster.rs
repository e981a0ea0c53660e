//! The populations of a network by name: what each one is, how many cells it has, and which variables a probe may
//! read of it (as Nengo's objects declare what a probe may record). Engines show their state through this roster
//! ([`crate::probe::StepView`]); the recorder and the model check address populations by name and [`PopId`] only.
//!
//! Weight layer l (projection l) feeds population [`Roster::post_of`]`(l)` from [`Roster::pre_of`]`(l)`; "layer"
//! means a weight layer everywhere else in snnsim.

use serde::{Deserialize, Serialize};

/// A population of the roster (its position in raster order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PopId(usize);

impl PopId {
    /// Position in raster order (0 = input), for indexing per-population tables built from the same roster.
    pub fn index(self) -> usize {
        self.0
    }
}

/// What a population is in the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The graded input (pixels), constant over a presentation.
    Input,
    /// Hidden population k (0 = the first), fed by weight layer k.
    Hidden(usize),
    /// The output population, fed by the last weight layer.
    Output,
    /// The excitatory error pool e⁺ = max(a_out − y*, 0) (SPEC §2.1).
    ErrorExc,
    /// The inhibitory error pool e⁻ = max(y* − a_out, 0).
    ErrorInh,
    /// The feedback units of hidden population k (Bernoulli networks, SPEC §5.4): potential δ, signal φ_δ(δ).
    Feedback(usize),
    /// The error units above the output (Bernoulli networks): δ integrates y* − s_out.
    Error,
}

/// A state variable a population may show on a step (`record.traces[..].variables` in a model file).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Variable {
    /// Drive v = W a_below + b.
    V,
    /// Integrated PSP u of a Bernoulli unit, whose spike probability is σ(u) (SPEC §5.4).
    U,
    /// Hillock potential h.
    H,
    /// Activity a (0 or 1 for spiking cells; graded for the input and for rate cells).
    A,
    /// Intracellular teaching signal ι.
    Iota,
    /// Feedback δ.
    Delta,
}

impl Variable {
    /// Name used in files.
    pub fn name(self) -> &'static str {
        match self {
            Variable::V => "v",
            Variable::U => "u",
            Variable::H => "h",
            Variable::A => "a",
            Variable::Iota => "iota",
            Variable::Delta => "delta",
        }
    }

    /// Unit or meaning, stored with the data.
    pub fn unit(self) -> &'static str {
        match self {
            Variable::V => "drive v (decivolts in LIF cells)",
            Variable::U => "PSP u; the unit spikes with probability logistic(u)",
            Variable::H => "hillock potential h, decivolts",
            Variable::A => "activity a (1 = spiking; a feedback unit's signal phi(delta))",
            Variable::Iota => "teaching signal iota (0 when the layer does not learn on that step)",
            Variable::Delta => "feedback delta (0 when the layer does not learn on that step)",
        }
    }

    /// Whether the variable is a learning signal, formed for observers only when a probe asks
    /// ([`crate::probe::Probe::wants_teaching`]).
    pub fn is_teaching(self) -> bool {
        matches!(self, Variable::Iota | Variable::Delta)
    }
}

/// One population: its name in files, role, size, the variables it shows, and whether its activity is spikes.
#[derive(Clone, Debug, PartialEq)]
pub struct Population {
    /// Name in model files, rasters and logs (`input`, `hidden1`, …, `output`, `error_exc`, `error_inh`).
    pub name: String,
    /// What it is.
    pub role: Role,
    /// Number of cells.
    pub cells: usize,
    /// Variables a probe may read ([`Variable::A`] first).
    pub variables: Vec<Variable>,
    /// Whether activity is 0/1 on every step (a spike raster), rather than graded.
    pub spiking: bool,
}

impl Population {
    /// Whether the population shows `variable`.
    pub fn shows(&self, variable: Variable) -> bool {
        self.variables.contains(&variable)
    }
}

/// The populations of a layered network, in raster order: input, hidden…, output, then any error pools.
#[derive(Clone, Debug, PartialEq)]
pub struct Roster {
    pops: Vec<Population>,
}

impl Roster {
    /// The roster of a LIF network of `sizes` (SPEC §2.1): graded input; LIF hidden and output populations showing
    /// v, h, a, ι, δ; the excitatory and inhibitory error pools, showing their activity.
    pub fn lif(sizes: &[usize]) -> Self {
        let cell = [Variable::A, Variable::V, Variable::H, Variable::Iota, Variable::Delta];
        let mut r = Self::layered(sizes, &cell, true);
        let out = *sizes.last().expect("an output layer");
        for (name, role) in [("error_exc", Role::ErrorExc), ("error_inh", Role::ErrorInh)] {
            r.pops.push(Population {
                name: name.into(),
                role,
                cells: out,
                variables: vec![Variable::A],
                spiking: true,
            });
        }
        r
    }

    /// The roster of a stochastic binary network of `sizes` (SPEC §5.4): input, hidden and output populations of
    /// Bernoulli units spiking every step (the input shows its spikes; the others also v and u); one population of
    /// feedback units per hidden layer (`feedback1` …) and the error units above the output (`error`), each showing
    /// its potential δ and, as its activity, the signal φ_δ(δ) it sends down.
    pub fn bernoulli(sizes: &[usize]) -> Self {
        let mut r = Self::layered(sizes, &[Variable::A, Variable::V, Variable::U], true);
        r.pops[0].spiking = true;
        let hidden = sizes.len() - 2;
        let feedback = |name: String, role, cells| Population {
            name,
            role,
            cells,
            variables: vec![Variable::A, Variable::Delta],
            spiking: false,
        };
        for k in 0..hidden {
            r.pops
                .push(feedback(format!("feedback{}", k + 1), Role::Feedback(k), sizes[k + 1]));
        }
        r.pops.push(feedback("error".into(), Role::Error, sizes[hidden + 1]));
        r
    }

    /// The roster of a nonspiking network of `sizes` (SPEC §2.5): input, hidden and output populations of graded
    /// rate cells showing a, v, ι, δ (no hillock, no error pools: the error is e = a_out − y*).
    pub fn rate(sizes: &[usize]) -> Self {
        Self::layered(
            sizes,
            &[Variable::A, Variable::V, Variable::Iota, Variable::Delta],
            false,
        )
    }

    fn layered(sizes: &[usize], cell: &[Variable], spiking: bool) -> Self {
        assert!(sizes.len() >= 2, "an input and an output layer");
        let hidden = sizes.len() - 2;
        let mut pops = vec![Population {
            name: "input".into(),
            role: Role::Input,
            cells: sizes[0],
            variables: vec![Variable::A],
            spiking: false,
        }];
        pops.extend((0..hidden).map(|k| Population {
            name: format!("hidden{}", k + 1),
            role: Role::Hidden(k),
            cells: sizes[k + 1],
            variables: cell.to_vec(),
            spiking,
        }));
        pops.push(Population {
            name: "output".into(),
            role: Role::Output,
            cells: sizes[hidden + 1],
            variables: cell.to_vec(),
            spiking,
        });
        Self { pops }
    }

    /// The population named `name`, if any.
    pub fn find(&self, name: &str) -> Option<PopId> {
        self.pops.iter().position(|p| p.name == name).map(PopId)
    }

    /// The population `id`.
    pub fn get(&self, id: PopId) -> &Population {
        &self.pops[id.0]
    }

    /// Every population with its id, in raster order.
    pub fn iter(&self) -> impl Iterator<Item = (PopId, &Population)> {
        self.pops.iter().enumerate().map(|(i, p)| (PopId(i), p))
    }

    /// Number of populations.
    pub fn len(&self) -> usize {
        self.pops.len()
    }

    /// Always false: a roster has an input and an output.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Names in raster order.
    pub fn names(&self) -> Vec<String> {
        self.pops.iter().map(|p| p.name.clone()).collect()
    }

    /// The input population.
    pub fn input(&self) -> PopId {
        PopId(0)
    }

    /// The output population.
    pub fn output(&self) -> PopId {
        self.post_of(self.weight_layers() - 1)
    }

    /// Number of weight layers (projections) of the network.
    pub fn weight_layers(&self) -> usize {
        self.pops.iter().filter(|p| p.is_fed_forward()).count()
    }

    /// The population weight layer `layer` feeds.
    pub fn post_of(&self, layer: usize) -> PopId {
        assert!(layer < self.weight_layers(), "weight layer {layer} out of range");
        PopId(layer + 1)
    }

    /// The population weight layer `layer` reads.
    pub fn pre_of(&self, layer: usize) -> PopId {
        assert!(layer < self.weight_layers(), "weight layer {layer} out of range");
        PopId(layer)
    }

    /// The weight layer that feeds `pop`, if any (none for the input, the error pools and feedback units).
    pub fn layer_of(&self, pop: PopId) -> Option<usize> {
        self.get(pop).is_fed_forward().then(|| pop.0 - 1)
    }

    /// The population of `role`, if the network has one.
    pub fn with_role(&self, role: Role) -> Option<PopId> {
        self.pops.iter().position(|p| p.role == role).map(PopId)
    }
}

impl Population {
    /// Whether this is one of the two error pools.
    pub fn is_error_pool(&self) -> bool {
        matches!(self.role, Role::ErrorExc | Role::ErrorInh)
    }

    /// Whether a weight layer feeds this population (a hidden or the output population).
    pub fn is_fed_forward(&self) -> bool {
        matches!(self.role, Role::Hidden(_) | Role::Output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lif_roster_names_every_population_and_maps_weight_layers_onto_them() {
        let r = Roster::lif(&[784, 630, 370, 10]);
        assert_eq!(
            r.names(),
            ["input", "hidden1", "hidden2", "output", "error_exc", "error_inh"]
        );
        assert_eq!(r.weight_layers(), 3);
        assert_eq!(r.get(r.post_of(0)).name, "hidden1");
        assert_eq!(r.get(r.pre_of(2)).name, "hidden2");
        assert_eq!(r.output(), r.find("output").unwrap());
        assert_eq!(r.layer_of(r.find("hidden2").unwrap()), Some(1));
        assert_eq!(r.layer_of(r.find("error_inh").unwrap()), None);
        assert_eq!(r.get(r.find("error_exc").unwrap()).cells, 10);
        assert!(r.get(r.find("hidden1").unwrap()).shows(Variable::H));
        assert!(!r.get(r.find("input").unwrap()).shows(Variable::V));
        assert_eq!(r.with_role(Role::Hidden(1)), r.find("hidden2"));
    }

    #[test]
    fn a_bernoulli_roster_has_spiking_layers_and_feedback_units_beside_them() {
        let r = Roster::bernoulli(&[784, 1500, 1500, 1500, 1000]);
        assert_eq!(
            r.names(),
            [
                "input",
                "hidden1",
                "hidden2",
                "hidden3",
                "output",
                "feedback1",
                "feedback2",
                "feedback3",
                "error"
            ]
        );
        assert_eq!(r.weight_layers(), 4);
        assert_eq!(r.output(), r.find("output").unwrap());
        assert!(r.get(r.input()).spiking);
        assert!(r.get(r.find("hidden3").unwrap()).shows(Variable::U));
        let fb = r.find("feedback3").unwrap();
        assert!(!r.get(fb).spiking && r.get(fb).shows(Variable::Delta));
        assert_eq!(r.layer_of(fb), None);
        assert_eq!(r.with_role(Role::Feedback(2)), Some(fb));
        assert_eq!(r.get(r.find("error").unwrap()).cells, 1000);
    }

    #[test]
    fn a_rate_roster_has_no_error_pools_and_no_hillock() {
        let r = Roster::rate(&[30, 20, 10]);
        assert_eq!(r.names(), ["input", "hidden1", "output"]);
        assert_eq!(r.output(), r.find("output").unwrap());
        assert!(!r.get(r.output()).shows(Variable::H));
        assert!(!r.get(r.output()).spiking);
    }
}
