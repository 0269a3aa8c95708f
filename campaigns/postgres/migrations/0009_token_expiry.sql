-- 0009: API tokens expire. A token opens nothing after token_expires_at; `dispatch users rotate`
-- gives a new one with a new term (DISPATCH_TOKEN_LIFETIME, default 365 days). Tokens made before
-- this migration expire a year after they were made.
ALTER TABLE users ADD COLUMN token_expires_at timestamptz;
UPDATE users SET token_expires_at = token_rotated_at + interval '365 days';
ALTER TABLE users ALTER COLUMN token_expires_at SET NOT NULL;
