-- 0002: whether a member's phone can take an SMS, and SMS marketing only to those that can.
--
-- Phone numbers are now normalised with libphonenumber (package campaigns/phone), which also says
-- what sort of line a number is. phone_sms records it at import: true for a mobile number (or one
-- whose country's plan does not tell mobile from fixed), false for a landline or a service number,
-- NULL exactly when there is no phone. The number itself is kept either way: it is what the member
-- gave, and email and post still reach them.
ALTER TABLE members ADD COLUMN phone_sms boolean;

-- The numbers already stored were normalised by the hand-written code, which kept the trunk 0 of
-- "+358 (0)50 …" and "+358 0 50 …" as +3580…: a number no gateway routes and no inbound STOP
-- matches. No Finnish number starts with 0 after the country code, so the 0 is dropped. A
-- suppression that matched the stored form keeps matching the member under the repaired one.
INSERT INTO suppressions (channel, key, reason, created_at)
SELECT 'sms', suppression_key('sms', regexp_replace(m.phone, '^\+3580+', '+358')), s.reason, s.created_at
FROM members m
JOIN suppressions s ON s.channel = 'sms' AND s.key = m.phone_key
WHERE m.phone ~ '^\+3580'
ON CONFLICT (channel, key) DO NOTHING;

UPDATE members SET phone = regexp_replace(phone, '^\+3580+', '+358'), updated_at = now()
WHERE phone ~ '^\+3580';

-- The backfill cannot call the library, so it states its rule: a Finnish number (+358) can take an
-- SMS when it is in a mobile range of libphonenumber's metadata for FI and AX (v1.8.1: 4946 and 2
-- to 6 digits, or 40-48 or 50 and 4 to 8 digits); any other Finnish number cannot (landlines,
-- service numbers, and numbers too short or too long to be any). A foreign number is taken to be
-- able to, as before this migration: SQL cannot tell its ranges, and a gateway refuses a landline
-- with a bounce. Importing the member file again sets phone_sms from the library for every row.
UPDATE members SET phone_sms = CASE
    WHEN phone !~ '^\+358' THEN true
    ELSE phone ~ '^\+358(4946[0-9]{2,6}|(4[0-8]|50)[0-9]{4,8})$'
  END
WHERE phone IS NOT NULL;

ALTER TABLE members ADD CONSTRAINT members_phone_sms CHECK ((phone IS NULL) = (phone_sms IS NULL));

-- member_reach as in 0001, with one rule more: SMS goes only to a phone that can take it
-- (reason 'landline'), checked after there is a phone at all and before the consent.
CREATE OR REPLACE VIEW member_reach AS
SELECT m.id AS member_id, c.channel, cc.event_id AS consent_event_id,
  CASE
    WHEN m.deceased THEN 'deceased'
    WHEN c.channel = 'email' AND m.email IS NULL THEN 'no_address'
    WHEN c.channel = 'sms' AND m.phone IS NULL THEN 'no_address'
    WHEN c.channel = 'sms' AND NOT m.phone_sms THEN 'landline'
    WHEN c.channel IN ('email', 'sms') AND cc.status IS DISTINCT FROM 'granted' THEN 'no_consent'
    WHEN c.channel = 'postal' AND cc.status = 'withdrawn' THEN 'objected'
    WHEN c.channel = 'postal' AND m.address_protected THEN 'address_protected'
    WHEN c.channel = 'postal' AND NOT (m.country = 'FI' AND m.street <> '' AND m.city <> ''
         AND m.postal_code ~ '^[0-9]{5}$' AND (m.first_name <> '' OR m.last_name <> '')) THEN 'no_address'
    WHEN EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = c.channel AND s.key =
         CASE c.channel WHEN 'email' THEN m.email_key WHEN 'sms' THEN m.phone_key ELSE m.postal_key END)
      THEN 'suppressed'
  END AS reason
FROM members m
CROSS JOIN (VALUES ('email'), ('sms'), ('postal')) AS c (channel)
LEFT JOIN current_consents cc ON cc.member_id = m.id AND cc.channel = c.channel;
