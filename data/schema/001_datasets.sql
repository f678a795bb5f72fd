-- Schema version 1: logged datasets.
-- Vectors (observations, continuous actions) are BLOBs of little-endian
-- IEEE-754 float64 values, obs_dim (or action_dim) of them; see ope-store(5).
CREATE TABLE datasets (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  source        TEXT,             -- the file it was ingested from, or 'sim:...'
  source_sha256 TEXT,             -- SHA-256 of that file's bytes
  ingested_at   TEXT NOT NULL,    -- UTC, ISO 8601
  action_kind   TEXT NOT NULL CHECK (action_kind IN ('discrete', 'continuous')),
  n_actions     INTEGER,          -- discrete: A; NULL for continuous
  action_dim    INTEGER NOT NULL, -- continuous: m; 1 for discrete
  obs_dim       INTEGER NOT NULL,
  has_pscore    INTEGER NOT NULL,
  has_next_obs  INTEGER NOT NULL,
  n_episodes    INTEGER NOT NULL,
  n_steps       INTEGER NOT NULL,
  notes         TEXT
);

CREATE TABLE episodes (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  idx        INTEGER NOT NULL,    -- 0-based position in the dataset
  label      TEXT NOT NULL,       -- the CSV's episode id
  first_row  INTEGER NOT NULL,    -- row of its step 0 in steps
  length     INTEGER NOT NULL,
  terminal   INTEGER NOT NULL,    -- 1: ended by the environment; 0: truncated
  return     REAL NOT NULL,       -- undiscounted sum of rewards
  PRIMARY KEY (dataset_id, idx)
) WITHOUT ROWID;

CREATE TABLE steps (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  row        INTEGER NOT NULL,    -- 0-based, episodes in order, steps in order
  episode    INTEGER NOT NULL,    -- episodes.idx
  step       INTEGER NOT NULL,
  obs        BLOB NOT NULL,       -- obs_dim float64
  action     INTEGER,             -- discrete action, else NULL
  action_vec BLOB,                -- continuous: action_dim float64, else NULL
  reward     REAL NOT NULL,
  terminal   INTEGER NOT NULL,
  pscore     REAL,                -- NULL when the log has none
  next_obs   BLOB,                -- obs_dim float64, NULL when absent
  PRIMARY KEY (dataset_id, row)
) WITHOUT ROWID;
