"""Wild cluster bootstrap-t for a linear restriction r'beta = theta0 in y = X beta + u.

What `evaluation.stats.effect` puts beside its headline interval: the restricted bootstrap-t
studentised with the cluster jackknife (CV3) error, MacKinnon, Nielsen & Webb's WCR13 ("Fast and
reliable jackknife and bootstrap methods for cluster-robust inference", J. Applied Econometrics
38 (2023) 671-694), or with the plain CV1 error (the classic WCR); interval by test inversion.
Webb's six-point weights when there are 12 or fewer clusters (Webb 2023, "Reworking wild
bootstrap-based inference for clustered errors", Canadian J. Economics), Rademacher otherwise.
The algebra is the fast one of Roodman, Nielsen, MacKinnon & Webb (2019, "Fast and wild", Stata
Journal 19:4-60): every p-value costs O(B G), so the interval's bisection stays cheap.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

WEBB_MAX_CLUSTERS = 12  # Webb six-point weights at or below this many clusters
WEBB_POINTS = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def draw_weights(n_clusters: int, draws: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Bootstrap weights per cluster: Webb six-point for <= 12 clusters, else Rademacher."""
    if n_clusters <= WEBB_MAX_CLUSTERS:
        return rng.choice(WEBB_POINTS, size=(draws, n_clusters)), "Webb six-point"
    return rng.choice([-1.0, 1.0], size=(draws, n_clusters)), "Rademacher"


@dataclass
class WildBootstrap:
    """Pre-computed pieces so that the bootstrap p-value for any theta0 costs O(B G).

    Following Roodman et al. (2019): with the null imposed the restricted residuals are
    u_hat + d * delta (delta = theta_hat - theta0), so the bootstrap numerator and every piece
    of the bootstrap variance are linear in delta. The variance of each bootstrap sample is
    `scale * sum_g (c0 + c1 * delta + vp + vq * delta)_g ** 2`: for CV1 the pieces are the
    cluster scores (c0 = c1 = 0), for CV3 the delete-one-cluster deviations of theta
    (MacKinnon, Nielsen & Webb 2023). `restricted=False` gives the unrestricted bootstrap
    (WCU): the bootstrap sample does not depend on theta0.
    """

    theta: float
    se: float  # standard error in the t statistic (CV1 or CV3, see `variance`)
    se_crve: float  # plain CV1 standard error, for the comparison columns
    se_cv3: float  # jackknife CV3 standard error (NaN when a deletion leaves nothing)
    n_clusters: int
    s: np.ndarray  # (G,)   cluster sums of a * u_hat
    t: np.ndarray  # (G,)   cluster sums of a * d
    c0: np.ndarray  # (G,)  variance pieces not depending on the weights
    c1: np.ndarray  # (G,)  ... multiplying delta
    vp: np.ndarray  # (B, G) variance pieces depending on the weights
    vq: np.ndarray  # (B, G) ... multiplying delta
    v: np.ndarray  # (B, G) the weights
    scale: float  # G/(G-1) (N-1)/(N-K) for CV1, (G-1)/G for CV3
    weights_name: str
    variance: str = "CV1"
    restricted: bool = True

    def p_value(self, theta0: float) -> float:
        """Symmetric bootstrap p-value of H0: theta = theta0 (share of |t*| >= |t|)."""
        delta = self.theta - theta0
        t_obs = delta / self.se
        db = delta if self.restricted else 0.0  # WCU: bootstrap around theta_hat
        m = self.moments
        num = m["vs"] + m["vt"] * db
        var = self.scale * (m["aa"] + db * (2 * m["ab"] + db * m["bb"]))
        t_star = num / np.sqrt(np.maximum(var, 1e-300))
        return float(np.mean(np.abs(t_star) >= np.abs(t_obs) - 1e-12))

    @functools.cached_property
    def moments(self) -> dict[str, np.ndarray]:
        """Per draw, what p_value needs for any delta (the bisection calls it ~80 times): the
        numerator is vs + vt delta, the variance sum_g (A + B delta)^2 = aa + 2 ab delta + bb
        delta^2, with A = c0 + vp and B = c1 + vq."""
        a, b = self.c0 + self.vp, self.c1 + self.vq
        return {
            "vs": self.v @ self.s,
            "vt": self.v @ self.t,
            "aa": np.sum(a * a, axis=1),
            "ab": np.sum(a * b, axis=1),
            "bb": np.sum(b * b, axis=1),
        }

    def confidence_interval(self, level: float = 0.95) -> tuple[float, float]:
        """Interval of theta0 values not rejected at 1 - level.

        Unrestricted: theta_hat -/+ se times the order statistic of |t*| where p_value crosses
        1 - level. Restricted: test inversion, by bisection on each side.
        """
        alpha = 1 - level
        if not self.restricted:
            half = self.se * self.critical_value(alpha)
            return (self.theta - half, self.theta + half)
        return (self.find_bound(-1.0, alpha), self.find_bound(1.0, alpha))

    def critical_value(self, alpha: float) -> float:
        """For the unrestricted bootstrap: the largest |t| whose p-value exceeds alpha, i.e. the
        (floor(alpha B) + 1)-th largest |t*|."""
        pieces = self.c0 + self.vp
        t_star = (self.v @ self.s) / np.sqrt(np.maximum(self.scale * np.sum(pieces**2, 1), 1e-300))
        ranked = np.sort(np.abs(t_star))[::-1]
        return float(ranked[min(int(np.floor(alpha * len(ranked) + 1e-9)), len(ranked) - 1)])

    def find_bound(self, direction: float, alpha: float) -> float:
        inside, step = self.theta, max(self.se, 1e-12)
        outside = self.theta + direction * step
        tries = 0
        while self.p_value(outside) > alpha:
            inside, step = outside, step * 2
            outside = self.theta + direction * step
            tries += 1
            if tries > 40:
                return direction * np.inf
        for _ in range(40):
            mid = (inside + outside) / 2
            if self.p_value(mid) > alpha:
                inside = mid
            else:
                outside = mid
        return (inside + outside) / 2


def jackknife_matrix(x: np.ndarray, cluster_index: np.ndarray, r: np.ndarray) -> np.ndarray:
    """(G, N) matrix J with J[g] @ y = r'beta fitted without cluster g, minus r'beta_hat.

    The deviations behind CV3 = (G-1)/G sum_g J[g] y squared (MacKinnon, Nielsen & Webb 2023,
    centred at the full-sample estimate). When deleting a cluster leaves some coefficient in r
    unidentified (a cohort's only treated cluster, say), that coefficient is dropped and the
    rest rescaled to the same sum: r is an average of cell effects here. Returns rows of NaN
    where nothing in r is left.
    """
    a = x @ (np.linalg.pinv(x.T @ x) @ r)
    g_count = int(cluster_index.max()) + 1
    jack = np.full((g_count, len(a)), np.nan)
    for g in range(g_count):
        keep = cluster_index != g
        pinv = np.linalg.pinv(x[keep])
        identified = np.abs(np.einsum("ij,ji->i", pinv, x[keep]) - 1.0) < 1e-8
        r_g = np.where(identified, r, 0.0)
        if not identified[r != 0].all():
            if abs(r.sum()) < 1e-12 or abs(r_g.sum()) < 1e-12:
                continue  # a contrast or nothing left: no deleted-cluster estimate
            r_g = r_g * r.sum() / r_g.sum()
        jack[g] = 0.0
        jack[g, keep] = r_g @ pinv
        jack[g] -= a
    return jack


def prepare_wild_bootstrap(
    x: np.ndarray,
    y: np.ndarray,
    clusters: np.ndarray,
    r: np.ndarray,
    draws: int = 999,
    rng: np.random.Generator | None = None,
    variance: str = "CV1",
    restricted: bool = True,
) -> WildBootstrap:
    """Set up the wild cluster bootstrap-t for r'beta in y = X beta + u.

    `variance` is the standard error in the t statistic: "CV1" (the classic WCR of Roodman et
    al. 2019; MacKinnon, Nielsen & Webb's WCR11) or "CV3" (the jackknife; their WCR13, or
    WCU13 with `restricted=False`). Falls back to CV1 when CV3 cannot be computed.
    """
    rng = rng if rng is not None else np.random.default_rng(20230101)
    codes, cluster_index = np.unique(clusters, return_inverse=True)
    g_count = len(codes)
    n, k = x.shape
    xtx_inv = np.linalg.pinv(x.T @ x)
    beta = xtx_inv @ (x.T @ y)
    u_hat = y - x @ beta
    a = x @ (xtx_inv @ r)  # theta_hat = a'y
    d = a / float(r @ xtx_inv @ r)  # restricted residuals: u_hat + d * delta
    member = np.zeros((g_count, n))
    member[cluster_index, np.arange(n)] = 1.0
    rank = np.linalg.matrix_rank(x)
    scale_cv1 = g_count / (g_count - 1) * (n - 1) / max(n - rank, 1)
    s = member @ (a * u_hat)
    se_crve = float(np.sqrt(scale_cv1 * np.sum(s**2)))
    jack = jackknife_matrix(x, cluster_index, r)
    scale_cv3 = (g_count - 1) / g_count
    se_cv3 = float(np.sqrt(scale_cv3 * np.sum((jack @ y) ** 2)))
    v, name = draw_weights(g_count, draws, rng)
    if variance == "CV3" and np.isfinite(se_cv3):
        # bootstrap deviations J y* with y* = (y_hat - d delta) + v * (u_hat + d delta)
        c0, c1 = jack @ (x @ beta), -(jack @ d)
        p, q = (jack * u_hat) @ member.T, (jack * d) @ member.T
        scale, se = scale_cv3, se_cv3
    else:
        # bootstrap scores: cluster sums of a * M y*, M the residual maker
        variance = "CV1"
        m = np.eye(n) - x @ xtx_inv @ x.T
        f = (member * a) @ m
        p, q = (f * u_hat) @ member.T, (f * d) @ member.T
        c0 = c1 = np.zeros(g_count)
        scale, se = scale_cv1, se_crve
    return WildBootstrap(
        theta=float(a @ y),
        se=se,
        se_crve=se_crve,
        se_cv3=se_cv3,
        n_clusters=g_count,
        s=s,
        t=member @ (a * d),
        c0=c0,
        c1=c1,
        vp=v @ p.T,
        vq=v @ q.T,
        v=v,
        scale=scale,
        weights_name=name,
        variance=variance,
        restricted=restricted,
    )
