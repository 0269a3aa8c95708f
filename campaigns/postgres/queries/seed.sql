-- name: seed-lock
-- Seeding reserves a block of member ids; no other insert may take one meanwhile.
LOCK TABLE members IN EXCLUSIVE MODE

-- name: seed-reserve-ids
SELECT setval('members_id_seq', nextval('members_id_seq') + $1 - 1)

-- name: seed-create-staging
-- The members go through a staging table, so that one INSERT computes their keyed hashes.
CREATE TEMP TABLE seed_members (LIKE members INCLUDING DEFAULTS) ON COMMIT DROP

-- name: seed-copy-members
-- phone_sms is true wherever there is a phone: the generator writes only mobile numbers.
COPY seed_members (id, external_id, first_name, last_name, email, phone, phone_sms, street, postal_code, city,
                   country, language, address_protected, deceased) FROM STDIN

-- name: seed-insert-members
-- $1, $2: the register key's pads (see 0010).
INSERT INTO members (id, external_id, first_name, last_name, email, phone, phone_sms, street, postal_code, city,
                     country, language, address_protected, deceased, email_key, phone_key, postal_key)
SELECT id, external_id, first_name, last_name, email, phone, phone_sms, street, postal_code, city,
       country, language, address_protected, deceased,
       register_key($1, $2, 'email', email), register_key($1, $2, 'sms', phone),
       register_key($1, $2, 'postal', last_name || '|' || street || '|' || postal_code)
FROM seed_members ORDER BY id

-- name: seed-copy-consents
COPY consent_events (member_id, channel, status, source, actor) FROM STDIN

-- name: seed-copy-purchases
COPY purchases (member_id, purchased_at, amount_cents, store, order_ref) FROM STDIN
