-- Schema version 3: evaluations (one row per `ope eval` run), their
-- estimates with intervals, and the weight diagnostics per policy.
-- A number that is undefined (zero denominator) or beyond the double range
-- is NULL, never NaN; `note` says why.
CREATE TABLE evaluations (
  id           INTEGER PRIMARY KEY,
  dataset_id   INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
  dataset      TEXT NOT NULL,      -- the dataset's name at the time
  n_episodes   INTEGER NOT NULL,
  n_steps      INTEGER NOT NULL,
  gamma        REAL NOT NULL,
  estimators   TEXT NOT NULL,      -- comma-separated, as run
  ci_method    TEXT NOT NULL,      -- none, bootstrap, t, hoeffding, bernstein
  alpha        REAL NOT NULL,
  n_boot       INTEGER,            -- bootstrap resamples (NULL otherwise)
  clip         REAL,               -- per-step ratio cap, NULL when none
  bandwidth    REAL,               -- kernel bandwidth asked for, NULL when none
  reward_lo    REAL,
  reward_hi    REAL,
  seed         INTEGER NOT NULL,
  threads      INTEGER NOT NULL,
  propensities TEXT NOT NULL CHECK (propensities IN ('logged', 'estimated')),
  behavior     TEXT,               -- JSON: behavior model and its calibration
  settings     TEXT NOT NULL,      -- JSON: every setting of the run
  ope_version  TEXT NOT NULL,
  created_at   TEXT NOT NULL       -- UTC, ISO 8601
);

CREATE TABLE estimates (
  evaluation_id INTEGER NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
  policy        TEXT NOT NULL,
  estimator     TEXT NOT NULL,
  estimate      REAL,
  ci_low        REAL,
  ci_high       REAL,
  ci_method     TEXT,              -- NULL when no interval
  n_episodes    INTEGER NOT NULL,
  unreliable    INTEGER NOT NULL,
  note          TEXT,              -- a warning, or why there is no value or interval
  PRIMARY KEY (evaluation_id, policy, estimator)
) WITHOUT ROWID;

CREATE TABLE diagnostics (
  evaluation_id INTEGER NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
  policy        TEXT NOT NULL,
  source        TEXT NOT NULL,     -- reference, scores, checkpoint
  source_sha256 TEXT,              -- of the scores file, when one
  bandwidth     REAL,              -- kernel bandwidth used, NULL for densities
  ess           REAL NOT NULL,     -- Kish ESS of the final weights
  ess_frac      REAL NOT NULL,
  ess_step_min  REAL NOT NULL,
  max_share     REAL NOT NULL,
  zero_frac     REAL NOT NULL,
  n_clipped     INTEGER NOT NULL,
  support_rows  INTEGER,           -- NULL when support was not measured
  support_frac  REAL,
  unreliable    INTEGER NOT NULL,
  reason        TEXT,
  detail        TEXT NOT NULL,     -- JSON: quantiles, ESS per step, support
  PRIMARY KEY (evaluation_id, policy)
) WITHOUT ROWID;
