#![doc = include_str!("../README.md")]
// The doc comments of the argument types are the command's --help text, where `<DIR>` names a value as usual.
#![allow(rustdoc::invalid_html_tags)]

mod progress;

/// Prints a line to standard output. A closed pipe (`snnsim ... | head -1`) ends the program quietly with success
/// instead of a panic; any other write error is reported.
macro_rules! out {
    ($($arg:tt)*) => {
        crate::emit(&format!($($arg)*))?
    };
}

fn emit(line: &str) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(anyhow::anyhow!("cannot write to standard output: {e}")),
    }
}

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use snn_data::DatasetKind;
use snn_sim::run::{RunRequest, execute};
use snn_sim::threads::{IdleWait, run_in_pool};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Parser)]
#[command(
    name = "snnsim",
    version,
    about = "Spiking neural networks that learn online through broadcast alignment"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train and test a model; writes a run folder (resolved model, curve.csv, rasters.h5, summary.json).
    Run {
        /// The model file (RON), e.g. models/mnist_lif_ba.ron.
        #[arg(required_unless_present = "resume")]
        model: Option<PathBuf>,
        /// Continue an interrupted run from its folder's checkpoint (the result equals an uninterrupted run's).
        #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["model", "overrides", "seed", "out"])]
        resume: Option<PathBuf>,
        /// Override a model field: `--set protocol.epochs=1`, `--set network.layers=[784,500,10]` (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        overrides: Vec<String>,
        /// Seed of every random draw (same as `--set seed=N`).
        #[arg(long)]
        seed: Option<u64>,
        /// Exact run folder (must not exist or be empty) instead of a new one under --output-root.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Folder under which run folders are created.
        #[arg(long, value_name = "DIR", default_value = "output")]
        output_root: PathBuf,
        /// Worker threads, 1 to 8 per core (default: one per core). Results are identical for any number.
        #[arg(long)]
        threads: Option<usize>,
        /// How idle worker threads wait between the parallel parts of a step: `sleep` (rayon's own) or `spin` (keep
        /// looking for work, no sleep and wake-up; only for a run that has its cores to itself). Results are identical
        /// either way.
        #[arg(long, value_name = "spin|sleep", default_value = "sleep")]
        idle: IdleWait,
        /// No progress display; print only the result.
        #[arg(long, short)]
        quiet: bool,
        /// With --out: skip the run if its folder says finished, resume it if it holds a checkpoint, start it if the
        /// folder is new, and skip it while another snnsim process runs in it; a run that failed or was interrupted
        /// without a checkpoint (before its first, or a run of several trials, which keep none) is renamed
        /// <DIR>.unfinished and started again. A finished or resumable run of another model (the model file or a --set
        /// value changed, the folder not) is refused, naming the first field that differs. Makes a sweep safe to
        /// re-launch, and two queues safe to share one list of runs.
        #[arg(long, requires = "out")]
        skip_finished: bool,
    },
    /// Test a run's trained network again (from its checkpoint.bin), under other test-time choices: the answer's
    /// ties and counting window, a stochastic network's read-out and test steps, the number of test images. With no
    /// override it repeats the run's final test. Each test adds a row to <RUN>/tests.csv and prints each class's
    /// accuracy.
    Test {
        /// Run folder.
        run: PathBuf,
        /// Change a test-time field: `--set protocol.ties=Lowest`, `--set network.cells.Bernoulli.test_steps=20`
        /// (repeatable; a field that changes training is refused).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        overrides: Vec<String>,
        /// Worker threads, 1 to 8 per core (default: one per core). Results are identical for any number.
        #[arg(long)]
        threads: Option<usize>,
        /// No progress display; print only the result.
        #[arg(long, short)]
        quiet: bool,
        /// Also write the test's confusion matrix to this CSV file (one row per true class: examples, correct,
        /// accuracy, how often it was answered as each class, how often no class was named). The run's own final
        /// test is in <RUN>/confusion.csv.
        #[arg(long, value_name = "FILE")]
        confusion: Option<PathBuf>,
    },
    /// Validate a model file (with overrides) and print the resolved model.
    Check {
        /// The model file.
        model: PathBuf,
        /// Override a model field (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        overrides: Vec<String>,
    },
    /// Measure simulation speed: ms per minibatch, cell updates/s, synaptic events/s, at each thread count, for
    /// training (`train`), training that also measures the alignment with backprop (`align`: the last minibatch of
    /// each learning-curve interval) and testing (`test`). Several model files are measured in alternating rounds
    /// on the same machine, each against the first (ratios of the medians).
    Bench {
        /// The model files (the first is the baseline of the ratios).
        #[arg(required = true, num_args = 1..)]
        models: Vec<PathBuf>,
        /// Override a model field (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        overrides: Vec<String>,
        /// Thread counts to measure, comma-separated, each 1 to 8 per core.
        #[arg(long, value_delimiter = ',', default_value = "1,2")]
        threads: Vec<usize>,
        /// How idle worker threads wait: `spin` or `sleep` (as for `run`).
        #[arg(long, value_name = "spin|sleep", default_value = "sleep")]
        idle: IdleWait,
        /// Measured minibatches per mode.
        #[arg(long, default_value_t = 5)]
        batches: usize,
        /// Unmeasured warm-up minibatches per mode.
        #[arg(long, default_value_t = 1)]
        warmup: usize,
        /// Rounds over the model files, alternating (each round measures every model, mode and thread count once;
        /// the medians are over all rounds).
        #[arg(long, default_value_t = 1)]
        rounds: usize,
        /// Start from the network in this checkpoint (a run folder's checkpoint.bin) instead of the model's initial
        /// one: the speed late in training, when most error pools are silent
        #[arg(long, value_name = "CHECKPOINT")]
        weights: Option<PathBuf>,
    },
    /// Gather the summaries of all runs under the given folders into one CSV table (runs made anywhere, any status).
    Collect {
        /// Run folders, or folders holding run folders (searched recursively).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Write the CSV here and print a readable table; without it the CSV goes to standard output.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Datasets.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Figures from run folders (PNG and SVG), drawn from the run's files without re-running.
    Plot {
        #[command(subcommand)]
        command: PlotCommand,
    },
    /// The trained network of a run folder (from its checkpoint.bin) in open formats.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Every W, b and B by population name in HDF5 (the weights.h5 a run writes at the end of training; from any
    /// checkpoint, e.g. of an interrupted run).
    Weights {
        /// Run folder.
        run: PathBuf,
        /// Output file (default: <run>/weights.h5, replaced).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// The forward network of a LIF run as NIR (Neuromorphic Intermediate Representation): Affine(W, b) into LIF,
    /// for snnTorch, Norse, Lava, Rockpool, Sinabs, Spyx, SpiNNaker2. What NIR cannot express (refractory pulse,
    /// graded input, read-out) is in the graph's metadata.
    Nir {
        /// Run folder.
        run: PathBuf,
        /// Output file, e.g. net.nir (replaced if it exists).
        #[arg(long, short)]
        out: PathBuf,
    },
}

/// The angles `snnsim plot alignment` can draw (`snn_plot::alignment::Angle`).
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum AngleArg {
    Signed,
    Folded,
    Weight,
    Unit,
    Probe,
    ProbeMean,
}

#[derive(Subcommand)]
enum PlotCommand {
    /// Learning curves of one or many runs: runs of the same model (seeds aside) are averaged, with a ±2 SEM band.
    Curve {
        /// Run folders.
        #[arg(required = true)]
        runs: Vec<PathBuf>,
        /// One line per run instead of one per model.
        #[arg(long)]
        each: bool,
        /// One line per folder name less its `-seed<N>` instead of one per model: the rows of a table whose runs
        /// were made under different model names for the same network (scripts/table2.sh names folders
        /// `<row>-seed<N>`).
        #[arg(long, conflicts_with = "each")]
        by_folder: bool,
        /// Plot the test error (100 − accuracy, %) instead of the accuracy, as in Samadi Figs 3–4.
        #[arg(long, conflicts_with = "nse")]
        error: bool,
        /// Plot the normalised squared error of a regression task on a log axis (Lillicrap et al. 2016 Figs 2a, 3d).
        #[arg(long)]
        nse: bool,
        /// Trailing moving average over this many training examples, applied to each run before the mean and band
        /// (e.g. 30000 for a curve point every 1000 examples, each tested on 100 images).
        #[arg(long, value_name = "EXAMPLES")]
        smooth: Option<f64>,
        /// Logarithmic x axis (training examples).
        #[arg(long)]
        log_x: bool,
        /// The y axis range, e.g. 90:100 (default 0 to 102 %).
        #[arg(long, value_name = "LOW:HIGH", value_parser = parse_range)]
        y_range: Option<(f64, f64)>,
        /// Title of the figure.
        #[arg(long)]
        title: Option<String>,
        /// Output path without extension (default: <run>/plots/curve for one run, ./curve for several).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Alignment over training: the angle between each learning hidden layer's teaching signal and backprop's.
    Alignment {
        /// Run folders.
        #[arg(required = true)]
        runs: Vec<PathBuf>,
        /// One line per run instead of one per model.
        #[arg(long)]
        each: bool,
        /// One line per folder name less its `-seed<N>` instead of one per model: the rows of a table whose runs
        /// were made under different model names for the same network (scripts/table2.sh names folders
        /// `<row>-seed<N>`).
        #[arg(long, conflicts_with = "each")]
        by_folder: bool,
        /// Which angle: signed (θ of the teaching signals, 0-180°), folded (min(θ, 180° − θ), as Lillicrap et al.
        /// 2016 plot it), weight (∠(Wᵀ, B)), unit (the mean per-unit angle of Lillicrap Fig 5a), probe (the δ angle
        /// on the first training image, as Akrout et al. 2019 log it) or probe-mean (over the probe images).
        #[arg(long, value_enum, default_value_t = AngleArg::Signed)]
        angle: AngleArg,
        /// For a single run: a band of ±2 SD of the angle over the examples of each window
        /// (protocol.alignment_window), as in Lillicrap Fig 2b.
        #[arg(long)]
        spread: bool,
        /// Logarithmic x axis (training examples).
        #[arg(long)]
        log_x: bool,
        /// Title of the figure.
        #[arg(long)]
        title: Option<String>,
        /// Output path without extension (default: <run>/plots/alignment for one run, ./alignment for several).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Spike raster of one recorded example, populations stacked and coloured, time in ms.
    Raster {
        /// Run folder.
        run: PathBuf,
        /// Recorded example, e.g. test/00000 or train/00000000 (default: the first recorded test image).
        #[arg(long)]
        example: Option<String>,
        /// Most cells shown per population (evenly spaced).
        #[arg(long, default_value_t = 200)]
        max_cells: usize,
        /// Output path without extension (default: <run>/plots/raster-<phase>-<id>).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Traces of one recorded cell: drive v, hillock potential h with threshold and spikes, teaching signal ι
    /// (needs record.traces in the model). For a stochastic binary network (Lillicrap Fig 4): the PSP u and the
    /// modulatory signal φ(δ) of its feedback unit over the first and the last `--window` recorded training images.
    Psp {
        /// Run folder.
        run: PathBuf,
        /// Recorded example, e.g. test/00000 or train/00000000 (default: the first recorded test image).
        #[arg(long)]
        example: Option<String>,
        /// Population of the cell.
        #[arg(long, default_value = "hidden1")]
        population: String,
        /// Cell index within the population (must be among the recorded cells).
        #[arg(long, default_value_t = 0)]
        cell: usize,
        /// Consecutive recorded training images per window (stochastic binary networks).
        #[arg(long, default_value_t = 4)]
        window: usize,
        /// Output path without extension (default: <run>/plots/psp-<population>-<cell>-<phase>-<id>).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Samadi Figure 2: a vs v of a LIF cell by the Appendix A protocol, against E(a) and the tanh fit.
    Rate {
        /// Number of drives, uniform in [-50, 50].
        #[arg(long, default_value_t = 1000)]
        drives: usize,
        /// Seed of the drives and of the 500 sampled pairs.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Take Δt and the LIF constants from this model file (default: the paper's).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Output path without extension.
        #[arg(long, short, default_value = "rate")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum DataCommand {
    /// Download a dataset's missing files and verify every file's SHA-256.
    Fetch {
        /// Which dataset.
        #[arg(long, value_enum, default_value = "mnist")]
        dataset: Dataset,
        /// Data root (the dataset goes into a sub-folder); default: $SNNSIM_DATA_DIR, else ./data.
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Download address (files are fetched as URL + file name); default: the dataset's usual mirror.
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Dataset {
    Mnist,
    FashionMnist,
}

impl From<Dataset> for DatasetKind {
    fn from(d: Dataset) -> Self {
        match d {
            Dataset::Mnist => DatasetKind::Mnist,
            Dataset::FashionMnist => DatasetKind::FashionMnist,
        }
    }
}

/// Set by SIGINT/SIGTERM: the run saves a checkpoint after the current minibatch and stops.
static STOP: AtomicBool = AtomicBool::new(false);

/// First SIGINT/SIGTERM: finish the minibatch, checkpoint, stop. Second: exit at once.
fn install_signal_handler() -> Result<()> {
    ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            eprintln!("\nsecond interrupt: exiting without a new checkpoint");
            std::process::exit(130);
        }
        eprintln!("\ninterrupt: saving a checkpoint after this minibatch (interrupt again to exit at once)");
    })
    .context("cannot install the signal handler")
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            let interrupted = matches!(
                e.downcast_ref::<snn_sim::SimError>(),
                Some(snn_sim::SimError::Interrupted { .. })
            );
            if interrupted {
                ExitCode::from(130)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// `--skip-finished` leaves a folder that another process is running to it.
fn skip_busy(dir: &std::path::Path, holder: &str) -> Result<()> {
    out!(
        "skipping {}: another snnsim process is running it ({holder})",
        dir.display()
    );
    Ok(())
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run {
            model,
            mut resume,
            mut overrides,
            seed,
            out,
            output_root,
            threads,
            idle,
            quiet,
            skip_finished,
        } => {
            // Built before the run folder is looked at: a refused thread count changes nothing there.
            // The run itself executes on one of the pool's threads: a parallel region started from a worker runs its
            // first share on that worker, while one started from outside the pool puts the calling thread to sleep
            // until the workers are done (a wake-up per region, hundreds per minibatch).
            let pool = snn_sim::threads::pool(threads).map_err(|e| anyhow::anyhow!("--threads: {e}"))?;
            if let Some(s) = seed {
                overrides.push(format!("seed={s}"));
            }
            if let (true, Some(dir), Some(model_path)) = (skip_finished, &out, &model) {
                let request = RunRequest {
                    model_path: model_path.clone(),
                    overrides: overrides.clone(),
                    output_root: output_root.clone(),
                    run_dir: out.clone(),
                };
                match snn_sim::run::relaunch(dir, &request)? {
                    snn_sim::run::Relaunch::Skip => {
                        out!("skipping {}: finished already", dir.display());
                        return Ok(());
                    }
                    snn_sim::run::Relaunch::Busy(holder) => return skip_busy(dir, &holder),
                    snn_sim::run::Relaunch::Resume => {
                        eprintln!("resuming {} from its checkpoint", dir.display());
                        resume = Some(dir.clone());
                    }
                    snn_sim::run::Relaunch::Restart => {
                        let aside = snn_sim::run::set_aside(dir)?;
                        eprintln!(
                            "{}: a failed or interrupted run without a checkpoint, set aside as {}; starting again",
                            dir.display(),
                            aside.display()
                        );
                    }
                    snn_sim::run::Relaunch::Start => {}
                }
            }
            install_signal_handler()?;
            let mut display = progress::Display::new(quiet);
            let report = run_in_pool(&pool, idle, || -> anyhow::Result<_> {
                Ok(match (resume, model) {
                    (Some(dir), _) => snn_sim::run::resume(&dir, &mut display, &STOP)?,
                    (None, Some(model_path)) => {
                        let request = RunRequest {
                            model_path,
                            overrides,
                            output_root,
                            run_dir: out,
                        };
                        execute(&request, &mut display, &STOP)?
                    }
                    (None, None) => anyhow::bail!("give a model file, or --resume RUN_DIR"),
                })
            });
            display.finish();
            // Two relaunches that looked at one folder at the same moment: the one that lost the lock skips it.
            if let (true, Err(e)) = (skip_finished, &report)
                && let Some(snn_sim::SimError::Busy { path, holder }) = e.downcast_ref::<snn_sim::SimError>()
            {
                return skip_busy(path, holder);
            }
            let report = report?;
            let s = &report.summary;
            if let Some(r) = s.resumes.last()
                && r.commit != s.commit
            {
                let name = |c: &Option<String>| c.clone().unwrap_or_else(|| "unknown".into());
                eprintln!(
                    "note: the run was started by the build of commit {} and resumed by that of {} (from {} training \
                     examples): the same model and state, not necessarily the same float rounding (summary.json, \
                     \"resumes\")",
                    name(&s.commit),
                    name(&r.commit),
                    r.from_examples
                );
            }
            let o = &report.outcome;
            let trials = report.summary.trials.max(1);
            match o.test_nse {
                Some(nse) if trials > 1 => out!(
                    "test NSE: {nse:.3e} (normalised squared error, mean of {trials} trials on {} held-out examples \
                     each), {} training examples, {:.1} s",
                    o.test_total / trials,
                    o.train_examples_seen,
                    report.summary.wall_s
                ),
                Some(nse) => out!(
                    "test NSE: {nse:.3e} (normalised squared error on {} held-out examples), {} training examples, \
                     {:.1} s",
                    o.test_total,
                    o.train_examples_seen,
                    report.summary.wall_s
                ),
                None => out!(
                    "test accuracy: {:.2}% ({} of {} test images), {} training examples, {:.1} s",
                    100.0 * o.test_accuracy(),
                    o.test_correct,
                    o.test_total,
                    o.train_examples_seen,
                    report.summary.wall_s
                ),
            }
            if let Some(confusion) = &o.confusion {
                out!("{}", confusion.per_class_line());
            }
            out!("run folder: {}", report.dir.display());
            Ok(())
        }
        Command::Test {
            run,
            overrides,
            threads,
            quiet,
            confusion,
        } => {
            if let Some(path) = &confusion {
                snn_sim::confusion::Confusion::check_destination(path)?;
            }
            let pool = snn_sim::threads::pool(threads).map_err(|e| anyhow::anyhow!("--threads: {e}"))?;
            let mut display = progress::Display::new(quiet);
            // No signal handler: Ctrl-C ends the process at once, and tests.csv, written whole after the test, is
            // left as it was.
            let never = AtomicBool::new(false);
            let result = run_in_pool(&pool, IdleWait::Sleep, || {
                snn_sim::retest::retest(&run, &overrides, &mut display, &never)
            });
            display.finish();
            let t = result?;
            // Written before anything is printed: a reader that closes the pipe early ends the program.
            match (&t.confusion, &confusion) {
                (Some(c), Some(path)) => c.write(path)?,
                (None, Some(_)) => {
                    eprintln!("note: a regression task has no confusion matrix; --confusion wrote nothing")
                }
                _ => {}
            }
            let after = match t.training_done {
                true => format!("after training ({} examples)", t.training_examples),
                false => format!("at its checkpoint after {} training examples", t.training_examples),
            };
            match t.test_nse {
                Some(nse) => out!("test NSE: {nse:.3e} on {} held-out examples, {after}", t.test_examples),
                None => out!(
                    "test accuracy: {:.2}% ({} of {} test images), {after}, {:.1} s",
                    100.0 * t.accuracy(),
                    t.correct,
                    t.test_examples,
                    t.test_s
                ),
            }
            if let Some(c) = &t.confusion {
                out!("{}", c.per_class_line());
                if let Some(path) = &confusion {
                    out!("confusion matrix written to {}", path.display());
                }
            }
            out!("added to {}", run.join(snn_sim::retest::TESTS_FILE).display());
            Ok(())
        }
        Command::Check { model, overrides } => {
            let m = RunRequest::new(model, overrides).resolve()?;
            out!("{}", m.to_ron());
            let (algorithm, learning) = (m.algorithm(), m.plan().learning_flags());
            if let Some(b) = m.bernoulli() {
                eprintln!(
                    "ok: stochastic binary cells, {} streams, {} steps per training image and {} per test image, \
                     algorithm {:?}, weight layers learning: {:?}",
                    m.protocol().batch_size,
                    b.train_steps,
                    b.test_steps,
                    algorithm,
                    learning
                );
            } else if let Some(g) = m.graded() {
                eprintln!(
                    "ok: graded cells ({:?} hidden, {:?} output), one step per minibatch of {}, algorithm {:?}, \
                     weight layers learning: {:?}",
                    g.hidden,
                    g.output,
                    m.protocol().batch_size,
                    algorithm,
                    learning
                );
            } else if m.is_rate() {
                let b = m.protocol().batch_size;
                let carry = match m.rate_gram_layer(b) {
                    Some(l) => format!(", weight layer {} carried through the Gram matrix of its input", l + 1),
                    None => String::new(),
                };
                eprintln!(
                    "ok: nonspiking rate cells, {} learning step(s) per minibatch{carry}, algorithm {:?}, weight \
                     layers learning: {:?}",
                    m.steps_per_presentation(true),
                    algorithm,
                    learning
                );
            } else {
                eprintln!(
                    "ok: {} steps per presentation ({} settling), algorithm {:?}, weight layers learning: {:?}",
                    m.steps(),
                    m.settle_steps(),
                    algorithm,
                    learning
                );
            }
            let feedback = m.file().learning.feedback;
            if feedback != snn_sim::model::FeedbackLearning::Fixed {
                eprintln!("feedback matrices learn (SPEC §6): {}", feedback.to_ron());
            }
            Ok(())
        }
        Command::Bench {
            models,
            overrides,
            threads,
            idle,
            batches,
            warmup,
            weights,
            rounds,
        } => bench(
            models,
            overrides,
            &threads,
            idle,
            Repeats {
                batches,
                warmup,
                rounds,
            },
            weights,
        ),
        Command::Collect { dirs, out } => {
            let runs = snn_sim::collect::find(&dirs)?;
            let csv = snn_sim::collect::to_csv(&runs)?;
            match out {
                None => out!("{}", csv.trim_end()),
                Some(path) => {
                    std::fs::write(&path, &csv).with_context(|| format!("{}: cannot write", path.display()))?;
                    out!(
                        "{:<44} {:<11} {:<22} {:>5} {:>9} {:>9} {:>9}",
                        "run",
                        "status",
                        "model",
                        "seed",
                        "accuracy",
                        "examples",
                        "wall (s)"
                    );
                    for r in &runs {
                        let f = snn_sim::collect::row(r);
                        let name = r
                            .dir
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        let col = |name: &str| {
                            let i = snn_sim::collect::COLUMNS.iter().position(|c| *c == name);
                            f[i.expect("a collect column")].clone()
                        };
                        let acc = col("test_accuracy")
                            .parse::<f64>()
                            .map(|a| format!("{:.2}%", 100.0 * a))
                            .unwrap_or_else(|_| "-".into());
                        out!(
                            "{name:<44} {:<11} {:<22} {:>5} {acc:>9} {:>9} {:>9}",
                            col("status"),
                            col("model"),
                            col("seed"),
                            col("train_examples_seen"),
                            col("wall_s")
                        );
                    }
                    out!("{} runs; table written to {}", runs.len(), path.display());
                }
            }
            Ok(())
        }
        Command::Plot { command } => {
            let written = match command {
                PlotCommand::Curve {
                    runs,
                    each,
                    by_folder,
                    error,
                    nse,
                    smooth,
                    log_x,
                    y_range,
                    title,
                    out,
                } => {
                    let stem = out.unwrap_or_else(|| match runs.as_slice() {
                        [one] => one.join("plots").join("curve"),
                        _ => PathBuf::from("curve"),
                    });
                    let measure = match (error, nse) {
                        (true, _) => snn_plot::curve::Measure::Error,
                        (_, true) => snn_plot::curve::Measure::Nse,
                        _ => snn_plot::curve::Measure::Accuracy,
                    };
                    let style = snn_plot::curve::CurveStyle { smooth, log_x, y_range };
                    let grouping = grouping(each, by_folder);
                    snn_plot::curve::plot(&runs, grouping, measure, style, title.as_deref(), &stem)?
                }
                PlotCommand::Alignment {
                    runs,
                    each,
                    by_folder,
                    angle,
                    spread,
                    log_x,
                    title,
                    out,
                } => {
                    let stem = out.unwrap_or_else(|| match runs.as_slice() {
                        [one] => one.join("plots").join("alignment"),
                        _ => PathBuf::from("alignment"),
                    });
                    let angle = match angle {
                        AngleArg::Signed => snn_plot::alignment::Angle::Signed,
                        AngleArg::Folded => snn_plot::alignment::Angle::Folded,
                        AngleArg::Weight => snn_plot::alignment::Angle::Weight,
                        AngleArg::Unit => snn_plot::alignment::Angle::Unit,
                        AngleArg::Probe => snn_plot::alignment::Angle::Probe,
                        AngleArg::ProbeMean => snn_plot::alignment::Angle::ProbeMean,
                    };
                    let grouping = grouping(each, by_folder);
                    snn_plot::alignment::plot(&runs, grouping, angle, spread, log_x, title.as_deref(), &stem)?
                }
                PlotCommand::Raster {
                    run,
                    example,
                    max_cells,
                    out,
                } => snn_plot::raster::plot(&run, example.as_deref(), max_cells, out.as_deref())?,
                PlotCommand::Psp {
                    run,
                    example,
                    population,
                    cell,
                    window,
                    out,
                } => snn_plot::psp::plot(&run, example.as_deref(), &population, cell, window, out.as_deref())?,
                PlotCommand::Rate {
                    drives,
                    seed,
                    model,
                    out,
                } => {
                    anyhow::ensure!(drives > 0, "--drives must be at least 1");
                    let params = match model {
                        Some(m) => RunRequest::new(m, Vec::new()).resolve()?.lif(),
                        None => snn_neuron::LifParams::SAMADI,
                    };
                    let (files, c) = snn_plot::rate::plot(&params, drives, seed, &out)?;
                    out!(
                        "simulated mean a - E(a) over {drives} drives: mean {:+.4} (v > h_th), RMS {:.4}, max {:.4} at v = {:.2}",
                        c.mean_gap,
                        c.rms_gap,
                        c.max_gap.0,
                        c.max_gap.1
                    );
                    files
                }
            };
            for p in written {
                out!("wrote {}", p.display());
            }
            Ok(())
        }
        Command::Export { command } => {
            let (trained, out) = match command {
                ExportCommand::Weights { run, out } => {
                    let out = out.unwrap_or_else(|| run.join("weights.h5"));
                    (snn_sim::export::write_weights(&run, &out)?, out)
                }
                ExportCommand::Nir { run, out } => (snn_sim::export::write_nir(&run, &out)?, out),
            };
            if !trained.training_done {
                eprintln!(
                    "note: the checkpoint was taken after {} training examples, before the end of training",
                    trained.examples_seen
                );
            }
            out!("wrote {}", out.display());
            Ok(())
        }
        Command::Data {
            command: DataCommand::Fetch { dataset, root, url },
        } => {
            let kind = DatasetKind::from(dataset);
            let root = root
                .or_else(|| std::env::var_os("SNNSIM_DATA_DIR").map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from("data"));
            let dir = root.join(kind.folder());
            let url = url.unwrap_or_else(|| kind.default_url().to_string());
            for outcome in snn_data::fetch::fetch_missing(kind, &dir, &url)? {
                match outcome {
                    snn_data::fetch::FetchOutcome::Present(p) => {
                        out!("ok (already there, SHA-256 verified): {}", p.display())
                    }
                    snn_data::fetch::FetchOutcome::Downloaded(p) => {
                        out!("downloaded, SHA-256 verified: {}", p.display())
                    }
                }
            }
            Ok(())
        }
    }
}

/// How often `snnsim bench` measures.
struct Repeats {
    batches: usize,
    warmup: usize,
    rounds: usize,
}

/// `snnsim bench`: every model, mode and thread count timed once per round, rounds alternating over the models, then
/// one table of medians per model and, with several models, each one's ratio to the first.
fn bench(
    paths: Vec<PathBuf>,
    overrides: Vec<String>,
    threads: &[usize],
    idle: IdleWait,
    repeats: Repeats,
    weights: Option<PathBuf>,
) -> Result<()> {
    let Repeats {
        batches,
        warmup,
        rounds,
    } = repeats;
    anyhow::ensure!(batches > 0, "--batches must be at least 1");
    anyhow::ensure!(rounds > 0, "--rounds must be at least 1");
    anyhow::ensure!(
        weights.is_none() || paths.len() == 1,
        "--weights starts one model from a checkpoint: give one model file with it"
    );
    for &n in threads {
        snn_sim::threads::check_threads(n).map_err(|e| anyhow::anyhow!("--threads: {e}"))?;
    }
    let mut models = Vec::new();
    for path in paths {
        let m = RunRequest::new(path, overrides.clone()).resolve()?;
        let start = match &weights {
            None => None,
            Some(path) => {
                let net = snn_sim::checkpoint::Checkpoint::read(path)?.network;
                // Checked here so that a wrong file is named before any data are loaded.
                snn_sim::experiment::Experiment::with_network(&m, net.clone())
                    .with_context(|| format!("{}: cannot start the benchmark from this checkpoint", path.display()))?;
                Some(net)
            }
        };
        let data = snn_sim::dataset::Prepared::load(&m)?;
        models.push((m, data, start));
    }
    let pools = threads
        .iter()
        .map(|&n| snn_sim::threads::pool(Some(n)).map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()?;
    // timings[model][thread count][mode]: every round's measurements.
    let modes = snn_sim::bench::Mode::ALL;
    let mut timings = vec![vec![vec![Vec::new(); modes.len()]; threads.len()]; models.len()];
    for _ in 0..rounds {
        for ((m, data, start), per_model) in models.iter().zip(&mut timings) {
            for (pool, per_threads) in pools.iter().zip(per_model.iter_mut()) {
                for (&mode, per_mode) in modes.iter().zip(per_threads.iter_mut()) {
                    per_mode.push(run_in_pool(pool, idle, || {
                        snn_sim::bench::time_presentations(m, data, mode, warmup, batches, start.as_ref())
                    })?);
                }
            }
        }
    }
    let median_of =
        |t: &[snn_sim::bench::Timing]| -> Vec<f64> { t.iter().flat_map(|t| t.ms.iter().copied()).collect() };
    let baseline: Vec<Vec<f64>> = timings[0]
        .iter()
        .map(|per_threads| per_threads.iter().map(|t| median(median_of(t))).collect())
        .collect();
    for ((m, _, _), per_model) in models.iter().zip(&timings) {
        out!(
            "{}: layers {:?}, batch {}, {} steps/presentation when training ({} when testing), learning depth {}, commit {}",
            m.name(),
            m.layers(),
            m.protocol().batch_size,
            m.steps_per_presentation(true),
            m.steps_per_presentation(false),
            m.plan().learning_flags().iter().filter(|&&l| l).count(),
            snn_sim::run::COMMIT.unwrap_or("unknown")
        );
        let ratio_to = (models.len() > 1).then(|| models[0].0.name().to_string());
        out!(
            "mode   threads  ms/minibatch (median, min-max)   cell updates/s   synaptic events/s{}",
            ratio_to
                .as_ref()
                .map_or(String::new(), |name| format!("   ratio to {name}"))
        );
        for (ti, per_threads) in per_model.iter().enumerate() {
            for (mi, t) in per_threads.iter().enumerate() {
                let ms = median_of(t);
                let (lo, hi) = ms.iter().fold((f64::MAX, 0f64), |(a, b), &x| (a.min(x), b.max(x)));
                let med = median(ms);
                let rate = |f: fn(&snn_sim::bench::Timing) -> f64| t.iter().map(f).sum::<f64>() / t.len() as f64;
                out!(
                    "{:<6} {:>7}  {:>9.1} ({:.1}-{:.1}){:>12}   {:>14.3e}   {:>17.3e}{}",
                    t[0].mode,
                    t[0].threads,
                    med,
                    lo,
                    hi,
                    "",
                    rate(|t| t.cell_updates_per_s),
                    rate(|t| t.synaptic_events_per_s),
                    ratio_to
                        .as_ref()
                        .map_or(String::new(), |_| format!("   {:>8.3}", med / baseline[ti][mi]))
                );
            }
        }
    }
    Ok(())
}

/// The median of `values` (the mean of the middle two for an even count; NaN for none).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => 0.5 * (values[n / 2 - 1] + values[n / 2]),
    }
}

/// `LOW:HIGH` as two numbers (the y range of `plot curve`).
/// The lines of a curve or alignment figure from the `--each` and `--by-folder` flags (clap refuses both at once).
fn grouping(each: bool, by_folder: bool) -> snn_plot::curve::Grouping {
    match (each, by_folder) {
        (true, _) => snn_plot::curve::Grouping::Each,
        (_, true) => snn_plot::curve::Grouping::Folder,
        _ => snn_plot::curve::Grouping::Model,
    }
}

fn parse_range(text: &str) -> Result<(f64, f64), String> {
    let (lo, hi) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}`: expected LOW:HIGH, e.g. 90:100"))?;
    let number = |t: &str| {
        t.trim()
            .parse::<f64>()
            .map_err(|_| format!("`{text}`: `{t}` is not a number (expected LOW:HIGH, e.g. 90:100)"))
    };
    Ok((number(lo)?, number(hi)?))
}
