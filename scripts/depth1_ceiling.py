#!/usr/bin/env python3
"""How well can any linear read-out of a depth-1 network's fixed hidden layer classify MNIST? (issue 21, Table 2 rows 1-2)

At learning depth 1 only the output layer learns; the 784 -> 1000 hidden layer keeps its Appendix B initial weights.
Whatever rule trains the output layer, its answer is the most active output cell, a monotone function of a linear
drive W h + b of the hidden activity h, so no rule can beat the best linear classifier of h. This script reads a run's
`weights.h5` (its fixed hidden layer), computes h = max(0, c1 tanh(c2 (W x + b))) for the standardised MNIST images
(SPEC §2.3), and fits two linear read-outs of h to the training set:

  - least squares to one-hot targets (ridge, a small penalty): the optimum of the squared error a delta rule descends;
  - multinomial logistic regression (softmax, cross-entropy) trained with Adam: a stronger linear classifier.

It prints the training and test accuracy of each, next to the run's own output layer. Usage:

    python3 scripts/depth1_ceiling.py RUN_FOLDER [RUN_FOLDER ...] [--epochs N] [--data DIR]

DIR holds MNIST's four IDX files (default: $SNNSIM_DATA_DIR/mnist, else data/mnist).
"""
import argparse
import gzip
import os
import sys

import h5py
import numpy as np

C1, C2 = 0.82, 0.08


def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def mnist(root):
    x = {s: idx(os.path.join(root, f"{p}-images-idx3-ubyte.gz"), 16).reshape(-1, 784).astype(np.float64) / 255
         for s, p in (("train", "train"), ("test", "t10k"))}
    y = {s: idx(os.path.join(root, f"{p}-labels-idx1-ubyte.gz"), 8).astype(np.int64)
         for s, p in (("train", "train"), ("test", "t10k"))}
    # SPEC §2.3: each feature standardised over the training set to mean 0.64 and standard deviation 0.8, features
    # with zero variance set to 0.64.
    m, s = x["train"].mean(0), x["train"].std(0)
    varies = s > 0
    for k in x:
        z = np.full_like(x[k], 0.64)
        z[:, varies] = 0.64 + 0.8 * (x[k][:, varies] - m[varies]) / s[varies]
        x[k] = z.astype(np.float32)
    return x, y


def act(v):
    return np.maximum(0.0, C1 * np.tanh(C2 * v))


def accuracy(scores, y):
    return float((scores.argmax(1) == y).mean())


def ridge(h, y, h_test, y_test, penalty=1.0):
    a = np.hstack([h, np.ones((len(h), 1), h.dtype)]).astype(np.float64)
    a_test = np.hstack([h_test, np.ones((len(h_test), 1), h.dtype)]).astype(np.float64)
    w = np.linalg.solve(a.T @ a + penalty * np.eye(a.shape[1]), a.T @ np.eye(10)[y])
    return accuracy(a @ w, y), accuracy(a_test @ w, y_test)


def softmax(h, y, h_test, y_test, epochs, seed=0):
    rng = np.random.default_rng(seed)
    mean, std = h.mean(0), h.std(0) + 1e-6  # conditioning only: a linear read-out of h either way
    h, h_test = (h - mean) / std, (h_test - mean) / std
    w, b = np.zeros((h.shape[1], 10), np.float32), np.zeros(10, np.float32)
    mw, vw, mb, vb = (np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b))
    lr, b1, b2, t = 1e-3, 0.9, 0.999, 0
    best = (0.0, 0)
    for epoch in range(1, epochs + 1):
        for batch in np.array_split(rng.permutation(len(h)), len(h) // 100):
            z = h[batch] @ w + b
            z -= z.max(1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(1, keepdims=True)
            p[np.arange(len(batch)), y[batch]] -= 1
            gw, gb = h[batch].T @ p / len(batch), p.mean(0)
            t += 1
            mw, vw = b1 * mw + (1 - b1) * gw, b2 * vw + (1 - b2) * gw * gw
            mb, vb = b1 * mb + (1 - b1) * gb, b2 * vb + (1 - b2) * gb * gb
            corr = np.sqrt(1 - b2**t) / (1 - b1**t)
            w -= lr * corr * mw / (np.sqrt(vw) + 1e-8)
            b -= lr * corr * mb / (np.sqrt(vb) + 1e-8)
        test = accuracy(h_test @ w + b, y_test)
        best = max(best, (test, epoch))
        if epoch % 5 == 0 or epoch == epochs:
            print(f"    softmax epoch {epoch}: train {accuracy(h @ w + b, y):.4f}, test {test:.4f}", flush=True)
    return accuracy(h @ w + b, y), accuracy(h_test @ w + b, y_test), best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--data", default=os.path.join(os.environ.get("SNNSIM_DATA_DIR", "data"), "mnist"))
    args = ap.parse_args()
    x, y = mnist(args.data)
    for run in args.runs:
        with h5py.File(os.path.join(run, "weights.h5"), "r") as f:
            w1, b1 = f["forward/hidden1/W"][:], f["forward/hidden1/b"][:]
            wo, bo = f["forward/output/W"][:], f["forward/output/b"][:]
        h = {k: act(x[k] @ w1.T + b1).astype(np.float32) for k in x}
        out = act(h["test"] @ wo.T + bo)
        # snnsim's answer: the most active output cell; all cells at 0 is a tie, counted wrong.
        own = float(((out.argmax(1) == y["test"]) & (out.max(1) > 0)).mean())
        print(f"{run}: hidden cells active {float((h['train'] > 0).mean()):.3f} of the time; "
              f"the run's own output layer: test {own:.4f}")
        tr, te = ridge(h["train"], y["train"], h["test"], y["test"])
        print(f"    least squares (ridge 1.0): train {tr:.4f}, test {te:.4f}", flush=True)
        tr, te, (best, at) = softmax(h["train"], y["train"], h["test"], y["test"], args.epochs)
        print(f"    softmax after {args.epochs} epochs: train {tr:.4f}, test {te:.4f} (best test {best:.4f} at epoch {at})")


if __name__ == "__main__":
    sys.exit(main())
