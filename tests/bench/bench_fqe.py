"""PyTorch side of bench_fqe: the same FQE gradient step as the C code.

Prints "torch <continuous 0|1> <threads> <steps/s wall> <steps per CPU
second>" lines, each the best of `repeats` timings (argument 1, default 3);
prints a note and nothing else when torch is missing. Same sizes as bench_fqe.c: 100,000
transitions, 2x256 ReLU Q-network, batch 256, Adam (lr 3e-4), gradient-norm
clipping at 10, target network refreshed every 200 steps, 1000 timed steps
after 20 warm-up steps, float32.
"""
import sys
import time

try:
    import torch
except ImportError:
    print("bench_fqe.py: torch not available, PyTorch comparison skipped")
    sys.exit(0)

N, BATCH, STEPS, PER_ITER, GAMMA = 100_000, 256, 1000, 200, 0.99


def mlp(inp, out):
    return torch.nn.Sequential(
        torch.nn.Linear(inp, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, out))


def bench(cont, threads):
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    d = 17 if cont else 4
    s = torch.randn(N, d, generator=g)
    s2 = torch.randn(N, d, generator=g)
    r = torch.randn(N, generator=g)
    done = torch.zeros(N)
    if cont:
        a = torch.rand(N, 6, generator=g) * 2 - 1
        a2 = torch.tanh(s2 @ (0.3 * torch.randn(d, 6, generator=g)))
        q, qt = mlp(d + 6, 1), mlp(d + 6, 1)
    else:
        a = torch.randint(0, 2, (N,), generator=g)
        p1 = torch.sigmoid(s2 @ torch.tensor([1.0, 0.5, -1.0, 0.3]))
        dist2 = torch.stack([1 - p1, p1], dim=1)
        q, qt = mlp(d, 2), mlp(d, 2)
    opt = torch.optim.Adam(q.parameters(), lr=3e-4)

    def step(i):
        if i % PER_ITER == 0:
            qt.load_state_dict(q.state_dict())
        idx = torch.randint(0, N, (BATCH,), generator=g)
        with torch.no_grad():
            if cont:
                v = qt(torch.cat([s2[idx], a2[idx]], dim=1)).squeeze(1)
            else:
                v = (qt(s2[idx]) * dist2[idx]).sum(dim=1)
            y = r[idx] + GAMMA * (1 - done[idx]) * v
        if cont:
            pred = q(torch.cat([s[idx], a[idx]], dim=1)).squeeze(1)
        else:
            pred = q(s[idx]).gather(1, a[idx].unsqueeze(1)).squeeze(1)
        loss = torch.nn.functional.mse_loss(pred, y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(q.parameters(), 10.0)
        opt.step()

    for i in range(20):
        step(i)
    wall = cpu = 0.0
    for _ in range(REPEATS):
        w0, c0 = time.perf_counter(), time.process_time()
        for i in range(STEPS):
            step(i)
        wall = max(wall, STEPS / (time.perf_counter() - w0))
        cpu = max(cpu, STEPS / (time.process_time() - c0))
    return wall, cpu


REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
for cont in (0, 1):
    for threads in (1, 2):
        wall, cpu = bench(cont, threads)
        print(f"torch {cont} {threads} {wall:.1f} {cpu:.1f}", flush=True)
