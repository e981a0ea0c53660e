//! `weights.h5`: the trained network by population name, for any HDF5 reader (h5py, MATLAB, Julia, `h5dump`).
//!
//! ```text
//! /                 attrs: format (1), snnsim_version, commit, model (RON text), seed, examples_seen,
//!                          training_done (1 = taken at the end of training), populations (input … output)
//! /forward/<post>   one group per weight layer, named by the population it feeds (hidden1 … output)
//!     attrs: layer (0 = from the input), pre, post (population names)
//!     W   f32 [post cells, pre cells]   the synapse from pre cell j onto post cell i is W[i, j]
//!     b   f32 [post cells]              biases
//! /feedback/<hidden> one group per hidden population whose feedback has a matrix of its own (feedback and broadcast
//!                   alignment, derivative-free learning; backprop's feedback is the forward weights and has none)
//!     attrs: reach ("chained": δ from the population above; "broadcast": straight from the output error),
//!            from (that population), rule (how B learned: "fixed", "kolen_pollack", "weight_mirror",
//!            "sign_symmetry")
//!     B     f32 [hidden cells, from cells]
//!     B_FA  f32 [hidden cells, next hidden cells]   only where broadcast feedback learns layer by layer (Kolen-Pollack
//!           with several hidden layers): the layer-wise matrix B is built from (eq A.6)
//! ```
//!
//! The weights are the ones the network computes with: where a decay is applied as a change of scale (stochastic
//! binary networks, [`snn_plasticity::online`]), the scale is multiplied in. Momentum buffers are training state and
//! stay in `checkpoint.bin`.

use crate::error::SimError;
use crate::model::Model;
use crate::network::Network;
use crate::recorder::{h5err, text};
use hdf5::types::VarLenUnicode;
use ndarray::{Array1, Array2};
use snn_plasticity::{FeedbackRule, Reach};
use std::path::Path;

/// The layout version written in the `format` attribute.
pub const FORMAT: u32 = 1;

/// One weight layer.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerWeights {
    /// The population it reads.
    pub pre: String,
    /// The population it feeds (the group's name).
    pub post: String,
    /// `[post, pre]`.
    pub w: Array2<f32>,
    /// `[post]`.
    pub b: Array1<f32>,
}

/// The feedback matrix of one hidden population.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedbackWeights {
    /// The hidden population it teaches (the group's name).
    pub hidden: String,
    /// The population whose error or δ it carries.
    pub from: String,
    /// `chained` or `broadcast`.
    pub reach: String,
    /// How the matrix learned: `fixed`, `kolen_pollack`, `weight_mirror` or `sign_symmetry`.
    pub rule: String,
    /// `[hidden cells, from cells]`.
    pub b: Array2<f32>,
    /// The layer-wise B_FA the broadcast B is built from, where it is kept (`Network::layerwise`).
    pub layerwise: Option<Array2<f32>>,
}

/// Everything `weights.h5` holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    /// Forward layers, input side first.
    pub forward: Vec<LayerWeights>,
    /// Feedback matrices, first hidden population first.
    pub feedback: Vec<FeedbackWeights>,
    /// The resolved model (RON).
    pub model: String,
    /// The model's seed.
    pub seed: u64,
    /// Training examples seen.
    pub examples_seen: u64,
    /// Whether the network is the one at the end of training.
    pub training_done: bool,
}

impl Weights {
    /// The weights of `network`, named by the populations of `model`.
    pub fn of(model: &Model, network: &Network, examples_seen: u64, training_done: bool) -> Self {
        let roster = model.roster();
        let name = |id| roster.get(id).name.clone();
        let forward = network
            .forward
            .iter()
            .enumerate()
            .map(|(l, p)| LayerWeights {
                pre: name(roster.pre_of(l)),
                post: name(roster.post_of(l)),
                w: p.effective_weights(),
                b: p.effective_biases(),
            })
            .collect();
        let output = roster.output();
        let feedback = network
            .feedback
            .iter()
            .enumerate()
            .filter_map(|(h, pathway)| {
                let b = pathway.matrix()?;
                let (reach, from) = match pathway.reach {
                    Reach::Chained => ("chained", roster.post_of(h + 1)),
                    Reach::Broadcast => ("broadcast", output),
                };
                let rule = match pathway.rule {
                    FeedbackRule::Fixed => "fixed",
                    FeedbackRule::KolenPollack { .. } => "kolen_pollack",
                    FeedbackRule::WeightMirror(_) => "weight_mirror",
                    FeedbackRule::SignSymmetry { .. } => "sign_symmetry",
                };
                Some(FeedbackWeights {
                    hidden: name(roster.post_of(h)),
                    from: name(from),
                    reach: reach.into(),
                    rule: rule.into(),
                    b: b.clone(),
                    layerwise: network.layerwise.get(h).cloned(),
                })
            })
            .collect();
        Self {
            forward,
            feedback,
            model: model.to_ron(),
            seed: model.seed(),
            examples_seen,
            training_done,
        }
    }

    /// Writes the file at `path`, replacing it atomically: it is written beside as `<name>.partial`, then renamed,
    /// so that a reader never sees half a file and a failed write (a full disk) leaves the earlier file as it was.
    pub fn write(&self, path: &Path) -> Result<(), SimError> {
        super::check_parent(path)?;
        let partial = path.with_extension("h5.partial");
        let _ = std::fs::remove_file(&partial);
        let result = self
            .write_to(&partial)
            .and_then(|()| std::fs::rename(&partial, path).map_err(|e| SimError::write(path, "the weights file", &e)));
        if result.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        result
    }

    fn write_to(&self, path: &Path) -> Result<(), SimError> {
        let file = hdf5::File::create_excl(path).map_err(|e| h5err(path, "creating the weights file", e))?;
        let write = || -> hdf5::Result<()> {
            file.new_attr::<u32>().create("format")?.write_scalar(&FORMAT)?;
            file.new_attr::<VarLenUnicode>()
                .create("snnsim_version")?
                .write_scalar(&text(env!("CARGO_PKG_VERSION")))?;
            file.new_attr::<VarLenUnicode>()
                .create("commit")?
                .write_scalar(&text(crate::run::COMMIT.unwrap_or("unknown")))?;
            file.new_attr::<VarLenUnicode>()
                .create("model")?
                .write_scalar(&text(&self.model))?;
            file.new_attr::<u64>().create("seed")?.write_scalar(&self.seed)?;
            file.new_attr::<u64>()
                .create("examples_seen")?
                .write_scalar(&self.examples_seen)?;
            file.new_attr::<u8>()
                .create("training_done")?
                .write_scalar(&u8::from(self.training_done))?;
            let chain: Vec<VarLenUnicode> = self
                .forward
                .first()
                .map(|l| text(&l.pre))
                .into_iter()
                .chain(self.forward.iter().map(|l| text(&l.post)))
                .collect();
            file.new_attr_builder().with_data(&chain).create("populations")?;
            let forward = file.create_group("forward")?;
            for (l, layer) in self.forward.iter().enumerate() {
                let g = forward.create_group(&layer.post)?;
                g.new_attr::<u64>().create("layer")?.write_scalar(&(l as u64))?;
                g.new_attr::<VarLenUnicode>()
                    .create("pre")?
                    .write_scalar(&text(&layer.pre))?;
                g.new_attr::<VarLenUnicode>()
                    .create("post")?
                    .write_scalar(&text(&layer.post))?;
                g.new_dataset_builder().with_data(&layer.w).create("W")?;
                g.new_dataset_builder().with_data(&layer.b).create("b")?;
            }
            let feedback = file.create_group("feedback")?;
            for f in &self.feedback {
                let g = feedback.create_group(&f.hidden)?;
                g.new_attr::<VarLenUnicode>()
                    .create("reach")?
                    .write_scalar(&text(&f.reach))?;
                g.new_attr::<VarLenUnicode>()
                    .create("from")?
                    .write_scalar(&text(&f.from))?;
                g.new_attr::<VarLenUnicode>()
                    .create("rule")?
                    .write_scalar(&text(&f.rule))?;
                g.new_dataset_builder().with_data(&f.b).create("B")?;
                if let Some(b_fa) = &f.layerwise {
                    g.new_dataset_builder().with_data(b_fa).create("B_FA")?;
                }
            }
            file.flush()
        };
        write().map_err(|e| h5err(path, "writing the weights", e))?;
        file.close().map_err(|e| h5err(path, "closing the weights file", e))
    }

    /// Reads a file written by [`Weights::write`].
    pub fn read(path: &Path) -> Result<Self, SimError> {
        let file = hdf5::File::open(path).map_err(|e| h5err(path, "opening the weights file", e))?;
        let read = || -> hdf5::Result<Self> {
            let format: u32 = file.attr("format")?.read_scalar()?;
            if format != FORMAT {
                return Err(format!("layout format {format}; this snnsim reads format {FORMAT}").into());
            }
            let string = |name: &str| -> hdf5::Result<String> {
                Ok(file.attr(name)?.read_scalar::<VarLenUnicode>()?.as_str().to_string())
            };
            let chain: Vec<String> = file
                .attr("populations")?
                .read_raw::<VarLenUnicode>()?
                .iter()
                .map(|s| s.as_str().to_string())
                .collect();
            let forward_group = file.group("forward")?;
            let forward = chain
                .windows(2)
                .map(|w| -> hdf5::Result<LayerWeights> {
                    let g = forward_group.group(&w[1])?;
                    Ok(LayerWeights {
                        pre: w[0].clone(),
                        post: w[1].clone(),
                        w: g.dataset("W")?.read_2d()?,
                        b: g.dataset("b")?.read_1d()?,
                    })
                })
                .collect::<hdf5::Result<Vec<_>>>()?;
            let feedback_group = file.group("feedback")?;
            let feedback = chain
                .iter()
                .filter(|name| feedback_group.link_exists(name))
                .map(|name| -> hdf5::Result<FeedbackWeights> {
                    let g = feedback_group.group(name)?;
                    let attr = |a: &str| -> hdf5::Result<String> {
                        Ok(g.attr(a)?.read_scalar::<VarLenUnicode>()?.as_str().to_string())
                    };
                    Ok(FeedbackWeights {
                        hidden: name.clone(),
                        from: attr("from")?,
                        reach: attr("reach")?,
                        rule: attr("rule")?,
                        b: g.dataset("B")?.read_2d()?,
                        layerwise: match g.link_exists("B_FA") {
                            true => Some(g.dataset("B_FA")?.read_2d()?),
                            false => None,
                        },
                    })
                })
                .collect::<hdf5::Result<Vec<_>>>()?;
            Ok(Self {
                forward,
                feedback,
                model: string("model")?,
                seed: file.attr("seed")?.read_scalar()?,
                examples_seen: file.attr("examples_seen")?.read_scalar()?,
                training_done: file.attr("training_done")?.read_scalar::<u8>()? != 0,
            })
        };
        read().map_err(|e| SimError::output(path, format!("not a weights file snnsim can read: {e}")))
    }
}
