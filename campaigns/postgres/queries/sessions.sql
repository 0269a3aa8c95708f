-- name: create-session
-- $1 the SHA-256 of the session id, $2 the user, $3 the CSRF token, $4 the absolute lifetime in
-- seconds.
INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at)
VALUES ($1, $2, $3, now() + make_interval(secs => $4))
RETURNING expires_at

-- name: prune-sessions
-- Sessions past their absolute expiry or idle for longer than $1 seconds. A scan of a small table.
DELETE FROM sessions WHERE expires_at <= now() OR last_seen <= now() - make_interval(secs => $1)

-- name: touch-session
-- The session's user and CSRF token, renewing last_seen, when the session is within its absolute
-- expiry and has been used within the last $2 seconds, its user is not disabled, and the user's
-- token has not been rotated since the session began. No row: the session opens nothing.
UPDATE sessions s SET last_seen = now()
FROM users u
WHERE s.id_hash = $1 AND u.id = s.user_id
  AND u.disabled_at IS NULL AND u.token_rotated_at <= s.created_at
  AND s.expires_at > now() AND s.last_seen > now() - make_interval(secs => $2)
RETURNING u.id, u.name, u.role, u.created_at, u.disabled_at, u.token_rotated_at, u.token_expires_at, s.csrf_token

-- name: delete-session
DELETE FROM sessions WHERE id_hash = $1
