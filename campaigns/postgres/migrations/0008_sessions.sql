-- 0008: browser sessions of the staff console and the queue dashboard. A user signs in at /login
-- with their name and API token; the browser then holds a random 32-byte session id in a cookie.
-- Only the id's SHA-256 is stored here, as with API tokens: a copy of this table opens nothing.
--
-- A session works while it is younger than its absolute expiry (expires_at, 12 hours after sign-in),
-- has been used within the idle limit (last_seen, 30 minutes: both limits are constants of
-- campaigns/service), its user is not disabled and the user's token has not been rotated since the
-- session began (queries/sessions.sql, touch-session). csrf_token is the session's token for forms
-- and X-CSRF-Token; it is worth nothing without the session's cookie.
--
-- The table stays small (a row per signed-in browser); expired rows are deleted at each sign-in
-- (prune-sessions), so no index on the times is needed.
CREATE TABLE sessions (
  id_hash    bytea PRIMARY KEY CHECK (length(id_hash) = 32),
  user_id    bigint NOT NULL REFERENCES users (id),
  csrf_token text NOT NULL CHECK (csrf_token <> ''),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen  timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
