#!/usr/bin/env python3
"""Writes the reproduction of Akrout et al. (2019) into docs/results.md (between the akrout2019 markers) from the run
folders OUT_DIR/{bp,fa,kp,wm,wm_reference,ss} of scripts/akrout2019.sh: one table of the six learners (accuracy,
epochs to 98 %, δ and weight angles, wall time, commit) with the reference code's numbers beside them (SPEC §6.5),
one table of the pass bands A1-A3 evaluated one by one, then the commands and the figures. A missing run is listed as
missing; a run still going, or one shorter than the 400 epochs the bands are for, is evaluated as far as it goes.
Usage: akrout2019_report.py OUT_DIR RESULTS_MD"""
import csv
import json
import math
import os
import re
import statistics
import sys

from results_md import write_section

BEGIN, END = "<!-- akrout2019:begin -->", "<!-- akrout2019:end -->"
HEADING = "## Akrout et al. 2019: feedback that learns (rate networks, scripts/akrout2019.sh)"
LEARNERS = ["bp", "fa", "kp", "wm", "wm_reference", "ss"]
LABELS = {"bp": "BP", "fa": "FA", "kp": "KP", "wm": "WM, clean form", "wm_reference": "WM, reference form",
          "ss": "SS"}
MARKS = [1, 10, 100, 400]  # the epochs at which the reference logs its angles (SPEC §6.5)
FULL = 400  # the reference's length: the bands are for 400 epochs
NAN = float("nan")

# The reference code's results (makrout/Deep-Learning-without-Weight-Transport 688f47a, one run, seed 1111; SPEC §6.5):
# test accuracy % at ep 400, mean of ep 391-400, first epoch ≥ 98 % (None: never), δ angle and θ(W₂ᵀ, B₂) at MARKS.
REFERENCE = {
    "bp": (98.50, 98.50, 76, None, None),
    "fa": (97.80, 97.78, None, (42.1, 26.1, 40.4, 34.9), (40.0, 29.3, 41.4, 40.0)),
    "kp": (98.45, 98.45, 52, (19.4, 12.2, 4.4, 3.1), (19.7, 11.2, 4.9, 3.6)),
    "wm": (98.49, 98.48, 104, (63.4, 16.9, 9.1, 3.2), (61.3, 27.5, 9.3, 3.8)),
}
REFERENCE_OF = {"bp": "bp", "fa": "fa", "kp": "kp", "wm": "wm", "wm_reference": "wm"}


def num(text):
    """A CSV or JSON field as a float: NaN for 'NaN', '', None or anything unreadable."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return NAN


def ok(x):
    return x is not None and not math.isnan(x)


def rows(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class Run:
    """One run folder: its summary, resolved model, test curve and alignment log, indexed by epochs completed."""

    def __init__(self, out, name):
        self.name, self.dir = name, os.path.join(out, name)
        with open(os.path.join(self.dir, "summary.json")) as f:
            self.summary = json.load(f)
        try:
            with open(os.path.join(self.dir, "model.ron")) as f:
                self.model = f.read()
        except OSError:
            self.model = ""
        self.epoch_size = self.setting(r"\btrain_limit:\s*(?:Some\()?(\d+)", 59904)
        self.epochs_planned = self.setting(r"\bepochs:\s*(\d+)", None)
        curve = rows(os.path.join(self.dir, "curve.csv"))
        # accuracy[k]: test accuracy (%) after k epochs, k ≥ 1
        self.accuracy = {k: 100 * num(r.get("test_accuracy")) for k, r in self.by_epoch(curve).items()}
        hidden = [r for r in rows(os.path.join(self.dir, "alignment.csv")) if r.get("population") == "hidden1"]
        self.alignment = self.by_epoch(hidden)
        self.elapsed = max((num(r.get("elapsed_s")) for r in curve if ok(num(r.get("elapsed_s")))), default=NAN)

    def setting(self, pattern, default):
        m = re.search(pattern, self.model)
        return int(m.group(1)) if m else default

    def by_epoch(self, table):
        """The rows of `table` that fall on the end of an epoch, keyed by the number of epochs completed (≥ 1); rows
        whose example count is not a whole number of epochs fall back on the 0-based `epoch` column."""
        out = {}
        for r in table:
            x = num(r.get("examples"))
            if not ok(x) or x <= 0:
                continue
            k = x / self.epoch_size
            if abs(k - round(k)) < 1e-9:
                out[int(round(k))] = r
            elif ok(num(r.get("epoch"))):
                out.setdefault(int(num(r["epoch"])) + 1, r)
        return out

    # --- what the tables need ---
    def status(self):
        return self.summary.get("status") or "?"

    def finished(self):
        return self.status() == "finished"

    def epochs(self):
        return max(self.accuracy, default=0)

    def short(self):
        """Whether the bands' 400 epochs were not all run (a shorter run, or one still going)."""
        return self.epochs() < FULL

    def last_accuracy(self):
        return self.accuracy.get(self.epochs(), NAN)

    def mean_last(self, n=10):
        ks = sorted(self.accuracy)[-n:]
        vals = [self.accuracy[k] for k in ks if ok(self.accuracy[k])]
        return statistics.mean(vals) if vals else NAN

    def first_reaching(self, percent=98.0):
        return next((k for k in sorted(self.accuracy) if ok(self.accuracy[k]) and self.accuracy[k] >= percent), None)

    def angle(self, column, epoch):
        r = self.alignment.get(epoch)
        return num(r.get(column)) if r else NAN

    def last_angle(self, column):
        """The angle at the last logged epoch and that epoch (NaN, 0 without alignment)."""
        if not self.alignment:
            return NAN, 0
        k = max(self.alignment)
        return self.angle(column, k), k

    def first_below(self, column, degrees):
        below = [k for k in sorted(self.alignment) if ok(self.angle(column, k)) and self.angle(column, k) < degrees]
        return below[0] if below else None

    def kp_decay(self):
        m = re.search(r"KolenPollack\(\s*decay:\s*([-+0-9.eE]+)", self.model)
        return m.group(1) if m else None

    def wall(self):
        """Wall time: the summary's for a run that ended, else the curve's elapsed time so far."""
        w = num(self.summary.get("wall_s"))
        if self.finished() and ok(w) and w > 0:
            return duration(w)
        if ok(self.elapsed):
            return f"≥ {duration(self.elapsed)} so far"
        return "—"

    def commit(self):
        return (self.summary.get("commit") or "?").replace("-dirty", "")[:12] + (
            "-dirty" if "-dirty" in (self.summary.get("commit") or "") else "")

    def command(self):
        """The command that made the run: the summary's own if it records one, else rebuilt from its model path,
        overrides and thread count the way scripts/akrout2019.sh calls snnsim."""
        given = self.summary.get("command") or self.summary.get("argv")
        if given:
            return " ".join(given) if isinstance(given, list) else str(given)
        model = self.summary.get("model_path") or f"models/akrout_mnist_{self.name}.ron"
        threads = self.summary.get("threads")
        cmd = f"snnsim run {model} --out {self.dir}" + (f" --threads {threads}" if threads else "")
        return cmd + "".join(f" --set {o}" for o in self.summary.get("overrides", []))


def duration(s):
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"


def fmt(x, digits=1, unit=""):
    return f"{x:.{digits}f}{unit}" if ok(x) else "—"


def angle_marks(run, column):
    """'a / b / c / d' at MARKS (— where the run has no such epoch), then the last epoch if it is not a mark."""
    cells = " / ".join(fmt(run.angle(column, k)) for k in MARKS)
    last, k = run.last_angle(column)
    if k and k not in MARKS:
        cells += f" (ep {k}: {fmt(last)})"
    return cells


def reference_row(key):
    acc, mean, first, delta, theta = REFERENCE[key]
    marks = lambda v: " / ".join(f"{a:.1f}" for a in v) if v else "—"
    first_txt = f"ep {first}" if first else "never"
    return (f"| *reference {LABELS[key].split(',')[0]}* | *400* | *{acc:.2f}* | *{mean:.2f}* | *{first_txt}* | "
            f"*{marks(delta)}* | — | *{marks(theta)}* | — | *688f47a (reference code)* |")


def learner_table(runs):
    lines = ["| learner | epochs | test acc. last epoch % | mean last 10 epochs % | first ≥ 98 % "
             "| δ angle ep 1 / 10 / 100 / 400 (first image) | δ angle, mean of 100 images, last epoch "
             "| θ(W₂ᵀ, B₂) ep 1 / 10 / 100 / 400 | wall | commit |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name in LEARNERS:
        label = LABELS[name]
        r = runs.get(name)
        if r is None:
            lines.append(f"| {label} | missing (no readable {name}/summary.json) | | | | | | | | |")
        else:
            if name == "kp" and r.kp_decay() is not None:
                label += f" (λ = {r.kp_decay()})"
            planned = f" of {r.epochs_planned}" if r.epochs_planned else ""
            state = "" if r.finished() else f", {r.status()}"
            if r.summary.get("error"):
                state += f": {r.summary['error']}"
            first = r.first_reaching()
            first_txt = f"ep {first}" if first else ("never" if r.epochs() >= FULL else f"not in {r.epochs()} ep")
            if name == "bp":  # no feedback matrix: the angles are 0 or NaN by construction
                delta = mean100 = theta = "— (no B)"
            else:
                delta, theta = angle_marks(r, "probe_first_deg"), angle_marks(r, "weight_angle_deg")
                mean100 = fmt(r.last_angle("probe_mean_deg")[0])
            lines.append(f"| {label} | {r.epochs()}{planned}{state} | {fmt(r.last_accuracy(), 2)} "
                         f"| {fmt(r.mean_last(), 2)} | {first_txt} | {delta} | {mean100} | {theta} | {r.wall()} "
                         f"| {r.commit()} |")
        if name in REFERENCE and name != "wm":
            lines.append(reference_row(name))
        elif name == "wm_reference":  # the reference's WM row under both forms of WM
            lines.append(reference_row("wm"))
    return lines


def band_table(runs):
    lines = ["| id | what | snnsim | reference | band | pass |", "|---|---|---|---|---|---|"]
    provisional = [False]

    def row(ident, what, ours, ref, band, verdict, names=()):
        """verdict: True, False or None (not measurable); marked * where it rests on the last epoch of a run in
        `names` that is short of 400 epochs (verdicts that are decided before then pass no names)."""
        short = verdict is not None and any(runs[n].short() for n in names if n in runs)
        provisional[0] |= short
        word = {True: "PASS", False: "**FAIL**", None: "—"}[verdict] + ("*" if short else "")
        lines.append(f"| {ident} | {what} | {ours} | {ref} | {band} | {word} |")

    def at(r):
        """'(ep N)' after a value measured before the 400th epoch."""
        return f" (ep {r.epochs()})" if r.short() else ""

    # A1: accuracy, mean of the last 10 epochs.
    for name, centre, half in (("bp", 98.50, 0.2), ("kp", 98.45, 0.2), ("wm_reference", 98.48, 0.25),
                               ("wm", 98.48, 0.25), ("fa", 97.78, 0.3)):
        what = f"mean test accuracy of the last 10 epochs, {LABELS[name]}"
        band = f"{centre:.2f} ± {half}"
        if name in runs and ok(runs[name].mean_last()):
            m = runs[name].mean_last()
            row("A1", what, f"{m:.2f} %{at(runs[name])}", f"{centre:.2f} %", band,
                abs(m - centre) <= half + 1e-9, [name])
        else:
            row("A1", what, "missing", f"{centre:.2f} %", band, None)
    others = [n for n in ("bp", "kp", "wm_reference", "wm") if n in runs and ok(runs[n].mean_last())]
    if "fa" in runs and ok(runs["fa"].mean_last()) and others:
        nxt = min(others, key=lambda n: runs[n].mean_last())
        gap = runs[nxt].mean_last() - runs["fa"].mean_last()
        row("A1", "FA lowest: FA − the next lowest learner, mean of the last 10 epochs",
            f"FA − {LABELS[nxt]}: {-gap:+.2f} pp", "FA − KP: −0.67 pp", "≤ −0.4 pp", gap >= 0.4, ["fa"] + others)
    else:
        row("A1", "FA lowest: FA − the next lowest learner, mean of the last 10 epochs", "missing",
            "FA − KP: −0.67 pp", "≤ −0.4 pp", None)

    # A1: epochs to 98 %.
    def first_txt(name):
        r = runs[name]
        k = r.first_reaching()
        return f"ep {k}" if k else f"not in {r.epochs()} ep"

    if "kp" in runs and "bp" in runs:
        kp, bp = runs["kp"].first_reaching(), runs["bp"].first_reaching()
        if kp and bp:
            verdict = kp < bp
        elif kp and runs["bp"].epochs() >= kp:
            verdict = True
        elif bp and runs["kp"].epochs() >= bp:
            verdict = False
        else:
            verdict = None
        row("A1", "KP reaches 98 % before BP", f"KP {first_txt('kp')}, BP {first_txt('bp')}", "ep 52 vs 76",
            "KP first", verdict)  # decided once it can be: no ep-400 value behind it
    else:
        row("A1", "KP reaches 98 % before BP", "missing", "ep 52 vs 76", "KP first", None)
    for name, ref, clean in (("kp", 52, False), ("bp", 76, False), ("wm_reference", 104, False), ("wm", 104, True)):
        lo, hi = ref - 0.3 * ref, ref + 0.3 * ref
        band = (f"≤ ep {hi:.0f} (no slower than the reference's band)" if clean
                else f"ep {ref} ± 30 % ({lo:.1f}–{hi:.1f})")
        what = f"first epoch ≥ 98 %, {LABELS[name]}"
        if name not in runs:
            row("A1", what, "missing", f"ep {ref}", band, None)
            continue
        r = runs[name]
        k = r.first_reaching()
        if k:
            verdict = k <= hi if clean else abs(k - ref) <= 0.3 * ref
        else:
            verdict = False if r.epochs() >= hi else None  # not reached yet, but the band is still open
        row("A1", what, first_txt(name), f"ep {ref}", band, verdict)  # decided once reached or past the band

    # A2: δ angles (the first training image, as the reference logs it).
    def last(name, column):
        a, k = runs[name].last_angle(column)
        return a, (f" (ep {k})" if k < FULL else "")

    for name, lo, hi, ref in (("kp", None, 5, 3.1), ("wm_reference", None, 6, 3.2), ("wm", None, 6, 3.2),
                              ("fa", 25, 45, 34.9)):
        what = f"δ angle at ep 400, {LABELS[name]}"
        band = f"≤ {hi}°" if lo is None else f"{lo}–{hi}°"
        a, note = last(name, "probe_first_deg") if name in runs else (NAN, "")
        if ok(a):
            row("A2", what, f"{a:.1f}°{note}", f"{ref}°", band, (lo is None or a >= lo) and a <= hi, [name])
        else:
            row("A2", what, "missing", f"{ref}°", band, None)
    for name, lo, hi, ref, strict in (("kp", None, 25, 19.4, True), ("wm_reference", 50, 75, 63.4, False),
                                      ("wm", None, 75, 63.4, False)):
        what = f"δ angle after ep 1, {LABELS[name]}"
        band = (f"< {hi}°" if strict else f"≤ {hi}° (no larger than the reference's band)") if lo is None \
            else f"{lo}–{hi}°"
        a = runs[name].angle("probe_first_deg", 1) if name in runs else NAN
        if ok(a):
            within = (a < hi if strict else a <= hi) and (lo is None or a >= lo)
            row("A2", what, f"{a:.1f}°", f"{ref}°", band, within)  # at ep 1: exact however long the run
        else:
            row("A2", what, "missing", f"{ref}°", band, None)
    for name, clean in (("wm_reference", False), ("wm", True)):
        what = f"first epoch with δ angle < 20°, {LABELS[name]}"
        band = "≤ ep 15 (no later than the reference's band)" if clean else "ep 10 ± 5 (5–15)"
        if name not in runs or not runs[name].alignment:
            row("A2", what, "missing", "ep 10 (16.9°)", band, None)
            continue
        r = runs[name]
        k = r.first_below("probe_first_deg", 20)
        if k:
            row("A2", what, f"ep {k} ({r.angle('probe_first_deg', k):.1f}°)", "ep 10 (16.9°)", band,
                k <= 15 and (clean or k >= 5))  # decided once reached
        else:
            a, e = r.last_angle("probe_first_deg")
            row("A2", what, f"not in {e} ep (ep {e}: {fmt(a)}°)", "ep 10 (16.9°)", band,
                False if e >= 15 else None)
    means = [f"{LABELS[n]} {fmt(last(n, 'probe_mean_deg')[0])}°{last(n, 'probe_mean_deg')[1]}"
             for n in ("fa", "kp", "wm", "wm_reference", "ss") if n in runs]
    row("A2", "mean δ angle over the first 100 training images, last epoch (logged, no band)",
        "; ".join(means) or "missing", "not logged", "—", None)

    # A3: weight angles θ(W₂ᵀ, B₂), 500→10.
    for name, lo, hi, ref in (("kp", None, 5, 3.6), ("wm_reference", None, 6, 3.8), ("wm", None, 6, 3.8),
                              ("fa", 35, 45, 40.0)):
        what = f"θ(W₂ᵀ, B₂) at ep 400, {LABELS[name]}"
        band = f"≤ {hi}°" if lo is None else f"{lo}–{hi}°"
        a, note = last(name, "weight_angle_deg") if name in runs else (NAN, "")
        if ok(a):
            row("A3", what, f"{a:.1f}°{note}", f"{ref}°", band, (lo is None or a >= lo) and a <= hi, [name])
        else:
            row("A3", what, "missing", f"{ref}°", band, None)
    row("A3", "θ(W₁ᵀ, B₁) at ep 400, 784→500, KP / WM / FA",
        "not measurable: snnsim has no input-layer B₁ (nothing uses it; the reference updates it anyway)",
        "20.0° / 12.8° / 89.8°", "20 ± 5°, 13 ± 5°, 90 ± 1°", None)
    row("A4", "CIFAR-10 3072-1000-10 (optional)", "not run by scripts/akrout2019.sh",
        "BP 48.18, FA 42.96, KP 47.57, WM 46.20 %", "± 2 pp", None)
    return lines, provisional[0]


def figures(results):
    """The figure links of scripts/akrout2019.sh that exist beside RESULTS_MD or in the repository's docs/figures."""
    here = os.path.dirname(os.path.abspath(results))
    docs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs")
    out = []
    for name, what in (("akrout_accuracy", "test accuracy per epoch"), ("akrout_delta_angle", "δ angle"),
                       ("akrout_weight_angle", "weight angle θ(W₂ᵀ, B₂)")):
        if any(os.path.exists(os.path.join(d, "figures", f"{name}.png")) for d in (here, docs)):
            out += [f"![Akrout 2019: {what}](figures/{name}.png)", ""]
    return out


def report(out, results):
    runs = {}
    for name in LEARNERS:
        try:
            runs[name] = Run(out, name)
        except (OSError, ValueError):
            pass
    lengths = sorted({r.epochs() for r in runs.values()})
    lines = [BEGIN, "",
             f"Generated by `scripts/akrout2019.sh` (`scripts/akrout2019_report.py`) from the run folders under "
             f"`{out}`. Reference: the authors' code (makrout/Deep-Learning-without-Weight-Transport 688f47a), one run "
             "each, seed 1111, 400 epochs (SPEC §6.5; its rows in italics). \"ep n\" = after n epochs; test accuracy "
             "on all 10 000 test images; δ angle: between the hidden δ and backprop's on the first training image, "
             "as the reference logs it (noisy); the mean over the first 100 training images beside it; weight angle "
             "θ(W₂ᵀ, B₂) of the 500→10 layer; — where a run has no such epoch."]
    if not runs:
        lines += ["", f"No runs under `{out}`.", "", END]
        return lines
    if any(r.short() for r in runs.values()):
        lines[-1] += (f" Runs of {', '.join(map(str, lengths))} epochs: the bands are for 400 epochs, so a verdict "
                      "from a shorter run (or one still going) is marked * and is provisional.")
    lines += [""] + learner_table(runs) + [""]
    bands, provisional = band_table(runs)
    lines += bands
    if provisional:
        lines += ["", "\\* measured before the 400th epoch (the run is shorter, or still going): provisional."]
    lines += ["", "Commands (from each run's summary.json: model file, overrides, threads; seed 1111 as in the model "
              "files; scripts/akrout2019.sh adds `--skip-finished -q`):", ""]
    for name in LEARNERS:
        if name in runs:
            r = runs[name]
            lines.append(f"- {LABELS[name]}: `{r.command()}` ({r.status()}, commit {r.commit()}, {r.wall()})")
        else:
            lines.append(f"- {LABELS[name]}: missing")
    lines.append("")
    lines += figures(results)
    lines.append(END)
    return lines


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    out, results = sys.argv[1], sys.argv[2]
    write_section(results, BEGIN, END, report(out, results), HEADING)
    print(f"wrote the Akrout 2019 table into {results}")
