"""NumPy side of bench_eval: IS, PDIS, WIS, WPDIS and a 2000-resample
percentile bootstrap of each over episodes, vectorized, on the arrays that
bench_eval wrote (reward, pi_e, pi_b as float64, episodes of equal length).

usage: bench_eval.py DIR N_EPISODES HORIZON B
Two variants of the replicate product: float64 throughout, and float32
counts times float32 statistics (the same choice ope makes for large
datasets), each timed whole. Prints the four estimates with their intervals
per variant, their times, and `compute_seconds S` (wall) and
`compute_cpu_seconds S` (CPU time of the process, all threads) of the
faster variant, which is the one ope is compared with."""
import sys
import time

try:
    import numpy as np
except ImportError:
    print("numpy missing")
    sys.exit(0)


def run(a, n, h, b, dtype):
    """The whole computation with the replicate product in dtype; returns
    the point estimates and the interval bounds."""
    g = 0.99
    r, pe, pb = a[0], a[1], a[2]
    lw = np.cumsum(np.log(pe) - np.log(pb), axis=1)          # (n, h)
    disc = g ** np.arange(h)
    # IS / WIS on final weights, scaled by the max log weight
    m = lw[:, -1].max()
    wf = np.exp(lw[:, -1] - m)
    ret = r @ disc
    # PDIS per-episode terms, scaled by one max
    lg = lw + np.log(disc)
    mp = lg.max()
    pdis_term = (np.exp(lg - mp) * r).sum(axis=1)
    # WPDIS per-step columns scaled by the per-step max
    ms = lw.max(axis=0)
    ws = np.exp(lw - ms)
    num, den = ws * r, ws
    X = np.concatenate([(wf * ret)[:, None], wf[:, None], pdis_term[:, None], num, den], axis=1)

    def values(S, cnt):
        is_ = S[:, 0] / cnt * np.exp(m)
        wis = S[:, 0] / S[:, 1]
        pdis = S[:, 2] / cnt * np.exp(mp)
        wpdis = (S[:, 3:3 + h] / S[:, 3 + h:]) @ disc
        return np.stack([is_, pdis, wis, wpdis], axis=1)

    point = values(X.sum(axis=0)[None, :], n)[0]
    Xd = X.astype(dtype)
    rng = np.random.default_rng(0)
    reps = []
    chunk = 100
    for start in range(0, b, chunk):
        k = min(chunk, b - start)
        idx = rng.integers(0, n, size=(k, n))
        counts = np.bincount((idx + (np.arange(k) * n)[:, None]).ravel(),
                             minlength=k * n).reshape(k, n).astype(dtype)
        reps.append(values((counts @ Xd).astype(np.float64), n))
    reps = np.concatenate(reps)
    lo, hi = np.percentile(reps, [2.5, 97.5], axis=0)
    return point, lo, hi


def main():
    d, n, h, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    a = np.fromfile(d + "/arrays.f64", dtype=np.float64).reshape(3, n, h)
    best = None
    for dtype in (np.float64, np.float32):
        t0 = time.perf_counter()
        c0 = time.process_time()
        point, lo, hi = run(a, n, h, b, dtype)
        dt = time.perf_counter() - t0
        dc = time.process_time() - c0
        name = np.dtype(dtype).name
        for e, v, l, u in zip(["is", "pdis", "wis", "wpdis"], point, lo, hi):
            print("%s %-6s %.10g  [%.10g, %.10g]" % (name, e, v, l, u))
        print("%s_seconds %.4f" % (name, dt))
        print("%s_cpu_seconds %.4f" % (name, dc))
        if best is None or dt < best[0]:
            best = (dt, dc, name)
    print("best_variant %s" % best[2])
    print("compute_seconds %.4f" % best[0])
    print("compute_cpu_seconds %.4f" % best[1])


main()
