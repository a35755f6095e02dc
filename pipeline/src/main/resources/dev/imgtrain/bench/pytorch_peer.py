#!/usr/bin/python3
"""The PyTorch peer of `imgtrain bench`: the seed network, trained the way a user's plain PyTorch script would.

Same archives (MNIST's IDX .gz files, CIFAR-10's binary tar.gz), same network and updater as the imgtrain preset,
same batch size, seeded. Trains epoch by epoch up to --max-epochs or until the test accuracy reaches --target, and
prints one JSON object on stdout: per-epoch training seconds and test accuracy, the seconds to the target (data
loading included, evaluation excluded: as imgtrain's figure), and the float32 sgemm rate of this torch's BLAS.

Subnormal floats are flushed to zero (torch.set_flush_denormal), as imgtrain's own updaters keep none: RMSProp's
running mean of a parameter whose gradient stays 0 decays into the subnormal range and stays there, and Intel CPUs
take a microcode assist for each vector operation on one (MNIST epochs 1.1 -> 1.4 s over three epochs without it on
the Xeon of 2026-12-05, the same accuracies to four digits with it). --keep-denormals trains without it.

Threads: --intra-threads is torch.set_num_threads; the BLAS threads come from OPENBLAS_NUM_THREADS, which must be set
before torch is imported (the bench sets it in this process's environment).

Needs Debian's python3-torch (and libopenblas0-pthread: without it torch uses the reference BLAS, 10x slower).
"""
import argparse
import gzip
import json
import os
import sys
import tarfile
import time

import numpy as np
import torch
from torch import nn


def mnist(source):
    def idx(name, offset):
        with gzip.open(os.path.join(source, name), "rb") as f:
            return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)
    x_train = idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    y_train = idx("train-labels-idx1-ubyte.gz", 8)
    x_test = idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    y_test = idx("t10k-labels-idx1-ubyte.gz", 8)
    return x_train, y_train, x_test, y_test


def cifar10(source):
    path = source if source.endswith(".tar.gz") else os.path.join(source, "cifar-10-binary.tar.gz")
    train, test = [], None
    with tarfile.open(path, "r:gz") as tar:
        for member in tar.getmembers():
            name = os.path.basename(member.name)
            if name.startswith("data_batch_") or name == "test_batch.bin":
                records = np.frombuffer(tar.extractfile(member).read(), dtype=np.uint8).reshape(-1, 3073)
                if name == "test_batch.bin":
                    test = records
                else:
                    train.append((name, records))
    train = np.concatenate([r for _, r in sorted(train)])
    return train[:, 1:], train[:, 0], test[:, 1:], test[:, 0]


def network(dataset, features):
    if dataset == "mnist":
        layers = [nn.Linear(features, 512), nn.ReLU(), nn.Linear(512, 10)]
    else:
        layers = [nn.Linear(features, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 10)]
    for layer in layers:
        if isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return nn.Sequential(*layers)


def sgemm_gflops(n=2048, reps=5):
    a = torch.rand(n, n)
    b = torch.rand(n, n)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2.0 * n ** 3 / best / 1e9


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", choices=["mnist", "cifar10"], required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--max-epochs", type=int, default=20)
    p.add_argument("--target", type=float, default=0.98)
    p.add_argument("--seed", type=int, default=12345)
    p.add_argument("--intra-threads", type=int, default=1)
    p.add_argument("--max-examples", type=int, default=0, help="train on the first N training examples (0: all)")
    p.add_argument("--matmul", action="store_true", help="also measure the 2048^3 sgemm rate")
    p.add_argument("--keep-denormals", action="store_true", help="do not flush subnormal floats to zero")
    args = p.parse_args()
    torch.set_num_threads(args.intra_threads)
    flush_denormal = not args.keep_denormals and torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)

    load_start = time.perf_counter()
    x_train, y_train, x_test, y_test = (mnist if args.dataset == "mnist" else cifar10)(args.source)
    if args.max_examples > 0:  # imgtrain's train.max-examples: the first N by id, i.e. in archive order
        x_train, y_train = x_train[:args.max_examples], y_train[:args.max_examples]
    x_train = torch.from_numpy(x_train.astype(np.float32) / 255.0)
    y_train = torch.from_numpy(y_train.astype(np.int64))
    x_test = torch.from_numpy(x_test.astype(np.float32) / 255.0)
    y_test = torch.from_numpy(y_test.astype(np.int64))
    load_seconds = time.perf_counter() - load_start

    model = network(args.dataset, x_train.shape[1])
    if args.dataset == "mnist":  # mnist-dense-512: RMSProp as Keras's (rho 0.9, eps 1e-7), batch 128
        optimizer = torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
        batch = 128
    else:  # cifar10-dense-32-16: SGD 0.01, batch 32
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        batch = 32
    loss_fn = nn.CrossEntropyLoss()
    order = torch.Generator().manual_seed(args.seed)
    epochs = []
    trained = 0.0
    seconds_to_target = None
    for epoch in range(1, args.max_epochs + 1):
        start = time.perf_counter()
        model.train()
        permutation = torch.randperm(x_train.shape[0], generator=order)
        total_loss = 0.0
        for i in range(0, x_train.shape[0], batch):
            idx = permutation[i:i + batch]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * idx.shape[0]
        seconds = time.perf_counter() - start
        trained += seconds
        model.eval()
        with torch.no_grad():
            accuracy = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
        epochs.append({"epoch": epoch, "seconds": seconds, "loss": total_loss / x_train.shape[0],
                       "test_accuracy": accuracy})
        print(f"pytorch {args.dataset} epoch {epoch}: {seconds:.2f} s, test accuracy {accuracy:.4f}", file=sys.stderr)
        if accuracy >= args.target:
            seconds_to_target = load_seconds + trained
            break
    print(json.dumps({
        "torch": torch.__version__,
        "intra_threads": torch.get_num_threads(),
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
        "flush_denormal": bool(flush_denormal),
        "dataset": args.dataset,
        "batch_size": batch,
        "train_examples": int(x_train.shape[0]),
        "load_seconds": load_seconds,
        "epochs": epochs,
        "target_accuracy": args.target,
        "seconds_to_target": seconds_to_target,
        "matmul_gflops": sgemm_gflops() if args.matmul else None,
    }))


if __name__ == "__main__":
    main()
