-- name: seed-lock
-- Seeding reserves a block of member ids; no other insert may take one meanwhile.
LOCK TABLE members IN EXCLUSIVE MODE

-- name: seed-reserve-ids
SELECT setval('members_id_seq', nextval('members_id_seq') + $1 - 1)

-- name: seed-copy-members
-- phone_sms is true wherever there is a phone: the generator writes only mobile numbers.
COPY members (id, external_id, first_name, last_name, email, phone, phone_sms, street, postal_code, city,
              country, language, address_protected, deceased) FROM STDIN

-- name: seed-copy-consents
COPY consent_events (member_id, channel, status, source, actor) FROM STDIN

-- name: seed-copy-purchases
COPY purchases (member_id, purchased_at, amount_cents, store, order_ref) FROM STDIN
