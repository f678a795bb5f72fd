"""NumPy side of bench_dr: tabular FQE and DM, DR, WDR on the arrays that
bench_dr.c wrote, vectorized, best of 3.

usage: bench_dr.py DIR A GAMMA
prints one line: numpy FQE_SECONDS DR_SECONDS DM DR WDR
(or a line starting with 'skip' when numpy is missing).

The definitions are those of ARCHITECTURE.md: a state is a distinct
observation; Q is the exact fixed point over logged pairs with targets
(the last row of a truncated episode gives none), solved densely; DR per
Jiang & Li 2016 eq. 8; WDR per Thomas & Brunskill 2016 eq. 10 with ended
episodes carrying their last weight forward.
"""
import sys
import time

try:
    import numpy as np
except ImportError:
    print("skip: numpy is not installed for /usr/bin/python3")
    sys.exit(0)


def load(d, a):
    f = lambda name, dt: np.fromfile(f"{d}/{name}", dtype=dt)
    obs = f("obs.f64", np.float64)
    n_steps = obs.size
    return dict(
        obs=obs,
        act=f("action.i32", np.int32).astype(np.int64),
        rew=f("reward.f64", np.float64),
        term=f("terminal.u8", np.uint8).astype(bool),
        pscore=f("pscore.f64", np.float64),
        prob=f("prob.f64", np.float64),
        dist=f("dist.f64", np.float64).reshape(n_steps, a),
        off=f("offsets.u64", np.uint64).astype(np.int64),
    )


def fqe(D, A, g):
    obs, act, rew, term, dist, off = (D[k] for k in ("obs", "act", "rew", "term", "dist", "off"))
    N = obs.size
    _, sid = np.unique(obs, return_inverse=True)
    S = sid.max() + 1
    last = np.zeros(N, dtype=bool)
    last[off[1:] - 1] = True
    has_next = ~last & ~term
    target = has_next | term
    cell = sid * A + act
    pairs, pidx_t = np.unique(cell[target], return_inverse=True)
    P = pairs.size
    pidx = np.full(S * A, -1)
    pidx[pairs] = np.arange(P)
    cnt = np.bincount(pidx_t, minlength=P).astype(np.float64)
    b = np.bincount(pidx_t, weights=rew[target], minlength=P) / cnt
    rows = np.nonzero(has_next)[0]
    prow = pidx[cell[rows]]
    pcol = pidx[sid[rows + 1][:, None] * A + np.arange(A)[None, :]]
    coef = g * dist[rows + 1] / cnt[prow][:, None]
    keep = (pcol >= 0) & (coef != 0)
    flat = (np.broadcast_to(prow[:, None], pcol.shape) * P + pcol)[keep]
    M = np.bincount(flat, weights=coef[keep], minlength=P * P).reshape(P, P)
    x = np.linalg.solve(np.eye(P) - M, b)
    Q = np.zeros(S * A)
    Q[pairs] = x
    Q = Q.reshape(S, A)
    return Q[sid, act], (dist * Q[sid]).sum(axis=1)


def dr_family(D, q, v, g):
    rew, off = D["rew"], D["off"]
    N, n = rew.size, off.size - 1
    start, lens = off[:-1], np.diff(off)
    lr = np.log(D["prob"]) - np.log(D["pscore"])
    cs = np.cumsum(lr)
    before = np.concatenate(([0.0], cs))[start]
    lw = cs - np.repeat(before, lens)
    ep = np.repeat(np.arange(n), lens)
    tt = np.arange(N) - np.repeat(start, lens)
    lw_prev = np.where(tt == 0, 0.0, np.roll(lw, 1))
    w, wp = np.exp(lw), np.exp(lw_prev)
    disc = g ** tt
    dm = v[start].mean()
    dr = np.add.reduceat(disc * (w * (rew - q) + wp * v), start).mean()
    H = lens.max()
    LW = np.zeros((n, H))
    LW[ep, tt] = lw
    carry = np.minimum(np.arange(H)[None, :], (lens - 1)[:, None])
    Dt = np.exp(LW[np.arange(n)[:, None], carry]).sum(axis=0)
    Nt = np.zeros((n, H))
    Mt = np.zeros((n, H))
    Nt[ep, tt] = w * (rew - q)
    Mt[ep, tt] = wp * v
    Dprev = np.concatenate(([float(n)], Dt[:-1]))
    wdr = (g ** np.arange(H) * (Nt.sum(axis=0) / Dt + Mt.sum(axis=0) / Dprev)).sum()
    return dm, dr, wdr


def main():
    d, A, g = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    D = load(d, A)
    t_fqe = t_dr = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        q, v = fqe(D, A, g)
        t_fqe = min(t_fqe, time.perf_counter() - t0)
        t0 = time.perf_counter()
        dm, dr, wdr = dr_family(D, q, v, g)
        t_dr = min(t_dr, time.perf_counter() - t0)
    print(f"numpy {t_fqe:.6f} {t_dr:.6f} {dm:.17g} {dr:.17g} {wdr:.17g}")


if __name__ == "__main__":
    main()
