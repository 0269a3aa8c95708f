-- name: record-consent
INSERT INTO consent_events (member_id, channel, status, source, wording_version, actor)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, member_id, channel, status, source, wording_version, actor, recorded_at

-- name: current-consent
SELECT e.id, e.member_id, e.channel, e.status, e.source, e.wording_version, e.actor, e.recorded_at
FROM current_consents c JOIN consent_events e ON e.id = c.event_id
WHERE c.member_id = $1 AND c.channel = $2

-- name: insert-audit
-- $5, the member's external id, is looked up when not given (a member who is still in the register).
INSERT INTO audit_log (actor, action, member_id, details, member_external_id)
VALUES ($1, $2, $3, $4, coalesce($5, (SELECT external_id FROM members WHERE id = $3)))

-- name: list-audit
-- $1 since, $2 until (NULL: now), $3 member's external id, $4 actor, $5 action: NULL matches all;
-- $6 the newest that many (NULL: all). Newest first: the caller turns them round.
SELECT id, at, actor, action, member_id, member_external_id, details::text AS details
FROM audit_log
WHERE at >= $1 AND ($2::timestamptz IS NULL OR at < $2)
  AND ($3::text IS NULL OR member_external_id = $3)
  AND ($4::text IS NULL OR actor = $4)
  AND ($5::text IS NULL OR action = $5)
ORDER BY id DESC
LIMIT $6

-- name: insert-user
INSERT INTO users (name, role, token_hash, token_expires_at) VALUES ($1, $2, $3, $4)
RETURNING id, name, role, created_at, disabled_at, token_rotated_at, token_expires_at

-- name: user-by-name
SELECT id, name, role, created_at, disabled_at, token_rotated_at, token_expires_at FROM users WHERE name = $1

-- name: user-by-token
-- A disabled user's token, or an expired one, opens nothing.
SELECT id, name, role, created_at, disabled_at, token_rotated_at, token_expires_at FROM users
WHERE token_hash = $1 AND disabled_at IS NULL AND token_expires_at > now()

-- name: list-users
SELECT id, name, role, created_at, disabled_at, token_rotated_at, token_expires_at FROM users ORDER BY name

-- name: disable-user
UPDATE users SET disabled_at = now() WHERE name = $1 AND disabled_at IS NULL
RETURNING id, name, role, created_at, disabled_at, token_rotated_at, token_expires_at

-- name: rotate-token
UPDATE users SET token_hash = $2, token_rotated_at = now(), token_expires_at = $3 WHERE name = $1 AND disabled_at IS NULL
RETURNING id, name, role, created_at, disabled_at, token_rotated_at, token_expires_at

-- name: suppressions-create-staging
CREATE TEMP TABLE import_suppressions (channel text NOT NULL, value text NOT NULL) ON COMMIT DROP

-- name: suppressions-merge
-- $2, $3: the register key's pads (see 0010).
INSERT INTO suppressions (channel, key, reason)
SELECT DISTINCT channel, register_key($2, $3, channel, value), $1 FROM import_suppressions
ON CONFLICT (channel, key) DO NOTHING

-- name: purchases-create-staging
CREATE TEMP TABLE import_purchases (
  line integer NOT NULL, external_id text NOT NULL, purchased_at timestamptz NOT NULL,
  amount_cents bigint NOT NULL, store text NOT NULL, order_ref text NOT NULL
) ON COMMIT DROP

-- name: purchases-unknown-members
SELECT i.line, i.external_id FROM import_purchases i
WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.external_id = i.external_id)
ORDER BY i.line

-- name: purchases-merge
INSERT INTO purchases (member_id, purchased_at, amount_cents, store, order_ref)
SELECT m.id, i.purchased_at, i.amount_cents, i.store, i.order_ref
FROM import_purchases i JOIN members m ON m.external_id = i.external_id
ORDER BY i.line
ON CONFLICT (order_ref) DO NOTHING

-- name: suppressions-copy
COPY import_suppressions (channel, value) FROM STDIN

-- name: purchases-copy
COPY import_purchases (line, external_id, purchased_at, amount_cents, store, order_ref) FROM STDIN

-- name: record-unsubscribe
-- A withdrawal only when the channel is not withdrawn already, so a repeated click records nothing.
INSERT INTO consent_events (member_id, channel, status, source)
SELECT m.id, $2, 'withdrawn', $3 FROM members m
LEFT JOIN current_consents c ON c.member_id = m.id AND c.channel = $2
WHERE m.id = $1 AND c.status IS DISTINCT FROM 'withdrawn'
RETURNING id

-- name: register-key-fingerprint
SELECT fingerprint FROM register_key

-- name: register-key-lock
LOCK TABLE members, suppressions, erased_members, register_key IN EXCLUSIVE MODE

-- name: register-key-convert-suppressions
-- Every key written before keyed hashes is an unkeyed digest; its keyed form is the HMAC of it.
UPDATE suppressions SET key = register_hmac($1, $2, key)

-- name: register-key-convert-erased
UPDATE erased_members SET key = register_hmac($1, $2, key)

-- name: register-key-convert-members
UPDATE members SET email_key = register_hmac($1, $2, email_key), phone_key = register_hmac($1, $2, phone_key),
                   postal_key = register_hmac($1, $2, postal_key)

-- name: register-key-adopt
INSERT INTO register_key (fingerprint) VALUES ($1)
