#!/usr/bin/env python3
"""Writes the reproduction of Lillicrap et al. (2016) into docs/results.md (between the lillicrap2016 markers) from the
run folders of scripts/lillicrap2016.sh: one row per target of SPEC §5.6 (L1-L3, L5, L7) with snnsim's value, the
paper's, the band, whether it passes, the command, the commit and the wall time. A target whose runs are missing is
listed as not run.  Usage: lillicrap2016_report.py OUT_DIR RESULTS_MD"""
import csv
import json
import math
import os
import statistics
import sys

from results_md import write_section

BEGIN, END = "<!-- lillicrap2016:begin -->", "<!-- lillicrap2016:end -->"
MODELS = {
    "linear_bp": "lillicrap_linear_bp", "linear_fa": "lillicrap_linear_fa", "linear_np": "lillicrap_linear_np",
    "linear_shallow": "lillicrap_linear_shallow",
    "deep_3layer_bp": "lillicrap_deep_fit_3layer_bp", "deep_3layer_fa": "lillicrap_deep_fit_3layer_fa",
    "deep_4layer_bp": "lillicrap_deep_fit_4layer_bp", "deep_4layer_fa": "lillicrap_deep_fit_4layer_fa",
    "deep_shallow": "lillicrap_deep_fit_shallow",
    "quadratic_fa": "lillicrap_quadratic_fa", "quadratic_phases": "lillicrap_quadratic_phases",
    "mnist_bp": "lillicrap_mnist_bp", "mnist_fa": "lillicrap_mnist_fa", "mnist_fa_sparse": "lillicrap_mnist_fa_sparse",
    "mnist_shallow": "lillicrap_mnist_shallow",
}


class Run:
    """One run folder: its summary, curve, trials and alignment."""

    def __init__(self, out, name):
        self.name, self.dir = name, os.path.join(out, name)
        with open(os.path.join(self.dir, "summary.json")) as f:
            self.summary = json.load(f)
        self.curve = rows(os.path.join(self.dir, "curve.csv"))
        self.trials = rows(os.path.join(self.dir, "trials.csv"))
        self.alignment = rows(os.path.join(self.dir, "alignment.csv"))

    def finished(self):
        return self.summary.get("status") == "finished"

    def final(self, column):
        """The final test's value of `column` of each trial (the run's own for a run of one trial)."""
        if self.trials:
            return [float(t[column]) for t in self.trials]
        key = {"test_nse": "test_nse", "test_accuracy": "test_accuracy"}[column]
        return [float(self.summary[key])]

    def command(self):
        sets = "".join(f" --set {o}" for o in self.summary.get("overrides", []))
        return f"`snnsim run models/{MODELS[self.name]}.ron{sets}`"

    def provenance(self):
        commit = (self.summary.get("commit") or "?")[:12]
        return f"{commit}, {self.summary.get('wall_s', float('nan')):.0f} s"


def rows(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f))


def first_reaching(curve, threshold):
    """Examples of the first curve point with NSE at or below `threshold` (None if never)."""
    for p in curve:
        if float(p["test_nse"]) <= threshold:
            return int(p["examples"])
    return None


def welch(a, b):
    """Welch's t statistic and two-sided p-value for the means of samples a and b."""
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    t = (statistics.mean(a) - statistics.mean(b)) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    return t, incomplete_beta(df / 2, 0.5, df / (df + t * t))


def incomplete_beta(a, b, x):
    """The regularised incomplete beta function I_x(a, b) (continued fraction, Numerical Recipes §6.4)."""
    if x <= 0 or x >= 1:
        return float(x >= 1)
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x))
    if x > (a + 1) / (a + b + 2):
        return 1 - incomplete_beta(b, a, 1 - x)
    c, d, f = 1.0, 1 - (a + b) * x / (a + 1), 0.0
    d = 1 / (d if abs(d) > 1e-300 else 1e-300)
    f = d
    for m in range(1, 300):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1 + num * d
            d = 1 / (d if abs(d) > 1e-300 else 1e-300)
            c = 1 + num / c if abs(1 + num / c) > 1e-300 else 1e-300
            f *= c * d
        if abs(c * d - 1) < 1e-14:
            break
    return front * f / a


def mean_sd(xs):
    return statistics.mean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def report(out):
    runs = {}
    for name in MODELS:
        try:
            runs[name] = Run(out, name)
        except OSError:
            pass
    lines = [BEGIN, "", "| id | what | snnsim | paper | band | pass | runs (command; commit, wall time) |",
             "|---|---|---|---|---|---|---|"]

    def row(ident, what, ours, paper, band, ok, names):
        used = [runs[n] for n in names if n in runs]
        where = "; ".join(f"{r.command()} ({r.provenance()})" for r in used) or "not run"
        verdict = {True: "yes", False: "**no**", None: "—"}[ok]
        lines.append(f"| {ident} | {what} | {ours} | {paper} | {band} | {verdict} | {where} |")

    def have(*names):
        return all(n in runs and runs[n].finished() for n in names)

    # L1, L2: the linear task (Fig 2a, b).
    if have("linear_bp", "linear_fa", "linear_np", "linear_shallow"):
        end = {n: runs[n].final("test_nse")[0] for n in ("linear_bp", "linear_fa", "linear_np", "linear_shallow")}
        bp_at, fa_at = first_reaching(runs["linear_bp"].curve, 1e-2), first_reaching(runs["linear_fa"].curve, 1e-2)
        ratio = fa_at / bp_at if fa_at and bp_at else float("nan")
        names = ["linear_bp", "linear_fa"]
        row("L1", "final NSE, BP / FA", f"{end['linear_bp']:.1e} / {end['linear_fa']:.1e}", "≈1e-11 / ≈1e-12",
            "≤ 1e-10", end["linear_bp"] <= 1e-10 and end["linear_fa"] <= 1e-10, names)
        row("L1", "examples to NSE 1e-2, FA / BP", f"{fa_at} / {bp_at} (×{ratio:.2f})", "FA 0.5–1 decade ahead",
            "FA ≤ 1.5 × BP", ratio <= 1.5, names)
        np_ok = 1e-3 <= end["linear_np"] <= 1e-1 and end["linear_np"] >= 100 * max(end["linear_bp"], end["linear_fa"])
        row("L1", "final NSE, node perturbation", f"{end['linear_np']:.1e}", "≈1e-2", "[1e-3, 1e-1], ≥ 100 × BP, FA",
            np_ok, ["linear_np"])
        row("L1", "final NSE, shallow", f"{end['linear_shallow']:.3f}", "≈1", "≥ 0.5", end["linear_shallow"] >= 0.5,
            ["linear_shallow"])
    else:
        row("L1", "Fig 2a (linear task)", "not run", "", "", None, [])
    if have("linear_fa"):
        points = [p for p in runs["linear_fa"].alignment if p["population"] == "hidden1"]
        folded = [(int(p["examples"]), float(p["folded_deg"])) for p in points]
        first = folded[0][1] if folded else float("nan")
        total = runs["linear_fa"].summary["train_examples_seen"]
        below = next((x for x, a in folded if a < 45), None)
        late = statistics.mean(a for x, a in folded if x > total / 2)
        row("L2", "folded FA–BP angle: first 10 examples", f"{first:.1f}°", "∼90°", "90 ± 15°", abs(first - 90) <= 15,
            ["linear_fa"])
        row("L2", "… first window below 45°", f"{below} examples", "early", f"≤ {total // 10} (10 % of the run)",
            below is not None and below <= total / 10, ["linear_fa"])
        row("L2", "… mean over the second half", f"{late:.1f}°", "never 0", "≥ 10°", late >= 10, ["linear_fa"])

    # L3: MNIST (Fig 3a).
    mnist = {n: runs[n] for n in ("mnist_bp", "mnist_fa", "mnist_fa_sparse", "mnist_shallow") if have(n)}
    papers = {"mnist_bp": (2.4, 0.3), "mnist_fa": (2.1, 0.3), "mnist_fa_sparse": (2.4, 0.3),
              "mnist_shallow": (7.2, 1.5)}
    errors = {}
    for n, r in mnist.items():
        errs = [100 * (1 - a) for a in r.final("test_accuracy")]
        errors[n] = statistics.mean(errs)
        p, band = papers[n]
        label = n.removeprefix("mnist_").replace("_", " ")
        epochs = r.summary["train_examples_seen"] // max(len(errs), 1) // 60000
        spread = f" ± {statistics.stdev(errs):.2f}" if len(errs) > 1 else ""
        ours = f"{errors[n]:.2f}{spread} % ({len(errs)} run{'s' if len(errs) > 1 else ''}, {epochs} epochs)"
        row("L3", f"MNIST test error, {label}", ours, f"{p} % (20 runs)", f"{p} ± {band} %",
            abs(errors[n] - p) <= band, [n])
    if "mnist_bp" in errors and "mnist_fa" in errors:
        d = errors["mnist_fa"] - errors["mnist_bp"]
        row("L3", "FA − BP", f"{d:+.2f} pp", "−0.3 pp", "≤ +0.1 pp", d <= 0.1, ["mnist_bp", "mnist_fa"])
    if not mnist:
        row("L3", "Fig 3a (MNIST)", "not run", "", "", None, [])
    for n in ("mnist_bp", "mnist_fa"):
        if n in mnist:
            early = [100 * (1 - float(p["test_accuracy"])) for p in mnist[n].curve if int(p["examples"]) > 0]
            row("L3", f"{n.removeprefix('mnist_').upper()} test error after the first curve point",
                f"{early[0]:.1f} %" if early else "—", "< 10 % within ~2 % of training", "< 10 %",
                bool(early) and early[0] < 10, [n])
    if "mnist_fa" in mnist:
        folded = [float(p["folded_deg"]) for p in mnist["mnist_fa"].alignment if p["population"] == "hidden1"]
        if folded:
            half = folded[len(folded) // 2:]
            flat = max(half) - min(half)
            row("L4", "folded FA–BP angle on MNIST: first point → last (spread over the second half)",
                f"{folded[0]:.1f}° → {folded[-1]:.1f}° ({flat:.1f}°)", "quickly aligns, then stable",
                "< 60° early, roughly flat", folded[0] < 60 and flat < 15, ["mnist_fa"])

    # L5: the deep teacher (Fig 3d).
    deep = ["deep_3layer_bp", "deep_3layer_fa", "deep_4layer_bp", "deep_4layer_fa", "deep_shallow"]
    if have(*deep):
        fin = {n: runs[n].final("test_nse") for n in deep}
        mean = {n: statistics.mean(v) for n, v in fin.items()}
        for alg in ("bp", "fa"):
            t, p = welch(fin[f"deep_3layer_{alg}"], fin[f"deep_4layer_{alg}"])
            ok = mean[f"deep_4layer_{alg}"] < mean[f"deep_3layer_{alg}"] and p < 1e-6
            paper_p = {"bp": "3e-12", "fa": "9e-13"}[alg]
            row("L5", f"4 layers beat 3, {alg.upper()} (Welch t-test, n = {len(fin[f'deep_3layer_{alg}'])})",
                f"{mean[f'deep_3layer_{alg}']:.2e} → {mean[f'deep_4layer_{alg}']:.2e}, t = {t:.1f}, p = {p:.1e}",
                f"p = {paper_p}", "4 < 3, p < 1e-6", ok, [f"deep_3layer_{alg}", f"deep_4layer_{alg}"])
        for depth in ("3layer", "4layer"):
            r = mean[f"deep_{depth}_fa"] / mean[f"deep_{depth}_bp"]
            row("L5", f"FA / BP final NSE, {depth[0]} layers", f"{r:.2f}", "≈1 (3 layers), 0.8 (4 layers)", "≤ 1.2",
                r <= 1.2, [f"deep_{depth}_bp", f"deep_{depth}_fa"])
        for n, paper in (("deep_3layer_bp", 2.1e-3), ("deep_3layer_fa", 2.1e-3), ("deep_4layer_bp", 1.05e-3),
                         ("deep_4layer_fa", 0.85e-3), ("deep_shallow", 0.13)):
            m, sd = mean_sd(fin[n])
            row("L5", f"final NSE, {n.removeprefix('deep_').replace('_', ' ')} (mean ± SD)", f"{m:.2e} ± {sd:.1e}",
                f"{paper:.2e}", "× 1.5 (soft)", paper / 1.5 <= m <= paper * 1.5, [n])
    else:
        row("L5", "Fig 3d (deep teacher)", "not run", "", "", None, [])

    # L7: the mechanism (Fig 5a, c).
    if have("quadratic_fa"):
        units = [float(p["unit_angle_deg"]) for p in runs["quadratic_fa"].alignment if p["population"] == "hidden1"]
        nse = runs["quadratic_fa"].final("test_nse")[0]
        row("L7", "mean per-unit angle W[:, j] vs B[j, :], first → last", f"{units[0]:.1f}° → {units[-1]:.1f}°",
            "falls (no number)", "from ≈ 90°, ends < 60°", abs(units[0] - 90) <= 20 and units[-1] < 60,
            ["quadratic_fa"])
        row("L7", "final NSE of FA on the quadratic task", f"{nse:.3f}", "—", "—", None, ["quadratic_fa"])
    if have("quadratic_phases"):
        r = runs["quadratic_phases"]
        at = {int(p["examples"]): float(p["test_nse"]) for p in r.curve}
        marks = [0, 20000, 40000, 60000]
        if all(m in at for m in marks):
            d1, d3 = at[0] - at[20000], at[40000] - at[60000]
            ours = " → ".join(f"{at[m]:.3f}" for m in marks)
            row("L7", "NSE at the phase boundaries (W₀, W, W₀)", f"{ours}; phase 1 {-d1:+.3f}, phase 3 {-d3:+.3f}",
                "phase 3 effective", "phase 3 lowers NSE more than phase 1", d3 > d1, ["quadratic_phases"])
    lines += ["", END]
    return lines


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    out, results = sys.argv[1], sys.argv[2]
    write_section(results, BEGIN, END, report(out), "## Lillicrap et al. 2016: feedback alignment")
    print(f"wrote the Lillicrap 2016 table into {results}")
