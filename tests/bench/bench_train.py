"""PyTorch side of bench_train: the same TD3+BC and IQL updates as ope's
trainers (src/train/td3bc.c, src/train/iql.c), float32, on 100,000
synthetic transitions with observation 17 and action 6, 2x256 ReLU
networks, batch 256, Adam 3e-4, Polyak 0.005.

Prints "torch <algo> <threads> <updates/s wall> <updates per CPU second>"
lines, each the best of `repeats` timings of `steps` updates after 20
warm-up updates; prints a note and nothing else when torch is missing.
Usage: bench_train.py [steps] [repeats] [algo].
"""
import sys
import time

try:
    import torch
except ImportError:
    print("bench_train.py: torch not available, PyTorch comparison skipped")
    sys.exit(0)

OBS, ACT, N, B = 17, 6, 100_000, 256
GAMMA, TAU = 0.99, 0.005


def mlp(inp, out):
    return torch.nn.Sequential(
        torch.nn.Linear(inp, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, out))


def polyak(target, net):
    with torch.no_grad():
        for pt, p in zip(target.parameters(), net.parameters()):
            pt.mul_(1 - TAU).add_(p, alpha=TAU)


def data(g):
    s = torch.randn(N, OBS, generator=g)
    a = torch.rand(N, ACT, generator=g) * 2 - 1
    r = torch.randn(N, generator=g)
    s2 = torch.randn(N, OBS, generator=g)
    d = torch.zeros(N)
    return s, a, r, s2, d


def td3bc(threads, steps):
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    s, a, r, s2, d = data(g)
    actor, q1, q2 = mlp(OBS, ACT), mlp(OBS + ACT, 1), mlp(OBS + ACT, 1)
    actor_t, q1_t, q2_t = mlp(OBS, ACT), mlp(OBS + ACT, 1), mlp(OBS + ACT, 1)
    for t, n in ((actor_t, actor), (q1_t, q1), (q2_t, q2)):
        t.load_state_dict(n.state_dict())
    oa = torch.optim.Adam(actor.parameters(), lr=3e-4)
    oq = torch.optim.Adam(list(q1.parameters()) + list(q2.parameters()), lr=3e-4)

    def step(it):
        idx = torch.randint(0, N, (B,), generator=g)
        bs, ba, br, bs2, bd = s[idx], a[idx], r[idx], s2[idx], d[idx]
        with torch.no_grad():
            noise = (torch.randn(B, ACT, generator=g) * 0.2).clamp(-0.5, 0.5)
            an = (torch.tanh(actor_t(bs2)) + noise).clamp(-1, 1)
            x = torch.cat([bs2, an], 1)
            y = br + GAMMA * (1 - bd) * torch.min(q1_t(x), q2_t(x)).squeeze(1)
        x = torch.cat([bs, ba], 1)
        lq = ((q1(x).squeeze(1) - y) ** 2).mean() + ((q2(x).squeeze(1) - y) ** 2).mean()
        oq.zero_grad()
        lq.backward()
        oq.step()
        if it % 2 == 0:
            pi = torch.tanh(actor(bs))
            q = q1(torch.cat([bs, pi], 1))
            lam = 2.5 / q.abs().mean().detach()
            la = -lam * q.mean() + ((pi - ba) ** 2).mean()
            oa.zero_grad()
            la.backward()
            oa.step()
            polyak(q1_t, q1)
            polyak(q2_t, q2)
            polyak(actor_t, actor)

    return timed(step, steps)


def iql(threads, steps):
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    s, a, r, s2, d = data(g)
    q1, q2, v, pi = mlp(OBS + ACT, 1), mlp(OBS + ACT, 1), mlp(OBS, 1), mlp(OBS, 2 * ACT)
    q1_t, q2_t = mlp(OBS + ACT, 1), mlp(OBS + ACT, 1)
    q1_t.load_state_dict(q1.state_dict())
    q2_t.load_state_dict(q2.state_dict())
    ov = torch.optim.Adam(v.parameters(), lr=3e-4)
    oq = torch.optim.Adam(list(q1.parameters()) + list(q2.parameters()), lr=3e-4)
    op = torch.optim.Adam(pi.parameters(), lr=3e-4)

    def step(it):
        idx = torch.randint(0, N, (B,), generator=g)
        bs, ba, br, bs2, bd = s[idx], a[idx], r[idx], s2[idx], d[idx]
        x = torch.cat([bs, ba], 1)
        with torch.no_grad():
            qt = torch.min(q1_t(x), q2_t(x)).squeeze(1)
        vs = v(bs).squeeze(1)
        u = qt - vs
        w = torch.where(u < 0, 0.3, 0.7)
        lv = (w * u ** 2).mean()
        ov.zero_grad()
        lv.backward()
        ov.step()
        with torch.no_grad():
            y = br + GAMMA * (1 - bd) * v(bs2).squeeze(1)
        lq = ((q1(x).squeeze(1) - y) ** 2).mean() + ((q2(x).squeeze(1) - y) ** 2).mean()
        oq.zero_grad()
        lq.backward()
        oq.step()
        wt = torch.exp(3.0 * (qt - vs.detach())).clamp(max=100.0)
        out = pi(bs)
        mean, log_std = torch.tanh(out[:, :ACT]), out[:, ACT:].clamp(-5, 2)
        nll = (0.5 * ((ba - mean) / log_std.exp()) ** 2 + log_std).sum(1)
        lp = (wt * nll).mean()
        op.zero_grad()
        lp.backward()
        op.step()
        polyak(q1_t, q1)
        polyak(q2_t, q2)

    return timed(step, steps)


REPEATS = 3


def timed(step, steps):
    for it in range(20):
        step(it)
    wall = cpu = 0.0
    it = 20
    for _ in range(REPEATS):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(steps):
            step(it)
            it += 1
        wall = max(wall, steps / (time.perf_counter() - w0))
        cpu = max(cpu, steps / (time.process_time() - c0))
    return wall, cpu


def main():
    global REPEATS
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    REPEATS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    only = sys.argv[3] if len(sys.argv) > 3 else None
    for name, fn in (("td3bc", td3bc), ("iql", iql)):
        if only and name != only:
            continue
        for th in (1, 2):
            wall, cpu = fn(th, steps)
            print("torch %s %d %.1f %.1f" % (name, th, wall, cpu), flush=True)


if __name__ == "__main__":
    main()
