#!/usr/bin/python3
"""cnn_ref.py — build/bench/mnist_cnn's workload in PyTorch, for the side-by-
side in `make bench`: MNIST 28x28x1 -> conv 3x3x32 SAME + bias -> ReLU ->
BatchNorm2d (training mode, eps 1e-3, momentum 0.1) -> 2x2 max-pool -> flatten
NHWC -> 6272 -> 784 ReLU -> 10, softmax + cross-entropy (batch mean), Adam
lr 1e-4, batch 32, float32, one thread (torch.set_num_threads(1)).
Prints the same key=value line per epoch as mnist_cnn:
  cnn_ref.py [--batch B] [--epochs N] [--train N] [--data DIR]
--train times the first N shuffled images of the epoch and scales epoch_s to
60,000 (scaled=1 and train=N in the line say so); test_acc is then that of
the partly trained network."""
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
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--train", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=os.environ.get("CHAINRULE_DATA", "data"))
    a = ap.parse_args()
    if a.batch < 1 or a.epochs < 1 or a.train < 0:
        sys.exit("cnn_ref.py: --batch and --epochs must be >= 1, --train >= 0")
    d = os.path.join(a.data, "mnist")
    try:
        xtr = idx(os.path.join(d, "train-images-idx3-ubyte"), 16).reshape(-1, 1, 28, 28).astype(np.float32) / np.float32(255)
        ytr = idx(os.path.join(d, "train-labels-idx1-ubyte"), 8).astype(np.int64)
        xte = idx(os.path.join(d, "t10k-images-idx3-ubyte"), 16).reshape(-1, 1, 28, 28).astype(np.float32) / np.float32(255)
        yte = idx(os.path.join(d, "t10k-labels-idx1-ubyte"), 8).astype(np.int64)
    except OSError as e:
        sys.exit("cnn_ref.py: %s" % e)
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 32, 3, padding=1)
            self.bn = nn.BatchNorm2d(32, eps=1e-3, momentum=0.1)
            self.fc1 = nn.Linear(14 * 14 * 32, 784)
            self.fc2 = nn.Linear(784, 10)

        def forward(self, x):
            h = nn.functional.max_pool2d(self.bn(torch.relu(self.conv(x))), 2)
            h = h.permute(0, 2, 3, 1).reshape(x.shape[0], -1)      # flatten NHWC, as the fast path
            return self.fc2(torch.relu(self.fc1(h)))

    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    lossf = nn.CrossEntropyLoss()
    n_full = xtr.shape[0]
    N = a.train if 0 < a.train < n_full else n_full
    X, Y = torch.from_numpy(xtr), torch.from_numpy(ytr)
    rng = np.random.default_rng(a.seed)
    B = a.batch
    conv, fc1, fc2 = 2.0 * 784 * 9 * 32, 2.0 * 6272 * 784, 2.0 * 784 * 10
    flop_img = 2 * conv + 3 * fc1 + 3 * fc2

    for ep in range(1, a.epochs + 1):
        model.train()
        perm = torch.from_numpy(rng.permutation(n_full)[:N])
        total = 0.0
        t0 = time.perf_counter()
        for i in range(0, N, B):
            j = perm[i:i + B]
            opt.zero_grad()
            loss = lossf(model(X[j]), Y[j])
            loss.backward()
            opt.step()
            total += loss.item() * len(j)
        secs = time.perf_counter() - t0
        model.eval()
        right = 0
        with torch.no_grad():
            for i in range(0, xte.shape[0], 100):
                right += int((model(torch.from_numpy(xte[i:i + 100])).argmax(1).numpy() == yte[i:i + 100]).sum())
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print("epoch=%d epoch_s=%.3f full_epoch_s=%.2f scaled=%d train=%d gflops=%.1f train_loss=%.4f test_acc=%.4f "
              "peak_rss_mb=%.1f batch=%d threads=1 impl=torch-%s"
              % (ep, secs, secs * n_full / N, int(N < n_full), N, flop_img * N / secs / 1e9, total / N,
                 right / xte.shape[0], rss, B, torch.__version__), flush=True)


main()
