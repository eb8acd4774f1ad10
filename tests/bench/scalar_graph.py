#!/usr/bin/env python3
"""scalar_graph.py — the baseline for build/bench/scalar_graph: a scalar
autodiff engine of micrograd's design (one Python object per node, a
topological sort, closures for the local derivatives), timed on the same
workload (a): an MLP 2→16→16→1 (ReLU) over 100 points, hinge loss
+ 1e-4·Σw², one forward + backward. Prints one key=value line like the C
benchmark so the two can be set side by side."""
import random
import statistics
import sys
import time


class Value:
    __slots__ = ("data", "grad", "_back", "_prev")

    def __init__(self, data, prev=()):
        self.data, self.grad, self._back, self._prev = data, 0.0, None, prev

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def back():
            self.grad += out.grad
            other.grad += out.grad
        out._back = back
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def back():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._back = back
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,))

        def back():
            self.grad += (out.data > 0) * out.grad
        out._back = back
        return out

    def backward(self):
        # iterative topological order (no recursion limit on deep graphs)
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            v, done = stack.pop()
            if done:
                order.append(v)
            elif id(v) not in seen:
                seen.add(id(v))
                stack.append((v, True))
                stack.extend((p, False) for p in v._prev)
        self.grad = 1.0
        for v in reversed(order):
            if v._back:
                v._back()
        return len(order)


def layer(nin, nout, rng):
    return [([Value(rng.uniform(-1, 1)) for _ in range(nin)], Value(0.0)) for _ in range(nout)]


def forward(layers, x):
    for k, L in enumerate(layers):
        out = []
        for w, b in L:
            s = b
            for wi, xi in zip(w, x):
                s = s + wi * xi
            out.append(s.relu() if k < len(layers) - 1 else s)
        x = out
    return x[0]


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rng = random.Random(1)
    layers = [layer(2, 16, rng), layer(16, 16, rng), layer(16, 1, rng)]
    pts = [(rng.gauss(0, 1), rng.gauss(0, 1)) for _ in range(100)]
    ys = [1.0 if a * b > 0 else -1.0 for a, b in pts]
    times, nodes = [], 0
    for _ in range(reps):
        t0 = time.perf_counter()
        total = Value(0.0)
        for (a, b), y in zip(pts, ys):
            s = forward(layers, [Value(a), Value(b)])
            total = total + (Value(1.0) + Value(-y) * s).relu()
        reg = Value(0.0)
        for L in layers:
            for w, _ in L:
                for wi in w:
                    reg = reg + wi * wi
        loss = total * (1.0 / 100) + reg * 1e-4
        nodes = loss.backward()
        times.append(time.perf_counter() - t0)
    t = statistics.median(times)
    print(f"workload=python_scalar_engine_2_16_16_1 nodes={nodes} seconds={t:.6f} "
          f"ns_per_node={1e9 * t / nodes:.2f} nodes_per_s={nodes / t:.4g}")


if __name__ == "__main__":
    main()
