"""snnsim from Python: run spiking networks that learn online, and read what they did as numpy arrays.

The package drives the same library as the ``snnsim`` command line: a run started here writes the same run folder
(``model.ron``, ``summary.json``, ``curve.csv``, ``alignment.csv``, ``confusion.csv``, ``rasters.h5``,
``weights.h5``, ``checkpoint.bin``) with the same bits for the same model and seed, and either side can read or resume what the
other wrote.

    >>> import snnsim
    >>> run = snnsim.run("models/small_lif_ba.ron", set={"protocol.epochs": 1}, seed=3)
    >>> run.summary["test_accuracy"]
    >>> W1, b1 = run.weights()[0]
    >>> spikes = run.spikes("test/00000")["hidden1"]      # spike onsets: spikes.i (cell), spikes.t_ms

Model fields are overridden as with ``--set``: ``set={"learning.algorithm": "FA", "network.layers": [784, 500, 10]}``.
A string value is RON text, written as on the command line (an enum variant such as ``"FA"`` or ``"Fixed(0.001)"``;
a RON string needs its quotes: ``'"data"'``); numbers, booleans, ``None`` and lists are converted.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Tuple, Union

import numpy as np

from . import _snnsim

__version__: str = _snnsim.__version__
__all__ = ["check", "run", "resume", "onsets", "Run", "Spikes", "Trace", "__version__"]

PathLike = Union[str, "os.PathLike[str]"]
CurveCallback = Callable[[Dict[str, float]], Any]


def _ron(value: Any) -> str:
    """A Python value as RON text for an override."""
    if isinstance(value, np.ndarray) and value.ndim <= 1:
        return _ron(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if value is None:
        return "None"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_ron(v) for v in value) + "]"
    raise TypeError(
        f"cannot write {type(value).__name__} {value!r} as a model field; give its RON text as a string"
    )


def _overrides(set: Optional[Mapping[str, Any]], seed: Optional[int] = None) -> List[str]:
    if set is not None and not isinstance(set, Mapping):
        raise TypeError(f"set: expected a mapping of field to value, such as {{'protocol.epochs': 1}}, not {set!r}")
    out = []
    for field, value in (set or {}).items():
        try:
            out.append(f"{field}={_ron(value)}")
        except TypeError as e:
            raise TypeError(f"`{field}`: {e}") from None
    if seed is not None:
        out.append(f"seed={_whole('seed', seed, 0)}")
    return out


def _whole(name: str, value: Any, least: int) -> int:
    """``value`` as an int of at least ``least``, else ``TypeError`` or ``ValueError`` naming the argument."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an int, not {type(value).__name__} {value!r}")
    if value < least or value >= 2**64:
        raise ValueError(f"{name}={value}: expected an int from {least} to 2**64 - 1")
    return int(value)


def _checked_call(threads: Optional[int], on_curve: Optional[CurveCallback]) -> Optional[int]:
    """``threads`` and ``on_curve`` checked before anything is run or written (the upper bound of ``threads``, 8 per
    core, is the library's)."""
    if on_curve is not None and not callable(on_curve):
        raise TypeError(f"on_curve: expected a function of one dict (a learning-curve point), not {on_curve!r}")
    if threads is None:
        return None
    if isinstance(threads, (bool, np.bool_)) or not isinstance(threads, (int, np.integer)):
        raise TypeError(f"threads: expected an int, not {type(threads).__name__} {threads!r}")
    if not 0 <= threads < 2**63:
        raise ValueError(f"threads={threads}: expected 1 to 8 per core")
    return int(threads)


def check(path: PathLike, set: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """Validates the model file ``path`` with the overrides ``set`` and returns the resolved model as a dict (every
    field, defaults filled in), as ``snnsim check`` does. A bad file or override raises ``ValueError`` with the
    message the command line prints (the file, line and field, and what was expected); a missing file
    ``FileNotFoundError``."""
    model_json, _ = _snnsim.check(os.fspath(path), _overrides(set))
    return json.loads(model_json)


def _finish(folder: str, interrupted: Optional[str]) -> "Run":
    r = Run(folder)
    if interrupted is not None:
        import warnings

        warnings.warn(f"{folder}: {interrupted}; continue with snnsim.resume({folder!r})", stacklevel=3)
    return r


def _attached(e: BaseException) -> BaseException:
    folder = getattr(e, "snnsim_run_dir", None)
    if folder is not None:
        try:
            e.run = Run(folder)  # type: ignore[attr-defined]
        except Exception:  # the folder is named in the exception's note in any case
            pass
    return e


def run(
    path: PathLike,
    set: Optional[Mapping[str, Any]] = None,
    seed: Optional[int] = None,
    out: Optional[PathLike] = None,
    threads: Optional[int] = None,
    on_curve: Optional[CurveCallback] = None,
    output_root: PathLike = "output",
    skip_finished: bool = False,
) -> "Run":
    """Trains and tests the model ``path`` as ``snnsim run`` does and returns its run folder as a :class:`Run`.

    ``set`` overrides model fields (``--set``), ``seed`` the seed; ``out`` is the exact run folder (it must not exist
    or be empty, the lock file of an earlier run aside), else a new one is made under ``output_root``. ``threads``
    is the number of worker threads, 1 to 8 per core (default: one per core; the results are the same bits for any
    number; another count raises ``ValueError``). ``on_curve(point)`` is called at every learning-curve point with a
    dict ``{examples, epoch, test_accuracy, test_examples, train_accuracy, elapsed_s}``.

    The GIL is released while the network runs. Ctrl-C (a notebook's interrupt) or an exception raised by
    ``on_curve`` stops the run after the current minibatch: it saves a checkpoint, its summary says
    ``interrupted``, and the exception is raised with the run attached as ``e.run`` and a note naming the folder;
    :func:`resume` or ``snnsim run --resume`` completes it to the result of an uninterrupted run.

    ``skip_finished=True`` (with ``out``) makes a sweep safe to launch again, as ``--skip-finished`` does: a run that
    has finished in ``out`` is returned without running, an interrupted one is resumed from its checkpoint, one that
    failed or was interrupted without a checkpoint is set aside as ``<out>.unfinished`` and started again, and a
    folder that another process is running now raises ``BlockingIOError`` (an ``OSError``) naming that process, where
    the command line skips it: there is no finished run to return. A finished or interrupted run of another model
    (another value in ``set``, say, with the same ``out``) raises ``OSError`` naming the first field that differs.
    """
    threads = _checked_call(threads, on_curve)
    overrides = _overrides(set, seed)
    try:
        folder, interrupted = _snnsim.run(
            os.fspath(path),
            overrides,
            None if out is None else os.fspath(out),
            os.fspath(output_root),
            threads,
            on_curve,
            skip_finished,
        )
    except BaseException as e:
        raise _attached(e)
    return _finish(folder, interrupted)


def resume(folder: PathLike, threads: Optional[int] = None, on_curve: Optional[CurveCallback] = None) -> "Run":
    """Continues the interrupted run in ``folder`` from its checkpoint (``snnsim run --resume``); the finished folder
    equals that of an uninterrupted run, wall times aside. Interrupts behave as in :func:`run`."""
    threads = _checked_call(threads, on_curve)
    try:
        done, interrupted = _snnsim.resume(os.fspath(folder), threads, on_curve)
    except BaseException as e:
        raise _attached(e)
    return _finish(done, interrupted)


class Spikes(NamedTuple):
    """Spike onsets of one population, one entry per spike, in the style of Brian2's ``SpikeMonitor``: ordered by
    step, then cell."""

    i: np.ndarray
    """Cell index of each spike (int64)."""
    step: np.ndarray
    """Step of the presentation at which the spike started (int64; 0 = the first step)."""
    t_ms: np.ndarray
    """Its time, ``step * dt_ms``, in ms (in steps for stochastic binary networks, whose ``dt_ms`` is 1)."""


class Trace(NamedTuple):
    """One recorded variable of chosen cells over a presentation (``record.traces`` in the model)."""

    population: str
    variable: str
    cells: np.ndarray
    """The recorded cells' indices."""
    values: np.ndarray
    """``float32 [samples, len(cells)]``; sample k is step ``k * every_steps``."""
    t_ms: np.ndarray
    """The time of each sample, ms."""
    unit: str


def onsets(raster: np.ndarray, pulse_steps: int = 4, dt_ms: float = 1.0, carried_in: bool = False) -> Spikes:
    """The spike onsets of a ``bool [steps, cells]`` raster of activity whose spikes last ``pulse_steps`` steps (4 for
    the paper's LIF cells: a = 1 for t_ref = 1 ms; 1 for stochastic binary units): a run of k * pulse_steps true
    steps is k spikes, and a run cut off by the end of the raster still has its onset. With ``carried_in`` (cells not
    reset before the raster), a run at step 0 that is not a whole number of pulses began earlier: its first
    ``length % pulse_steps`` steps are not an onset."""
    steps, cells = _snnsim.onsets_of(np.ascontiguousarray(raster, dtype=bool), int(pulse_steps), bool(carried_in))
    return _spikes(steps, cells, dt_ms)


def _spikes(steps: np.ndarray, cells: np.ndarray, dt_ms: float) -> Spikes:
    step = steps.astype(np.int64)
    return Spikes(i=cells.astype(np.int64), step=step, t_ms=step * float(dt_ms))


_CURVE_DTYPE = [
    ("examples", "u8"),
    ("epoch", "u8"),
    ("test_accuracy", "f8"),
    ("test_examples", "u8"),
    ("train_accuracy", "f8"),
    ("elapsed_s", "f8"),
    ("test_nse", "f8"),
]


def _structured(columns: Mapping[str, Any], dtype: List[Tuple[str, str]]) -> np.ndarray:
    n = len(next(iter(columns.values()))) if columns else 0
    out = np.zeros(n, dtype=dtype)
    for name, _ in dtype:
        out[name] = columns[name]
    return out


_TESTS_DTYPE = [
    ("overrides", "O"),
    ("training_examples", "i8"),
    ("training_done", "?"),
    ("test_examples", "i8"),
    ("correct", "i8"),
    ("test_accuracy", "f8"),
    ("test_nse", "f8"),
    ("test_s", "f8"),
    ("commit", "O"),
]


class Run:
    """A run folder, written by ``snnsim run`` or :func:`run`: its summary, learning curve, alignment, trained
    network and recorded examples. Every file is read when asked for, so a ``Run`` of a running or interrupted run
    shows what is on disk now. ``pandas.DataFrame(run.curve)`` turns any of the tables into a data frame."""

    def __init__(self, folder: PathLike) -> None:
        self.path = Path(folder)
        if not (self.path / "summary.json").is_file():
            raise FileNotFoundError(f"{self.path}: not a run folder (no summary.json)")

    def __repr__(self) -> str:
        try:
            s = self.summary
        except OSError as e:  # a notebook must still be able to show the object
            return f"Run({str(self.path)!r}: {e})"
        acc = s.get("test_accuracy")
        acc_text = "" if not isinstance(acc, (int, float)) else f", test accuracy {100 * acc:.2f}%"
        return f"Run({str(self.path)!r}: {s.get('model')}, seed {s.get('seed')}, {s.get('status')}{acc_text})"

    @property
    def summary(self) -> Dict[str, Any]:
        """``summary.json``: status, model, seed, overrides, commit, test accuracy, times. ``OSError`` naming the file
        if it cannot be read or is not a run summary (a JSON object with a ``status``)."""
        path = self.path / "summary.json"
        try:
            s = json.loads(path.read_text())
        except ValueError as e:
            raise OSError(f"{path}: not valid JSON ({e})") from None
        if not isinstance(s, dict) or "status" not in s:
            raise OSError(f"{path}: not a run summary (expected a JSON object with a status)")
        return s

    @property
    def status(self) -> str:
        """``running``, ``finished``, ``interrupted`` or ``failed``."""
        return str(self.summary["status"])

    @property
    def model(self) -> Dict[str, Any]:
        """The resolved model (``model.ron``) as a dict."""
        return check(self.path / "model.ron")

    @property
    def curve(self) -> np.ndarray:
        """The learning curve (``curve.csv``) as a numpy structured array with fields ``examples``, ``epoch``,
        ``test_accuracy``, ``test_examples``, ``train_accuracy`` (NaN at the first point), ``elapsed_s`` and ``test_nse``
        (the normalised squared error of a regression task, NaN for classes)."""
        return _structured(_snnsim.read_curve(os.fspath(self.path / "curve.csv")), _CURVE_DTYPE)

    @property
    def confusion(self) -> np.ndarray:
        """The final test's confusion matrix (``confusion.csv``) as a ``[classes, classes + 1]`` int array: row = true
        class, column = the class answered, the last column the images that named no class (a tie, a silent
        output). ``np.diag(run.confusion) / run.confusion.sum(1)`` is each class's accuracy. Classification runs
        only; ``OSError`` for a run that has none (a regression task, an unfinished run, a run made before
        snnsim wrote it: ``run.test()["confusion"]`` gives it from the checkpoint)."""
        return _snnsim.read_confusion(os.fspath(self.path / "confusion.csv"))

    @property
    def alignment(self) -> np.ndarray:
        """The angle of each learning hidden layer's teaching signal to backprop's (``alignment.csv``): a structured
        array with fields ``examples``, ``population``, ``angle_deg``, ``samples``, ``angle_sd_deg`` (the spread over
        the examples measured), ``folded_deg`` (min(θ, 180° − θ)), ``weight_angle_deg`` (∠(Wᵀ, B)),
        ``unit_angle_deg`` (the mean per-unit angle), ``probe_first_deg`` and ``probe_mean_deg`` (the δ angle on the
        first training image and over the first ``protocol.alignment_probe`` images, learning off); NaN where a run
        did not record them."""
        columns = _snnsim.read_alignment(os.fspath(self.path / "alignment.csv"))
        width = max([len(p) for p in columns["population"]] + [1])
        return _structured(
            columns,
            [
                ("examples", "u8"),
                ("population", f"U{width}"),
                ("angle_deg", "f8"),
                ("samples", "u8"),
                ("angle_sd_deg", "f8"),
                ("folded_deg", "f8"),
                ("weight_angle_deg", "f8"),
                ("unit_angle_deg", "f8"),
                ("probe_first_deg", "f8"),
                ("probe_mean_deg", "f8"),
            ],
        )

    def weights(self) -> List[Tuple[np.ndarray, np.ndarray]]:
        """The trained forward network, input side first: a list of ``(W, b)``, ``W`` float32 ``[post, pre]``, ``b``
        float32 ``[post]``, exactly the numbers the run computes with. Read from ``weights.h5`` (written at the end
        of training), else from the checkpoint of an interrupted run."""
        forward, _, _, _ = _snnsim.weights(os.fspath(self.path))
        return [(w, b) for _, _, w, b in forward]

    def layer_names(self) -> List[Tuple[str, str]]:
        """``(pre, post)`` population names of each weight layer, in the order of :meth:`weights`."""
        forward, _, _, _ = _snnsim.weights(os.fspath(self.path))
        return [(pre, post) for pre, post, _, _ in forward]

    def feedback(self) -> Dict[str, np.ndarray]:
        """The feedback matrices B by the hidden population they teach (float32 ``[hidden cells, from cells]``); empty
        under backprop, whose feedback is the forward weights."""
        _, feedback, _, _ = _snnsim.weights(os.fspath(self.path))
        return {hidden: b for hidden, _, _, b in feedback}

    @property
    def _rasters(self) -> str:
        return os.fspath(self.path / "rasters.h5")

    def examples(self) -> List[str]:
        """The recorded examples, e.g. ``train/00000000`` (presentation number) and ``test/00000`` (test-set index)."""
        return list(_snnsim.examples(self._rasters))

    def _example(self, example: Optional[str]) -> str:
        if example is not None:
            return example
        names = self.examples()
        tests = [n for n in names if n.startswith("test/")]
        if not names:
            raise KeyError(f"{self._rasters}: no recorded example")
        return (tests or names)[0]

    def info(self, example: Optional[str] = None) -> Dict[str, Any]:
        """What is known of a recorded example: ``phase``, ``dataset_index``, ``label``, ``predicted`` (−1 on a
        tie), ``output_counts``, ``dt_ms``, ``steps``, and ``input`` when it was recorded as a graded vector."""
        return dict(_snnsim.example_info(self._rasters, self._example(example)))

    def rasters(self, example: Optional[str] = None) -> Dict[str, np.ndarray]:
        """The spike rasters of a recorded example (default: the first recorded test image) by population:
        ``bool [steps, cells]``, true while the cell's activity a is 1. A LIF spike keeps a = 1 for 4 steps: count
        spikes with :meth:`spikes`, not with the sum of a raster."""
        return dict(_snnsim.rasters(self._rasters, self._example(example)))

    def spikes(self, example: Optional[str] = None) -> Dict[str, Spikes]:
        """The spike onsets of a recorded example by population: one entry per spike (see :class:`Spikes`)."""
        name = self._example(example)
        dt_ms = _snnsim.example_info(self._rasters, name)["dt_ms"]
        return {pop: _spikes(s, c, dt_ms) for pop, (s, c) in _snnsim.onsets(self._rasters, name).items()}

    def traces(self, example: Optional[str] = None) -> List[Trace]:
        """The state traces recorded of an example (``record.traces`` in the model: v, h, a, iota, delta, u)."""
        out = []
        for t in _snnsim.traces(self._rasters, self._example(example)):
            samples = t["values"].shape[0]
            t_ms = np.arange(samples) * t["every_steps"] * t["dt_ms"]
            out.append(Trace(t["population"], t["variable"], t["cells"], t["values"], t_ms, t["unit"]))
        return out

    def test(self, set: Optional[Mapping[str, Any]] = None, threads: Optional[int] = None) -> Dict[str, Any]:
        """Tests the trained network again from its checkpoint, as ``snnsim test``: with no ``set`` it repeats the
        final test; ``set`` may change test-time fields only (``protocol.ties``, ``protocol.count_from_ms``,
        ``network.cells.Bernoulli.readout``, ``network.cells.Bernoulli.test_steps``, ``data.test_limit``), any
        other raises ``ValueError`` naming it. Returns ``{test_accuracy, correct, test_examples, test_nse,
        training_examples, training_done, test_s, overrides, confusion}`` and adds a row to the folder's
        ``tests.csv``; ``confusion`` is the test's confusion matrix as :attr:`confusion` gives the final test's
        (``None`` for a regression task). A Ctrl-C stops the test after its current minibatch and raises
        ``KeyboardInterrupt``, with ``tests.csv`` left as it was."""
        threads = _checked_call(threads, None)
        return _snnsim.retest(os.fspath(self.path), _overrides(set), threads)

    def tests(self) -> np.ndarray:
        """Every test made with :meth:`test` or ``snnsim test``, from ``tests.csv``, as a structured array (empty if
        none); ``overrides`` holds each test's list of assignments."""
        path = self.path / "tests.csv"
        if not path.exists():
            return np.zeros(0, dtype=_TESTS_DTYPE)
        import csv

        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        return np.array(
            [
                (
                    json.loads(r["overrides"]),
                    int(r["training_examples"]),
                    r["training_done"] == "true",
                    int(r["test_examples"]),
                    int(r["correct"]),
                    float(r["test_accuracy"]),
                    float(r["test_nse"]) if r["test_nse"] else np.nan,
                    float(r["test_s"]),
                    r["commit"],
                )
                for r in rows
            ],
            dtype=_TESTS_DTYPE,
        )

    def export_weights(self, out: Optional[PathLike] = None) -> Path:
        """Writes ``weights.h5`` (default: into the run folder) from the checkpoint, as ``snnsim export weights``."""
        target = self.path / "weights.h5" if out is None else Path(out)
        _snnsim.export_weights(os.fspath(self.path), os.fspath(target))
        return target

    def export_nir(self, out: PathLike) -> Path:
        """Writes the trained forward network of a LIF run as NIR, as ``snnsim export nir``; read it with
        ``nir.read``. Rate and stochastic binary runs are refused (``OSError``): NIR has no node for their cells."""
        _snnsim.export_nir(os.fspath(self.path), os.fspath(out))
        return Path(out)

