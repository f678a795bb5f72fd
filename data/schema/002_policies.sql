-- Schema version 2: candidate policies and ground truth.
-- A policy is a named row: a trained checkpoint (blob), a simulator's
-- reference policy (by name, no blob) or an external scores file.
CREATE TABLE policies (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  kind        TEXT NOT NULL CHECK (kind IN ('checkpoint', 'reference', 'scores')),
  algo        TEXT,               -- bc, cql, iql, td3bc, bcq, dt (checkpoints)
  env         TEXT,               -- simulator the policy belongs to, if any
  dataset_id  INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
  family      TEXT,               -- one grid combination's label
  settings    TEXT,               -- JSON object: every setting, incl. kernel bandwidth
  seed        INTEGER,
  step        INTEGER,            -- training step of a checkpoint
  summary     TEXT,               -- JSON: training-curve summary
  blob        BLOB,               -- checkpoint bytes (versioned, checksummed)
  sha256      TEXT,               -- of blob, or of the scores file
  created_at  TEXT NOT NULL
);

-- Ground truth by simulator rollouts or exact dynamic programming.
CREATE TABLE truth (
  id          INTEGER PRIMARY KEY,
  policy      TEXT NOT NULL,      -- policy name (reference name or policies.name)
  env         TEXT NOT NULL,      -- simulator with its settings, e.g. 'chain:length=100'
  gamma       REAL NOT NULL,
  horizon     INTEGER NOT NULL,
  method      TEXT NOT NULL CHECK (method IN ('exact', 'rollout')),
  value       REAL NOT NULL,
  ci_low      REAL,
  ci_high     REAL,
  episodes    INTEGER,            -- rollouts (NULL for exact)
  seed        INTEGER,
  ope_version TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
CREATE INDEX truth_policy ON truth (policy, env, gamma);
