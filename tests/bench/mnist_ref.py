#!/usr/bin/python3
"""mnist_ref.py — the fast-path benchmark's workload in PyTorch or numpy, for
the side-by-side in `make bench`: MNIST 784 -> 300 sigmoid -> 10, softmax +
cross-entropy (batch mean), plain SGD, float32, one thread, shuffled epochs.
Prints the same key=value line per epoch as build/bench/mnist_mlp.
  mnist_ref.py --impl torch|numpy [--batch B] [--epochs N] [--lr A] [--limit N] [--data DIR]
--limit trains on N images and reports epoch_s scaled to the full 60,000
(extrapolated=1 in the line), for the slow per-sample runs."""
import argparse, os, sys, time, resource

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
import numpy as np


def idx(path, offset):
    with open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--impl", choices=["torch", "numpy"], required=True)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=os.environ.get("CHAINRULE_DATA", "data"))
    a = ap.parse_args()
    d = os.path.join(a.data, "mnist")
    try:
        xtr = idx(os.path.join(d, "train-images-idx3-ubyte"), 16).reshape(-1, 784).astype(np.float32) / np.float32(255)
        ytr = idx(os.path.join(d, "train-labels-idx1-ubyte"), 8).astype(np.int64)
        xte = idx(os.path.join(d, "t10k-images-idx3-ubyte"), 16).reshape(-1, 784).astype(np.float32) / np.float32(255)
        yte = idx(os.path.join(d, "t10k-labels-idx1-ubyte"), 8).astype(np.int64)
    except OSError as e:
        sys.exit("mnist_ref.py: %s" % e)
    n_full = xtr.shape[0]
    N = a.limit if 0 < a.limit < n_full else n_full
    xtr, ytr = xtr[:N], ytr[:N]
    B, lr = a.batch, a.lr
    gflop = n_full * (4.0 * (784 * 300 + 300 * 10) + 2.0 * 300 * 10) / 1e9
    rng = np.random.default_rng(a.seed)
    if a.impl == "torch":
        import torch
        torch.set_num_threads(1)
        torch.manual_seed(a.seed)
        model = torch.nn.Sequential(torch.nn.Linear(784, 300), torch.nn.Sigmoid(), torch.nn.Linear(300, 10))
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        lossf = torch.nn.CrossEntropyLoss()
        X, Y = torch.from_numpy(xtr), torch.from_numpy(ytr)

        def epoch():
            total = 0.0
            perm = torch.from_numpy(rng.permutation(N))
            for i in range(0, N, B):
                j = perm[i:i + B]
                opt.zero_grad()
                loss = lossf(model(X[j]), Y[j])
                loss.backward()
                opt.step()
                total += loss.item() * len(j)
            return total / N

        def acc():
            with torch.no_grad():
                return (model(torch.from_numpy(xte)).argmax(1).numpy() == yte).mean()
    else:
        r = 1 / np.sqrt(784)
        W1 = rng.uniform(-r, r, (784, 300)).astype(np.float32); b1 = rng.uniform(-r, r, 300).astype(np.float32)
        r = 1 / np.sqrt(300)
        W2 = rng.uniform(-r, r, (300, 10)).astype(np.float32); b2 = rng.uniform(-r, r, 10).astype(np.float32)
        eye = np.eye(10, dtype=np.float32)

        def forward(x):
            h = 1 / (1 + np.exp(-(x @ W1 + b1)))
            o = h @ W2 + b2
            o = o - o.max(1, keepdims=True)
            e = np.exp(o)
            return h, e / e.sum(1, keepdims=True)

        def epoch():
            nonlocal W1, b1, W2, b2
            total = 0.0
            perm = rng.permutation(N)
            for i in range(0, N, B):
                j = perm[i:i + B]
                x, t = xtr[j], eye[ytr[j]]
                h, p = forward(x)
                total += -np.log(p[np.arange(len(j)), ytr[j]]).sum()
                d = (p - t) / np.float32(len(j))          # dL/do = (y - t)/B
                dW2, db2 = h.T @ d, d.sum(0)
                dz = (d @ W2.T) * h * (1 - h)             # δ = dh ⊙ σ'
                dW1, db1 = x.T @ dz, dz.sum(0)
                W1 -= lr * dW1; b1 -= lr * db1; W2 -= lr * dW2; b2 -= lr * db2
            return total / N

        def acc():
            return (forward(xte)[1].argmax(1) == yte).mean()

    for ep in range(1, a.epochs + 1):
        t0 = time.perf_counter()
        loss = epoch()
        secs = (time.perf_counter() - t0) * n_full / N
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print("epoch=%d epoch_s=%.3f gflops=%.1f train_loss=%.4f test_acc=%.4f peak_rss_mb=%.1f batch=%d threads=1 impl=%s%s"
              % (ep, secs, gflop / secs, loss, acc(), rss, B, a.impl, " extrapolated_from=%d" % N if N < n_full else ""),
              flush=True)


main()
