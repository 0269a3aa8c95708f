-- 0004: users have a life. A disabled user's token no longer opens anything and the user can no
-- longer act on the command line; rotating a token replaces its hash, so the old token stops working
-- at once.
ALTER TABLE users
  ADD COLUMN disabled_at      timestamptz,
  ADD COLUMN token_rotated_at timestamptz NOT NULL DEFAULT now();
