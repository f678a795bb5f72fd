"""PyTorch side of bench_dt: the same Decision Transformer training step as
the C code (src/train/dt_model.h), written out layer by layer.

Prints "torch <threads> <tokens/s> <tokens per CPU-second>" lines for 1 and
2 threads; prints a
note and nothing else when torch is missing. Sizes as bench_dt.c: 3
pre-norm GPT blocks, 1 head, width 128, GELU (tanh form) MLP of width 512,
context 20 (60 tokens: return-to-go, state, action per step), learned
timestep embedding of 1000 rows, batch 64, dropout 0.1 on the embeddings
and both residual branches, tanh action head on the state tokens, MSE over
the unpadded steps, AdamW (lr 1e-4, weight decay 1e-4) with linear warmup
and gradient-norm clipping at 0.25; 100 episodes x 1000 steps of obs 17 and
action 6; float32; 3 warm-up steps. Usage: bench_dt.py [STEPS]
"""
import math
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("bench_dt.py: torch not available, PyTorch comparison skipped")
    sys.exit(0)

N_EP, H, D, M = 100, 1000, 17, 6
C, NL, NH, K, B, P = 128, 3, 1, 20, 64, 0.1


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(C)
        self.qkv = torch.nn.Linear(C, 3 * C)
        self.proj = torch.nn.Linear(C, C)
        self.ln2 = torch.nn.LayerNorm(C)
        self.fc = torch.nn.Linear(C, 4 * C)
        self.fcp = torch.nn.Linear(4 * C, C)
        self.drop = torch.nn.Dropout(P)

    def forward(self, x, mask):
        b, t, _ = x.shape
        hs = C // NH
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q = q.view(b, t, NH, hs).transpose(1, 2)
        k = k.view(b, t, NH, hs).transpose(1, 2)
        v = v.view(b, t, NH, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        att = att.masked_fill(mask[:t, :t], float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, C)
        x = x + self.drop(self.proj(y))
        return x + self.drop(self.fcp(F.gelu(self.fc(self.ln2(x)), approximate="tanh")))


class DT(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.e_rtg = torch.nn.Linear(1, C)
        self.e_obs = torch.nn.Linear(D, C)
        self.e_act = torch.nn.Linear(M, C)
        self.e_t = torch.nn.Embedding(H, C)
        self.ln_e = torch.nn.LayerNorm(C)
        self.drop = torch.nn.Dropout(P)
        self.blocks = torch.nn.ModuleList([Block() for _ in range(NL)])
        self.ln_f = torch.nn.LayerNorm(C)
        self.head = torch.nn.Linear(C, M)
        self.register_buffer(
            "mask", torch.triu(torch.ones(3 * K, 3 * K, dtype=torch.bool), 1))

    def forward(self, rtg, obs, act, ts):
        b, k = ts.shape
        te = self.e_t(ts)
        x = torch.stack([self.e_rtg(rtg) + te, self.e_obs(obs) + te,
                         self.e_act(act) + te], dim=2).reshape(b, 3 * k, C)
        x = self.drop(self.ln_e(x))
        for blk in self.blocks:
            x = blk(x, self.mask)
        return torch.tanh(self.head(self.ln_f(x[:, 1::3])))


def bench(threads, steps):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    n = N_EP * H
    obs = torch.randn(n, D)
    act = torch.tanh(obs[:, :M]).contiguous()
    rew = torch.rand(n)
    rtg = torch.flip(torch.cumsum(torch.flip(rew.view(N_EP, H), [1]), 1), [1]).reshape(n)
    rtg = rtg / rtg.abs().max()
    tstep = torch.arange(H).repeat(N_EP)
    model = DT()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / 10000, 1))
    ar = torch.arange(K)

    def step():
        row = torch.randint(0, n, (B,))
        ep = row // H
        start = ep * H + torch.randint(0, H, (B,))
        idx = start[:, None] + ar[None, :]
        valid = idx < (ep[:, None] + 1) * H
        idx = torch.where(valid, idx, torch.zeros_like(idx))
        vf = valid.float()
        pred = model(rtg[idx].unsqueeze(-1) * vf.unsqueeze(-1), obs[idx] * vf.unsqueeze(-1),
                     act[idx] * vf.unsqueeze(-1), tstep[idx] * valid)
        err = ((pred - act[idx]) ** 2).mean(-1)
        loss = (err * vf).sum() / vf.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        opt.step()
        sched.step()

    for _ in range(3):
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    tokens = steps * B * 3 * K
    return tokens / (time.perf_counter() - t0), tokens / (time.process_time() - c0)


if __name__ == "__main__":
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    for th in (1, 2):
        wall, cpu = bench(th, steps)
        print(f"torch {th} {wall:.1f} {cpu:.1f}", flush=True)
