-- name: import-create-staging
-- The staging table for one import. NULL means "no change" for a known member. phone_sms is set
-- exactly when phone is (whether the number can take an SMS, from campaigns/phone).
CREATE TEMP TABLE import_members (
  line              integer NOT NULL,
  external_id       text NOT NULL,
  first_name        text,
  last_name         text,
  email             text,
  phone             text,
  phone_sms         boolean,
  street            text,
  postal_code       text,
  city              text,
  country           text,
  language          text,
  email_consent     boolean,
  sms_consent       boolean,
  postal_objection  boolean,
  address_protected boolean,
  deceased          boolean
) ON COMMIT DROP

-- name: import-index-staging
CREATE UNIQUE INDEX ON import_members (external_id); ANALYZE import_members

-- name: import-update-members
-- Only rows that change something are touched, so a re-import leaves updated_at alone. phone_sms
-- goes with the phone: a row with a phone sets both (a re-import thus corrects a number stored by an
-- older normaliser, and the backfilled phone_sms), a row without one leaves both.
UPDATE members m SET
  first_name        = coalesce(i.first_name, m.first_name),
  last_name         = coalesce(i.last_name, m.last_name),
  email             = coalesce(i.email, m.email),
  phone             = coalesce(i.phone, m.phone),
  phone_sms         = CASE WHEN i.phone IS NULL THEN m.phone_sms ELSE i.phone_sms END,
  street            = coalesce(i.street, m.street),
  postal_code       = coalesce(i.postal_code, m.postal_code),
  city              = coalesce(i.city, m.city),
  country           = coalesce(i.country, m.country),
  language          = coalesce(i.language, m.language),
  address_protected = coalesce(i.address_protected, m.address_protected),
  deceased          = coalesce(i.deceased, m.deceased),
  updated_at        = now(),
  -- The comparison keys of the new values ($1, $2: the register key's pads; see 0010).
  email_key         = register_key($1, $2, 'email', coalesce(i.email, m.email)),
  phone_key         = register_key($1, $2, 'sms', coalesce(i.phone, m.phone)),
  postal_key        = register_key($1, $2, 'postal', coalesce(i.last_name, m.last_name) || '|' ||
                                   coalesce(i.street, m.street) || '|' || coalesce(i.postal_code, m.postal_code))
FROM import_members i
WHERE m.external_id = i.external_id
  AND (coalesce(i.first_name, m.first_name), coalesce(i.last_name, m.last_name),
       coalesce(i.email, m.email), coalesce(i.phone, m.phone),
       CASE WHEN i.phone IS NULL THEN m.phone_sms ELSE i.phone_sms END, coalesce(i.street, m.street),
       coalesce(i.postal_code, m.postal_code), coalesce(i.city, m.city),
       coalesce(i.country, m.country), coalesce(i.language, m.language),
       coalesce(i.address_protected, m.address_protected), coalesce(i.deceased, m.deceased))
      IS DISTINCT FROM
      (m.first_name, m.last_name, m.email, m.phone, m.phone_sms, m.street, m.postal_code, m.city, m.country,
       m.language, m.address_protected, m.deceased)
RETURNING m.id

-- name: import-insert-members
-- $1, $2: the register key's pads, for the comparison keys (see 0010).
INSERT INTO members (external_id, first_name, last_name, email, phone, phone_sms, street, postal_code,
                     city, country, language, address_protected, deceased, email_key, phone_key, postal_key)
SELECT external_id, coalesce(first_name, ''), coalesce(last_name, ''), email, phone, phone_sms,
       coalesce(street, ''), coalesce(postal_code, ''), coalesce(city, ''), coalesce(country, 'FI'),
       coalesce(language, 'fi'), coalesce(address_protected, false), coalesce(deceased, false),
       register_key($1, $2, 'email', email), register_key($1, $2, 'sms', phone),
       register_key($1, $2, 'postal', coalesce(last_name, '') || '|' || coalesce(street, '') || '|' || coalesce(postal_code, ''))
FROM import_members
ORDER BY line
ON CONFLICT (external_id) DO NOTHING
RETURNING id

-- name: import-consents
-- A consent column records an event only when it changes the member's current state on that
-- channel, so re-importing a file adds no events. postal_objection=yes is a postal withdrawal.
INSERT INTO consent_events (member_id, channel, status, source, actor)
SELECT m.id, c.channel, c.status, $1, $2
FROM import_members i
JOIN members m ON m.external_id = i.external_id
CROSS JOIN LATERAL (VALUES
  (1, 'email',  CASE i.email_consent    WHEN true THEN 'granted'   WHEN false THEN 'withdrawn' END),
  (2, 'sms',    CASE i.sms_consent      WHEN true THEN 'granted'   WHEN false THEN 'withdrawn' END),
  (3, 'postal', CASE i.postal_objection WHEN true THEN 'withdrawn' WHEN false THEN 'granted'   END)
) AS c(ord, channel, status)
LEFT JOIN current_consents cc ON cc.member_id = m.id AND cc.channel = c.channel
WHERE c.status IS NOT NULL AND cc.status IS DISTINCT FROM c.status
ORDER BY i.line, c.ord
RETURNING member_id

-- name: member-by-external-id
SELECT id, external_id, first_name, last_name, coalesce(email, '') AS email, coalesce(phone, '') AS phone,
       street, postal_code, city, country, language, address_protected, deceased, created_at, updated_at
FROM members WHERE external_id = $1

-- name: member-by-id
SELECT id, external_id, first_name, last_name, coalesce(email, '') AS email, coalesce(phone, '') AS phone,
       street, postal_code, city, country, language, address_protected, deceased, created_at, updated_at
FROM members WHERE id = $1

-- name: member-consent-history
SELECT id, member_id, channel, status, source, wording_version, actor, recorded_at
FROM consent_events WHERE member_id = $1 ORDER BY id

-- name: member-purchases
SELECT purchased_at, amount_cents, store, order_ref
FROM purchases WHERE member_id = $1 ORDER BY purchased_at, id

-- name: member-deliveries
SELECT d.id, d.run_id, r.campaign_id, c.name AS campaign_name, d.channel, d.status, d.reason,
       d.consent_event_id, d.sms_segments, d.created_at, d.sent_at, d.updated_at
FROM deliveries d JOIN runs r ON r.id = d.run_id JOIN campaigns c ON c.id = r.campaign_id
WHERE d.member_id = $1 ORDER BY d.id

-- name: member-coupons
SELECT k.code, k.campaign_id, k.run_id, k.channel, k.discount, k.issued_at, k.valid_until,
       x.redeemed_at, x.store AS redeemed_store, x.order_ref AS redeemed_order_ref
FROM coupons k LEFT JOIN coupon_redemptions x ON x.coupon_id = k.id
WHERE k.member_id = $1 ORDER BY k.id

-- name: member-suppressions
SELECT s.channel, s.reason, s.created_at
FROM suppressions s, members m
WHERE m.id = $1 AND ((s.channel = 'email' AND s.key = m.email_key)
                  OR (s.channel = 'sms' AND s.key = m.phone_key)
                  OR (s.channel = 'postal' AND s.key = m.postal_key))
ORDER BY s.channel

-- name: member-audit
-- audit_log has no index on member_id: the entries are found by the member's external id
-- (audit_log_member), which every entry about a member is written with and which never changes;
-- member_id = $1 keeps out the entries of an erased member whose external id was reused. By
-- member_id alone this read the whole log: 14 ms for 200,000 entries, on every member page.
SELECT id, at, actor, action, member_id, member_external_id, details::text AS details
FROM audit_log
WHERE member_external_id = (SELECT external_id FROM members WHERE id = $1) AND member_id = $1
ORDER BY id

-- name: erase-suppress
-- The erased member's email and phone stay on the suppression list as keys (hashes), never as text,
-- so that a later import of the same address is not marketed to.
INSERT INTO suppressions (channel, key, reason)
SELECT v.channel, v.key, 'erasure'
FROM members m CROSS JOIN LATERAL (VALUES ('email', m.email_key), ('sms', m.phone_key)) AS v(channel, key)
WHERE m.id = $1 AND v.key IS NOT NULL
ON CONFLICT (channel, key) DO NOTHING

-- name: erase-remember
-- The erased member's external id, as a keyed hash ($2, $3: the register key's pads): a later import
-- of it is refused (erased_members).
INSERT INTO erased_members (key)
SELECT register_key($2, $3, 'external_id', external_id) FROM members WHERE id = $1
ON CONFLICT (key) DO UPDATE SET erased_at = now()

-- name: import-drop-erased
-- Rows of erased members that are not in the register again are taken out of the import and
-- reported: an erasure holds until `dispatch members readmit`.
DELETE FROM import_members i
USING erased_members e
WHERE e.key = register_key($1, $2, 'external_id', i.external_id)
  AND NOT EXISTS (SELECT 1 FROM members m WHERE m.external_id = i.external_id)
RETURNING i.line, e.erased_at

-- name: readmit-member
DELETE FROM erased_members WHERE key = register_key($2, $3, 'external_id', $1)
RETURNING erased_at

-- name: erase-deliveries
-- Deliveries stay as anonymous counts: without the member and the consent event (deleted with them).
-- A failure's reason keeps its category only ("smtp RCPT TO refused"): reasons are codes since the
-- replies' free text is no longer kept, but older rows may hold a server's words about the person.
UPDATE deliveries SET member_id = NULL, consent_event_id = NULL,
       reason = CASE WHEN status = 'failed' THEN split_part(reason, ':', 1) ELSE reason END
WHERE member_id = $1

-- name: erase-scrubbed-reasons
-- The member's failure reasons that erase-deliveries reduces to their category.
SELECT DISTINCT run_id, channel, reason FROM deliveries
WHERE member_id = $1 AND status = 'failed' AND reason <> split_part(reason, ':', 1)

-- name: erase-reason-counts
-- A failure reason's counter rows once they count nothing (erase-deliveries moved them to the
-- category): the reason's text goes with them.
DELETE FROM delivery_counts
WHERE run_id = $1 AND channel = $2 AND status = 'failed' AND reason = $3
  AND (SELECT sum(n) FROM delivery_counts WHERE run_id = $1 AND channel = $2 AND status = 'failed' AND reason = $3) = 0

-- name: erase-member
-- Consent events, current consents and purchases go with the member (ON DELETE CASCADE); coupons
-- stay, with member_id set to NULL: the coupon ledger without the person.
DELETE FROM members WHERE id = $1

-- name: import-copy
COPY import_members (line, external_id, first_name, last_name, email, phone, phone_sms, street,
                     postal_code, city, country, language, email_consent, sms_consent, postal_objection,
                     address_protected, deceased) FROM STDIN

-- name: import-audit-changes
-- Before the update: one audit entry per member whose fields the import changes, naming each field
-- with its old and new value, so that "who changed what about this member" has an answer. An
-- erasure removes the values (erase-scrub-audit). $1 actor, $2 source, $3 file name.
INSERT INTO audit_log (actor, action, member_id, member_external_id, details)
SELECT $1, 'members.update', m.id, m.external_id,
       jsonb_build_object('source', $2::text, 'file', $3::text, 'changes', ch.changes)
FROM import_members i
JOIN members m ON m.external_id = i.external_id
CROSS JOIN LATERAL (
  SELECT jsonb_object_agg(f.field, jsonb_build_object('old', f.old, 'new', f.new)) AS changes
  FROM (VALUES ('first_name', m.first_name, i.first_name), ('last_name', m.last_name, i.last_name),
               ('email', m.email, i.email), ('phone', m.phone, i.phone), ('street', m.street, i.street),
               ('postal_code', m.postal_code, i.postal_code), ('city', m.city, i.city),
               ('country', m.country, i.country), ('language', m.language, i.language),
               ('address_protected', m.address_protected::text, i.address_protected::text),
               ('deceased', m.deceased::text, i.deceased::text)) AS f (field, old, new)
  WHERE f.new IS NOT NULL AND f.new IS DISTINCT FROM f.old
) ch
WHERE ch.changes IS NOT NULL

-- name: erase-scrub-audit
-- The member's audit entries keep which fields changed, never their values.
UPDATE audit_log SET details = (details - 'changes') ||
       jsonb_build_object('fields', (SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(details -> 'changes') AS k))
WHERE member_id = $1 AND details ? 'changes'
