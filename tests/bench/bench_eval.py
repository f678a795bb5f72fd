"""NumPy side of bench_eval: IS, PDIS, WIS, WPDIS and a 2000-resample
percentile bootstrap of each over episodes, vectorized, on the arrays that
bench_eval wrote (reward, pi_e, pi_b as float64, episodes of equal length).

usage: bench_eval.py DIR N_EPISODES HORIZON B
Prints the four estimates with their intervals, `compute_seconds S` (wall)
and `compute_cpu_seconds S` (CPU time of the process, all threads)."""
import sys
import time

try:
    import numpy as np
except ImportError:
    print("numpy missing")
    sys.exit(0)


def main():
    d, n, h, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    a = np.fromfile(d + "/arrays.f64", dtype=np.float64).reshape(3, n, h)
    g = 0.99
    t0 = time.perf_counter()
    c0 = time.process_time()
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
    rng = np.random.default_rng(0)
    reps = []
    chunk = 100
    for start in range(0, b, chunk):
        k = min(chunk, b - start)
        idx = rng.integers(0, n, size=(k, n))
        counts = np.bincount((idx + (np.arange(k) * n)[:, None]).ravel(),
                             minlength=k * n).reshape(k, n).astype(np.float64)
        reps.append(values(counts @ X, n))
    reps = np.concatenate(reps)
    lo, hi = np.percentile(reps, [2.5, 97.5], axis=0)
    dt = time.perf_counter() - t0
    dc = time.process_time() - c0
    for name, v, l, u in zip(["is", "pdis", "wis", "wpdis"], point, lo, hi):
        print("%-6s %.10g  [%.10g, %.10g]" % (name, v, l, u))
    print("compute_seconds %.4f" % dt)
    print("compute_cpu_seconds %.4f" % dc)


main()
