//! Checkpoints: the full training state of a run, written atomically, from which `snnsim run --resume` continues to
//! exactly the result an uninterrupted run would give (the same bits).
//!
//! A checkpoint holds the resolved model (to refuse resuming a changed model), the network (weights, biases, momentum
//! buffers, feedback matrices), every random stream, and the [`Progress`] of training (epoch, next minibatch, this
//! epoch's data order, counters, the learning curve so far, training seconds). It is taken at minibatch boundaries,
//! where the simulator holds no other state (cells are reset between examples; resuming a model with
//! `protocol.reset_between_examples: false` is refused), except in engines whose cells carry their state from
//! image to image (SPEC §5.4): their training state is saved with the rest.

use crate::alignment::{AlignmentMeter, AlignmentPoint};
use crate::engine::CellState;
use crate::error::SimError;
use crate::metrics::CurvePoint;
use crate::network::Network;
use crate::seeds::Streams;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// Version of the checkpoint layout; a file of another version is refused. Format 3 frames the encoded state with a
/// marker, its length and its SHA-256, so that a damaged file is named as such (formats 1 and 2 were the bare
/// encoding), and holds the network's feedback as pathways (`Network { forward, feedback }`) and the presentation
/// noise stream among the streams.
/// Format 4 adds the cells' state (engines whose cells carry it from image to image) and each projection's scale.
/// Format 5 adds the learning curve's NSE, the alignment's spread, folded and weight angles, and the angles
/// measured so far in an alignment window. Format 6 adds the alignment probe's angles (`protocol.alignment_probe`).
/// Format 7 adds the layer-wise feedback matrices of broadcast feedback that learns layer by layer
/// (`Network::layerwise`). Formats 3 to 6 are still read.
pub const FORMAT: u32 = 7;

/// The first bytes of every checkpoint file (format 3 on).
const MAGIC: &[u8; 8] = b"SNNSIMCK";
/// Marker, format (u32), payload length (u64) and payload SHA-256, before the payload (all little-endian).
const HEADER: usize = MAGIC.len() + 4 + 8 + 32;
/// A payload length beyond any network snnsim trains (1 TiB): a damaged header, not a truncated file.
const MAX_PAYLOAD: u64 = 1 << 40;

/// Where training stands, besides the network and the random streams.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Epoch in progress (0-based); equal to `protocol.epochs` when training is over.
    pub epoch: usize,
    /// Next minibatch of the epoch.
    pub batch: usize,
    /// This epoch's order of training examples (empty before the epoch's first minibatch).
    pub order: Vec<usize>,
    /// Training presentations so far.
    pub seen: u64,
    /// Examples at which the next learning-curve point is due.
    pub next_curve: u64,
    /// Examples at which the next periodic checkpoint is due.
    pub next_checkpoint: u64,
    /// Correct training answers since the last curve point.
    pub window_correct: usize,
    /// Training answers since the last curve point.
    pub window_total: usize,
    /// Learning-curve points so far.
    pub curve: Vec<CurvePoint>,
    /// Alignment measurements so far.
    pub alignment: Vec<AlignmentPoint>,
    /// Seconds of training before this process (earlier processes of a resumed run).
    pub train_s: f64,
    /// The angles measured so far in the alignment window in progress (`protocol.alignment_window`).
    pub meter: Option<AlignmentMeter>,
}

impl Progress {
    /// The start of training.
    pub fn start(curve_every: usize, checkpoint_every: usize) -> Self {
        Self {
            epoch: 0,
            batch: 0,
            order: Vec::new(),
            seen: 0,
            next_curve: curve_every as u64,
            next_checkpoint: checkpoint_every as u64,
            window_correct: 0,
            window_total: 0,
            curve: Vec::new(),
            alignment: Vec::new(),
            train_s: 0.0,
            meter: None,
        }
    }
}

/// The full training state of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// [`FORMAT`].
    pub format: u32,
    /// The resolved model file (RON) the run was started with.
    pub model: String,
    /// Weights, biases, momentum buffers, feedback pathways.
    pub network: Network,
    /// Every random stream of the run.
    pub streams: Streams,
    /// The training state of the cells, for engines whose cells carry it from one image to the next.
    pub cells: Option<CellState>,
    /// Where training stands.
    pub progress: Progress,
}

impl Checkpoint {
    /// Whether the checkpoint was taken for `model`: its model text parsed and compared as a model file, so that a
    /// checkpoint written before a field was added (which then takes its default) still fits the same model.
    pub fn was_taken_for(&self, model: &crate::model::Model) -> bool {
        crate::model::ModelFile::from_ron(&self.model, Path::new("checkpoint")).is_ok_and(|f| &f == model.file())
    }
}

/// The layout of format 3, read and converted to the current one.
mod format3 {
    use super::*;
    use ndarray::{Array1, Array2};
    use snn_plasticity::{Pathway, Projection};

    #[derive(Serialize, Deserialize)]
    pub struct Checkpoint {
        format: u32,
        model: String,
        network: Network,
        streams: Streams,
        progress: super::format4::Progress,
    }

    #[derive(Serialize, Deserialize)]
    struct Network {
        forward: Vec<Proj>,
        feedback: Vec<Pathway>,
    }

    #[derive(Serialize, Deserialize)]
    struct Proj {
        w: Array2<f32>,
        b: Array1<f32>,
        dw: Array2<f32>,
        db: Array1<f32>,
    }

    impl Checkpoint {
        /// The checkpoint as format 3 wrote it (for the test that it is still read).
        #[cfg(test)]
        pub fn downgrade(c: &super::Checkpoint) -> Self {
            let forward = c
                .network
                .forward
                .iter()
                .map(|p| Proj {
                    w: p.w.clone(),
                    b: p.b.clone(),
                    dw: p.dw.clone(),
                    db: p.db.clone(),
                })
                .collect();
            Self {
                format: 3,
                model: c.model.clone(),
                network: Network {
                    forward,
                    feedback: c.network.feedback.clone(),
                },
                streams: c.streams.clone(),
                progress: super::format4::Progress::downgrade(&c.progress),
            }
        }

        pub fn upgrade(self) -> super::Checkpoint {
            let forward = self
                .network
                .forward
                .into_iter()
                .map(|p| {
                    let mut q = Projection::new(p.w, p.b);
                    (q.dw, q.db) = (p.dw, p.db);
                    q
                })
                .collect();
            super::Checkpoint {
                format: self.format,
                model: self.model,
                network: super::Network {
                    forward,
                    feedback: self.network.feedback,
                    layerwise: Vec::new(),
                },
                streams: self.streams,
                cells: None,
                progress: self.progress.upgrade(),
            }
        }
    }
}

/// The layout of format 4, read and converted to the current one: curve and alignment points without the columns
/// added since, and no alignment window in progress.
mod format4 {
    use super::*;

    #[derive(Serialize, Deserialize)]
    pub struct Checkpoint {
        format: u32,
        model: String,
        network: super::format6::Network,
        streams: Streams,
        cells: Option<CellState>,
        progress: Progress,
    }

    #[derive(Serialize, Deserialize)]
    pub struct Progress {
        epoch: usize,
        batch: usize,
        order: Vec<usize>,
        seen: u64,
        next_curve: u64,
        next_checkpoint: u64,
        window_correct: usize,
        window_total: usize,
        curve: Vec<Curve>,
        alignment: Vec<Alignment>,
        train_s: f64,
    }

    #[derive(Serialize, Deserialize)]
    struct Curve {
        examples: u64,
        epoch: usize,
        test_accuracy: f64,
        test_examples: usize,
        train_accuracy: f64,
        elapsed_s: f64,
    }

    #[derive(Serialize, Deserialize)]
    struct Alignment {
        examples: u64,
        population: String,
        angle_deg: f64,
        samples: u64,
    }

    impl Progress {
        /// The progress as format 4 wrote it (for the tests that old files are still read).
        #[cfg(test)]
        pub fn downgrade(p: &super::Progress) -> Self {
            Self {
                epoch: p.epoch,
                batch: p.batch,
                order: p.order.clone(),
                seen: p.seen,
                next_curve: p.next_curve,
                next_checkpoint: p.next_checkpoint,
                window_correct: p.window_correct,
                window_total: p.window_total,
                curve: p
                    .curve
                    .iter()
                    .map(|c| Curve {
                        examples: c.examples,
                        epoch: c.epoch,
                        test_accuracy: c.test_accuracy,
                        test_examples: c.test_examples,
                        train_accuracy: c.train_accuracy,
                        elapsed_s: c.elapsed_s,
                    })
                    .collect(),
                alignment: p
                    .alignment
                    .iter()
                    .map(|a| Alignment {
                        examples: a.examples,
                        population: a.population.clone(),
                        angle_deg: a.angle_deg,
                        samples: a.samples,
                    })
                    .collect(),
                train_s: p.train_s,
            }
        }

        /// The current progress: the columns format 4 did not have are NaN.
        pub fn upgrade(self) -> super::Progress {
            super::Progress {
                epoch: self.epoch,
                batch: self.batch,
                order: self.order,
                seen: self.seen,
                next_curve: self.next_curve,
                next_checkpoint: self.next_checkpoint,
                window_correct: self.window_correct,
                window_total: self.window_total,
                curve: self
                    .curve
                    .into_iter()
                    .map(|c| CurvePoint {
                        examples: c.examples,
                        epoch: c.epoch,
                        test_accuracy: c.test_accuracy,
                        test_examples: c.test_examples,
                        train_accuracy: c.train_accuracy,
                        elapsed_s: c.elapsed_s,
                        test_nse: f64::NAN,
                    })
                    .collect(),
                alignment: self
                    .alignment
                    .into_iter()
                    .map(|a| AlignmentPoint {
                        examples: a.examples,
                        population: a.population,
                        angle_deg: a.angle_deg,
                        samples: a.samples,
                        angle_sd_deg: f64::NAN,
                        folded_deg: f64::NAN,
                        weight_angle_deg: f64::NAN,
                        unit_angle_deg: f64::NAN,
                        probe_first_deg: f64::NAN,
                        probe_mean_deg: f64::NAN,
                    })
                    .collect(),
                train_s: self.train_s,
                meter: None,
            }
        }
    }

    impl Checkpoint {
        /// The checkpoint as format 4 wrote it (for the test that it is still read).
        #[cfg(test)]
        pub fn downgrade(c: &super::Checkpoint) -> Self {
            Self {
                format: 4,
                model: c.model.clone(),
                network: super::format6::Network::downgrade(&c.network),
                streams: c.streams.clone(),
                cells: c.cells.clone(),
                progress: Progress::downgrade(&c.progress),
            }
        }

        pub fn upgrade(self) -> super::Checkpoint {
            super::Checkpoint {
                format: self.format,
                model: self.model,
                network: self.network.upgrade(),
                streams: self.streams,
                cells: self.cells,
                progress: self.progress.upgrade(),
            }
        }
    }
}

/// The layout of format 6, read and converted to the current one: a network without layer-wise feedback matrices.
mod format6 {
    use super::*;
    use snn_plasticity::{Pathway, Projection};

    /// The network as formats 4 to 6 hold it.
    #[derive(Serialize, Deserialize)]
    pub struct Network {
        forward: Vec<Projection>,
        feedback: Vec<Pathway>,
    }

    impl Network {
        /// The network as formats 4 to 6 wrote it (for the tests that they are still read).
        #[cfg(test)]
        pub fn downgrade(n: &super::Network) -> Self {
            Self {
                forward: n.forward.clone(),
                feedback: n.feedback.clone(),
            }
        }

        /// The current network: no layer-wise matrices (no format before 7 had feedback that learns layer by layer).
        pub fn upgrade(self) -> super::Network {
            super::Network {
                forward: self.forward,
                feedback: self.feedback,
                layerwise: Vec::new(),
            }
        }
    }

    #[derive(Serialize, Deserialize)]
    pub struct Checkpoint {
        format: u32,
        model: String,
        network: Network,
        streams: Streams,
        cells: Option<CellState>,
        progress: super::Progress,
    }

    impl Checkpoint {
        /// The checkpoint as format 6 wrote it (for the test that it is still read).
        #[cfg(test)]
        pub fn downgrade(c: &super::Checkpoint) -> Self {
            Self {
                format: 6,
                model: c.model.clone(),
                network: Network::downgrade(&c.network),
                streams: c.streams.clone(),
                cells: c.cells.clone(),
                progress: c.progress.clone(),
            }
        }

        pub fn upgrade(self) -> super::Checkpoint {
            super::Checkpoint {
                format: self.format,
                model: self.model,
                network: self.network.upgrade(),
                streams: self.streams,
                cells: self.cells,
                progress: self.progress,
            }
        }
    }
}

/// The layout of format 5, read and converted to the current one: alignment points without the probe's columns.
mod format5 {
    use super::*;

    #[derive(Serialize, Deserialize)]
    pub struct Checkpoint {
        format: u32,
        model: String,
        network: super::format6::Network,
        streams: Streams,
        cells: Option<CellState>,
        progress: Progress,
    }

    #[derive(Serialize, Deserialize)]
    struct Progress {
        epoch: usize,
        batch: usize,
        order: Vec<usize>,
        seen: u64,
        next_curve: u64,
        next_checkpoint: u64,
        window_correct: usize,
        window_total: usize,
        curve: Vec<CurvePoint>,
        alignment: Vec<Alignment>,
        train_s: f64,
        meter: Option<AlignmentMeter>,
    }

    #[derive(Serialize, Deserialize)]
    struct Alignment {
        examples: u64,
        population: String,
        angle_deg: f64,
        samples: u64,
        angle_sd_deg: f64,
        folded_deg: f64,
        weight_angle_deg: f64,
        unit_angle_deg: f64,
    }

    impl Checkpoint {
        /// The checkpoint as format 5 wrote it (for the test that it is still read).
        #[cfg(test)]
        pub fn downgrade(c: &super::Checkpoint) -> Self {
            let p = &c.progress;
            Self {
                format: 5,
                model: c.model.clone(),
                network: super::format6::Network::downgrade(&c.network),
                streams: c.streams.clone(),
                cells: c.cells.clone(),
                progress: Progress {
                    epoch: p.epoch,
                    batch: p.batch,
                    order: p.order.clone(),
                    seen: p.seen,
                    next_curve: p.next_curve,
                    next_checkpoint: p.next_checkpoint,
                    window_correct: p.window_correct,
                    window_total: p.window_total,
                    curve: p.curve.clone(),
                    alignment: p
                        .alignment
                        .iter()
                        .map(|a| Alignment {
                            examples: a.examples,
                            population: a.population.clone(),
                            angle_deg: a.angle_deg,
                            samples: a.samples,
                            angle_sd_deg: a.angle_sd_deg,
                            folded_deg: a.folded_deg,
                            weight_angle_deg: a.weight_angle_deg,
                            unit_angle_deg: a.unit_angle_deg,
                        })
                        .collect(),
                    train_s: p.train_s,
                    meter: p.meter.clone(),
                },
            }
        }

        /// The current checkpoint: the probe's columns, which format 5 did not have, are NaN.
        pub fn upgrade(self) -> super::Checkpoint {
            let p = self.progress;
            super::Checkpoint {
                format: self.format,
                model: self.model,
                network: self.network.upgrade(),
                streams: self.streams,
                cells: self.cells,
                progress: super::Progress {
                    epoch: p.epoch,
                    batch: p.batch,
                    order: p.order,
                    seen: p.seen,
                    next_curve: p.next_curve,
                    next_checkpoint: p.next_checkpoint,
                    window_correct: p.window_correct,
                    window_total: p.window_total,
                    curve: p.curve,
                    alignment: p
                        .alignment
                        .into_iter()
                        .map(|a| AlignmentPoint {
                            examples: a.examples,
                            population: a.population,
                            angle_deg: a.angle_deg,
                            samples: a.samples,
                            angle_sd_deg: a.angle_sd_deg,
                            folded_deg: a.folded_deg,
                            weight_angle_deg: a.weight_angle_deg,
                            unit_angle_deg: a.unit_angle_deg,
                            probe_first_deg: f64::NAN,
                            probe_mean_deg: f64::NAN,
                        })
                        .collect(),
                    train_s: p.train_s,
                    meter: p.meter,
                },
            }
        }
    }
}

impl Checkpoint {
    /// The file's bytes: `MAGIC` (`SNNSIMCK`), [`FORMAT`], the payload's length and SHA-256, then the payload (the checkpoint
    /// encoded with postcard).
    pub fn to_bytes(&self) -> Result<Vec<u8>, postcard::Error> {
        use sha2::{Digest, Sha256};
        let payload = postcard::to_stdvec(self)?;
        let mut bytes = Vec::with_capacity(HEADER + payload.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT.to_le_bytes());
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&Sha256::digest(&payload));
        bytes.extend_from_slice(&payload);
        Ok(bytes)
    }

    /// A checkpoint from a file's bytes; the error says what is wrong with them (truncated, corrupt, another format).
    /// The payload is decoded only once its length and SHA-256 are found right, so damage anywhere in the file is
    /// reported as such rather than as whatever the damaged bytes happen to decode to.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        use sha2::{Digest, Sha256};
        const UNREADABLE: &str = "not a readable snnsim checkpoint";
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            if MAGIC.starts_with(bytes) {
                return Err(format!("{UNREADABLE}: it is truncated ({} bytes)", bytes.len()));
            }
            if let Some(old) = legacy_format(bytes) {
                return Err(format!("checkpoint format {old} but this snnsim reads format {FORMAT}"));
            }
            return Err(format!(
                "{UNREADABLE}: it is corrupt (it does not begin with the checkpoint marker)"
            ));
        }
        if bytes.len() < HEADER {
            return Err(format!(
                "{UNREADABLE}: it is truncated ({} bytes, shorter than the {HEADER}-byte header)",
                bytes.len()
            ));
        }
        let format = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if !(3..=FORMAT).contains(&format) {
            return Err(format!(
                "checkpoint format {format} but this snnsim reads format {FORMAT}"
            ));
        }
        let announced = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
        let payload = &bytes[HEADER..];
        if announced > MAX_PAYLOAD {
            return Err(format!(
                "{UNREADABLE}: it is corrupt (its header announces {announced} bytes)"
            ));
        }
        if (payload.len() as u64) < announced {
            return Err(format!(
                "{UNREADABLE}: it is truncated ({} bytes where its header announces {})",
                bytes.len(),
                announced.saturating_add(HEADER as u64)
            ));
        }
        if payload.len() as u64 > announced {
            return Err(format!(
                "{UNREADABLE}: it is corrupt ({} bytes where its header announces {})",
                bytes.len(),
                announced + HEADER as u64
            ));
        }
        if Sha256::digest(payload).as_slice() != &bytes[20..HEADER] {
            return Err(format!(
                "{UNREADABLE}: it is corrupt (its contents do not match the SHA-256 written with them)"
            ));
        }
        let corrupt = |e: postcard::Error| format!("{UNREADABLE}: it is corrupt (its contents do not decode: {e})");
        let mut checkpoint: Self = match format {
            3 => postcard::from_bytes::<format3::Checkpoint>(payload)
                .map_err(corrupt)?
                .upgrade(),
            4 => postcard::from_bytes::<format4::Checkpoint>(payload)
                .map_err(corrupt)?
                .upgrade(),
            5 => postcard::from_bytes::<format5::Checkpoint>(payload)
                .map_err(corrupt)?
                .upgrade(),
            6 => postcard::from_bytes::<format6::Checkpoint>(payload)
                .map_err(corrupt)?
                .upgrade(),
            _ => postcard::from_bytes(payload).map_err(corrupt)?,
        };
        if checkpoint.format != format {
            return Err(format!(
                "{UNREADABLE}: it is corrupt (format {} inside, {format} outside)",
                checkpoint.format
            ));
        }
        checkpoint.format = FORMAT;
        Ok(checkpoint)
    }

    /// Writes the checkpoint to `path` atomically: a temporary file beside it, synced, then renamed over the old one,
    /// so a checkpoint on disk is always complete; when the write fails (a full disk, say) the temporary file is
    /// removed and the previous checkpoint stays as it was.
    pub fn write_atomic(&self, path: &Path) -> Result<(), SimError> {
        let bytes = self
            .to_bytes()
            .map_err(|e| SimError::output(path, format!("encoding: {e}")))?;
        let tmp = path.with_extension("bin.tmp");
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            SimError::write(
                path,
                "the checkpoint (the previous checkpoint, if any, is left as it was)",
                &e,
            )
        })
    }

    /// Reads a checkpoint; a missing, truncated, corrupt or foreign file is an error naming it.
    pub fn read(path: &Path) -> Result<Self, SimError> {
        let bytes =
            std::fs::read(path).map_err(|e| SimError::output(path, format!("cannot read the checkpoint: {e}")))?;
        Self::from_bytes(&bytes).map_err(|reason| SimError::output(path, reason))
    }
}

/// The format number of a checkpoint written before format 3 (the bare postcard encoding: the format number, then the
/// model's RON text), if `bytes` look like one.
fn legacy_format(bytes: &[u8]) -> Option<u32> {
    let (format, rest) = postcard::take_from_bytes::<u32>(bytes).ok()?;
    let (model, _) = postcard::take_from_bytes::<&str>(rest).ok()?;
    ((1..3).contains(&format) && model.trim_start().starts_with('(')).then_some(format)
}

/// Where checkpoints go, and whether the run should stop. The executor asks after every minibatch.
pub trait Checkpoints {
    /// Whether checkpoints are kept at all.
    fn enabled(&self) -> bool;
    /// Saves a checkpoint.
    fn save(&mut self, checkpoint: &Checkpoint) -> Result<(), SimError>;
    /// Saves the checkpoint taken at the end of training (before the final test); a run folder also writes the
    /// trained network in open formats beside it.
    fn save_trained(&mut self, checkpoint: &Checkpoint) -> Result<(), SimError> {
        self.save(checkpoint)
    }
    /// Whether the run was asked to stop (SIGINT, SIGTERM): it then saves a checkpoint and ends as interrupted.
    fn stop_requested(&self) -> bool;
}

/// No checkpoints, never stops.
pub struct NoCheckpoints;

impl Checkpoints for NoCheckpoints {
    fn enabled(&self) -> bool {
        false
    }
    fn save(&mut self, _: &Checkpoint) -> Result<(), SimError> {
        Ok(())
    }
    fn stop_requested(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};
    use snn_plasticity::Projection;

    fn checkpoint() -> Checkpoint {
        let weights = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f32 * 0.25 - 1.0);
        Checkpoint {
            format: FORMAT,
            model: "(name: \"m\", network: (layers: [4, 3]))".into(),
            network: Network {
                forward: vec![Projection::new(weights, Array1::from_elem(3, 0.8))],
                feedback: Vec::new(),
                layerwise: Vec::new(),
            },
            streams: Streams::from_seed(5),
            cells: None,
            progress: Progress::start(10, 20),
        }
    }

    /// The bytes of a checkpoint file of format `format` around `payload`.
    fn framed(format: u32, payload: &[u8]) -> Vec<u8> {
        use sha2::{Digest, Sha256};
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&format.to_le_bytes());
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&Sha256::digest(payload));
        bytes.extend_from_slice(payload);
        bytes
    }

    /// A checkpoint of format 3 (before cell states and projection scales) is read, as the same training state.
    #[test]
    fn a_format_3_checkpoint_is_still_read() {
        let ck = checkpoint();
        let payload = postcard::to_stdvec(&format3::Checkpoint::downgrade(&ck)).unwrap();
        assert_eq!(Checkpoint::from_bytes(&framed(3, &payload)).unwrap(), ck);
    }

    /// A checkpoint of format 4 (before the NSE and the alignment's further angles) is read; its curve and alignment
    /// points have NaN in the new columns.
    #[test]
    fn a_format_4_checkpoint_is_still_read() {
        let mut ck = checkpoint();
        let point = CurvePoint {
            examples: 10,
            epoch: 0,
            test_accuracy: 0.5,
            test_examples: 100,
            train_accuracy: 0.25,
            elapsed_s: 1.5,
            test_nse: 0.125,
        };
        ck.progress.curve.push(point);
        let payload = postcard::to_stdvec(&format4::Checkpoint::downgrade(&ck)).unwrap();
        let mut back = Checkpoint::from_bytes(&framed(4, &payload)).unwrap();
        assert_eq!(back.progress.curve.len(), 1);
        assert!(back.progress.curve[0].test_nse.is_nan(), "no NSE in format 4");
        back.progress.curve[0].test_nse = 0.125;
        assert_eq!(back, ck);
    }

    /// A checkpoint of format 5 (before the alignment probe) is read; its alignment points have NaN in the probe's
    /// columns.
    #[test]
    fn a_format_5_checkpoint_is_still_read() {
        let mut ck = checkpoint();
        ck.progress.alignment.push(AlignmentPoint {
            examples: 10,
            population: "hidden1".into(),
            angle_deg: 40.0,
            samples: 7,
            angle_sd_deg: 2.0,
            folded_deg: 39.0,
            weight_angle_deg: 30.0,
            unit_angle_deg: 35.0,
            probe_first_deg: 1.0,
            probe_mean_deg: 2.0,
        });
        let payload = postcard::to_stdvec(&format5::Checkpoint::downgrade(&ck)).unwrap();
        let mut back = Checkpoint::from_bytes(&framed(5, &payload)).unwrap();
        let point = &mut back.progress.alignment[0];
        assert!(
            point.probe_first_deg.is_nan() && point.probe_mean_deg.is_nan(),
            "no probe in format 5"
        );
        (point.probe_first_deg, point.probe_mean_deg) = (1.0, 2.0);
        assert_eq!(back, ck);
    }

    /// A checkpoint fits its model however the model text was written, a field added since (at its default)
    /// included; not another model's.
    #[test]
    fn a_checkpoint_fits_its_model_written_before_a_field_was_added() {
        let model = crate::model::ModelFile::from_ron("(name: \"m\", network: (layers: [4, 3]))", Path::new("m.ron"))
            .unwrap()
            .check()
            .unwrap();
        let mut ck = checkpoint();
        ck.model = model.to_ron();
        assert!(ck.was_taken_for(&model));
        let field = "        alignment_probe: 0,\n";
        assert!(ck.model.contains(field), "{}", ck.model);
        ck.model = ck.model.replace(field, "");
        assert!(ck.was_taken_for(&model), "without a field at its default");
        ck.model = ck.model.replace("seed: 1,", "seed: 2,");
        assert!(!ck.was_taken_for(&model), "another seed is another model");
    }

    #[test]
    fn a_format_6_checkpoint_is_still_read() {
        let ck = checkpoint();
        let payload = postcard::to_stdvec(&format6::Checkpoint::downgrade(&ck)).unwrap();
        assert_eq!(Checkpoint::from_bytes(&framed(6, &payload)).unwrap(), ck);
        // Layer-wise matrices are in format 7 and read back.
        let mut layered = checkpoint();
        layered.network.layerwise = vec![Array2::from_elem((3, 2), 0.5)];
        assert_eq!(Checkpoint::from_bytes(&layered.to_bytes().unwrap()).unwrap(), layered);
    }

    fn refusal(bytes: &[u8]) -> String {
        Checkpoint::from_bytes(bytes).expect_err("refused")
    }

    #[test]
    fn a_checkpoint_reads_back_as_written() {
        let ck = checkpoint();
        let bytes = ck.to_bytes().unwrap();
        assert_eq!(&bytes[..8], b"SNNSIMCK");
        assert_eq!(Checkpoint::from_bytes(&bytes).unwrap(), ck);
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("checkpoint.bin");
        ck.write_atomic(&path).unwrap();
        assert_eq!(Checkpoint::read(&path).unwrap(), ck);
        assert!(!path.with_extension("bin.tmp").exists());
    }

    #[test]
    fn every_truncation_is_named_as_such() {
        let bytes = checkpoint().to_bytes().unwrap();
        for len in [
            0,
            1,
            7,
            8,
            20,
            HEADER - 1,
            HEADER,
            HEADER + 1,
            bytes.len() / 2,
            bytes.len() - 1,
        ] {
            let e = refusal(&bytes[..len]);
            assert!(
                e.starts_with("not a readable snnsim checkpoint: it is truncated ("),
                "{len} bytes: {e}"
            );
        }
    }

    #[test]
    fn a_flipped_byte_anywhere_after_the_format_is_corruption() {
        let bytes = checkpoint().to_bytes().unwrap();
        for at in (12..bytes.len()).step_by(7).chain([bytes.len() - 1]) {
            let mut bad = bytes.clone();
            bad[at] ^= 0x5a;
            let e = refusal(&bad);
            let named = e.contains("it is corrupt") || (at < 20 && e.contains("it is truncated"));
            assert!(
                e.starts_with("not a readable snnsim checkpoint: ") && named,
                "byte {at}: {e}"
            );
        }
        let mut longer = bytes.clone();
        longer.extend_from_slice(b"more");
        assert!(refusal(&longer).contains("it is corrupt"), "{}", refusal(&longer));
    }

    #[test]
    fn garbage_is_corrupt_not_another_format() {
        // Bytes from a small xorshift generator: no marker, whatever they decode to.
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let mut garbage = || {
            (0..4096)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect::<Vec<u8>>()
        };
        for _ in 0..50 {
            let e = refusal(&garbage());
            assert_eq!(
                e,
                "not a readable snnsim checkpoint: it is corrupt (it does not begin with the checkpoint marker)"
            );
        }
        // The marker and the right format, then garbage.
        let mut framed = MAGIC.to_vec();
        framed.extend_from_slice(&FORMAT.to_le_bytes());
        framed.extend(garbage());
        let e = refusal(&framed);
        assert!(e.contains("it is corrupt") || e.contains("it is truncated"), "{e}");
        // A payload that hashes right but does not decode (a bug, not damage) is still corruption, not a panic.
        let payload = b"\x03(not a checkpoint";
        let mut fake = MAGIC.to_vec();
        fake.extend_from_slice(&FORMAT.to_le_bytes());
        fake.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        {
            use sha2::{Digest, Sha256};
            fake.extend_from_slice(&Sha256::digest(payload));
        }
        fake.extend_from_slice(payload);
        assert!(
            refusal(&fake).contains("it is corrupt (its contents do not decode"),
            "{}",
            refusal(&fake)
        );
    }

    #[test]
    fn another_format_is_named_with_both_numbers() {
        let mut bytes = checkpoint().to_bytes().unwrap();
        bytes[8..12].copy_from_slice(&8u32.to_le_bytes());
        assert_eq!(refusal(&bytes), "checkpoint format 8 but this snnsim reads format 7");
        // A format-2 file: the bare postcard encoding, the format number first.
        let mut old = checkpoint();
        old.format = 2;
        let old = postcard::to_stdvec(&old).unwrap();
        assert_eq!(refusal(&old), "checkpoint format 2 but this snnsim reads format 7");
    }
}
