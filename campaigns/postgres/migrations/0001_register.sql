-- 0001: the member register, campaigns, the delivery ledger, coupons, users and the audit log.
-- Every table is created in the schema named by search_path, so tests can run each in its own schema.

-- suppression_key is how an email, a phone number or a postal Robinson key is compared with the
-- suppression list: normalised, then hashed, so that an erased member's address can stay on the list
-- without the address itself staying in the database. It uses only immutable built-ins (text reaches
-- bytea through the escape format, with backslashes doubled, giving the UTF-8 bytes) so that the
-- planner inlines it into the generated columns below: a bulk load does not pay for a function call.
CREATE FUNCTION suppression_key(channel text, value text) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN value IS NULL OR btrim(value) = '' THEN NULL
    ELSE sha256(replace(channel || ':' || CASE channel
      WHEN 'email'  THEN lower(btrim(value))
      WHEN 'postal' THEN upper(translate(value, E' \t\n\r\u00a0', ''))
      ELSE translate(value, E' \t\n\r\u00a0', '')
    END, '\', '\\')::bytea)
  END
$$;

CREATE TABLE members (
  id                bigserial PRIMARY KEY,
  external_id       text NOT NULL UNIQUE CHECK (external_id <> ''),
  first_name        text NOT NULL DEFAULT '',
  last_name         text NOT NULL DEFAULT '',
  email             text,
  phone             text,
  street            text NOT NULL DEFAULT '',
  postal_code       text NOT NULL DEFAULT '',
  city              text NOT NULL DEFAULT '',
  country           text NOT NULL DEFAULT 'FI',
  language          text NOT NULL DEFAULT 'fi' CHECK (language IN ('fi', 'sv', 'en')),
  address_protected boolean NOT NULL DEFAULT false,
  deceased          boolean NOT NULL DEFAULT false,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  email_key  bytea GENERATED ALWAYS AS (suppression_key('email', email)) STORED,
  phone_key  bytea GENERATED ALWAYS AS (suppression_key('sms', phone)) STORED,
  postal_key bytea GENERATED ALWAYS AS (
    suppression_key('postal', last_name || '|' || street || '|' || postal_code)) STORED
);
CREATE INDEX members_postal_code ON members (postal_code text_pattern_ops);

-- Consent is a record: every grant and withdrawal is an event, never updated, never deleted except
-- when the member is erased. For postal, "withdrawn" is the member's objection to postal marketing.
CREATE TABLE consent_events (
  id              bigserial PRIMARY KEY,
  member_id       bigint NOT NULL REFERENCES members (id) ON DELETE CASCADE,
  channel         text NOT NULL CHECK (channel IN ('email', 'sms', 'postal')),
  status          text NOT NULL CHECK (status IN ('granted', 'withdrawn')),
  source          text NOT NULL CHECK (source IN ('signup-form', 'customer-service', 'unsubscribe-link',
                                                  'sms-stop', 'import', 'population-register')),
  wording_version text NOT NULL DEFAULT '',
  actor           text NOT NULL DEFAULT '',
  recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consent_events_member ON consent_events (member_id, channel, id);

-- current_consents is derived from consent_events by the trigger below: the latest event per member
-- and channel. It exists so that selecting a million members does not sort a million histories.
CREATE TABLE current_consents (
  member_id bigint NOT NULL REFERENCES members (id) ON DELETE CASCADE,
  channel   text NOT NULL,
  event_id  bigint NOT NULL,
  status    text NOT NULL,
  PRIMARY KEY (member_id, channel)
);

-- A statement-level trigger with a transition table, so that a bulk insert (an import, COPY from the
-- seeder) derives the current state in one set-based statement rather than once per row.
CREATE FUNCTION consent_events_derive() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO current_consents AS c (member_id, channel, event_id, status)
  SELECT DISTINCT ON (member_id, channel) member_id, channel, id, status
  FROM new_events
  ORDER BY member_id, channel, id DESC
  ON CONFLICT (member_id, channel) DO UPDATE
    SET event_id = EXCLUDED.event_id, status = EXCLUDED.status
    WHERE c.event_id < EXCLUDED.event_id;
  RETURN NULL;
END
$$;
CREATE TRIGGER consent_events_derive AFTER INSERT ON consent_events
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION consent_events_derive();

CREATE TABLE purchases (
  id           bigserial PRIMARY KEY,
  member_id    bigint NOT NULL REFERENCES members (id) ON DELETE CASCADE,
  purchased_at timestamptz NOT NULL,
  amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
  store        text NOT NULL DEFAULT '',
  order_ref    text NOT NULL UNIQUE
);
CREATE INDEX purchases_member ON purchases (member_id, purchased_at);

-- The direct-marketing ban list and bounces: only keys (see suppression_key), never the address.
CREATE TABLE suppressions (
  channel    text NOT NULL CHECK (channel IN ('email', 'sms', 'postal')),
  key        bytea NOT NULL,
  reason     text NOT NULL CHECK (reason IN ('robinson', 'bounce', 'complaint', 'manual', 'erasure')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel, key)
);

CREATE TABLE users (
  id         bigserial PRIMARY KEY,
  name       text NOT NULL UNIQUE CHECK (name <> ''),
  role       text NOT NULL CHECK (role IN ('marketer', 'ops', 'privacy', 'admin')),
  token_hash bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The audit log names the acting user and the member by internal id only.
CREATE TABLE audit_log (
  id        bigserial PRIMARY KEY,
  at        timestamptz NOT NULL DEFAULT now(),
  actor     text NOT NULL CHECK (actor <> ''),
  action    text NOT NULL,
  member_id bigint,
  details   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE campaigns (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('coupon', 'newsletter')),
  spec        jsonb NOT NULL,
  status      text NOT NULL DEFAULT 'draft'
              CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'finished', 'cancelled')),
  next_run_at timestamptz,
  created_by  text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaigns_due ON campaigns (next_run_at) WHERE status = 'scheduled';

-- One run per campaign and scheduled instant: a recurring campaign runs once per tick however many
-- schedulers race for it.
CREATE TABLE runs (
  id            bigserial PRIMARY KEY,
  campaign_id   bigint NOT NULL REFERENCES campaigns (id),
  scheduled_for timestamptz NOT NULL,
  status        text NOT NULL DEFAULT 'selecting'
                CHECK (status IN ('selecting', 'running', 'paused', 'finished', 'cancelled')),
  started_at    timestamptz NOT NULL DEFAULT now(),
  -- The selection goes through the members in slices of ids, each in its own transaction, so that
  -- the first batches are sent while the rest of a large register is still being selected.
  selected_upto bigint NOT NULL DEFAULT 0,
  slices        integer NOT NULL DEFAULT 0,
  selected_at   timestamptz,
  finished_at   timestamptz,
  UNIQUE (campaign_id, scheduled_for)
);

-- Members left out at selection, counted per channel and reason (no_consent, suppressed, deceased, ...).
CREATE TABLE run_skips (
  run_id  bigint NOT NULL REFERENCES runs (id),
  channel text NOT NULL,
  reason  text NOT NULL,
  members bigint NOT NULL,
  PRIMARY KEY (run_id, channel, reason)
);

-- The delivery ledger: the truth about what was, is being and will be sent. Rows are written once
-- by the selection and then only change status, so no index covers a column that changes: status
-- updates stay HOT (fillfactor leaves room on each page for them).
CREATE TABLE deliveries (
  id               bigserial PRIMARY KEY,
  -- No foreign keys on this table: a selection writes a million rows at once, and a foreign-key check
  -- per row per key would double its time. Runs are never deleted, and erasure clears member_id and
  -- consent_event_id itself (query erase-member).
  run_id           bigint NOT NULL,
  member_id        bigint,
  channel          text NOT NULL CHECK (channel IN ('email', 'sms', 'postal')),
  batch            integer NOT NULL,
  status           text NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'sent', 'failed', 'skipped', 'cancelled')),
  consent_event_id bigint,
  reason           text NOT NULL DEFAULT '',
  attempts         integer NOT NULL DEFAULT 0,
  provider_ref     text NOT NULL DEFAULT '',
  sms_segments     integer,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  sent_at          timestamptz
) WITH (fillfactor = 80);
-- One delivery per (run, member, channel): selecting a run twice adds nothing.
CREATE UNIQUE INDEX deliveries_run_member ON deliveries (run_id, channel, member_id);
CREATE INDEX deliveries_batch ON deliveries (run_id, channel, batch);
CREATE INDEX deliveries_member ON deliveries (member_id);
-- SMS delivery reports name the message by the gateway's id.
CREATE INDEX deliveries_provider_ref ON deliveries (provider_ref) WHERE channel = 'sms';

-- The unit of work in the queue: a batch of a run's deliveries on one channel. The asynq task names
-- the batch, never a member; the lease keeps two workers from sending the same batch at once.
CREATE TABLE batches (
  run_id       bigint NOT NULL REFERENCES runs (id),
  channel      text NOT NULL,
  batch        integer NOT NULL,
  size         integer NOT NULL,
  enqueued_at  timestamptz,
  enqueues     integer NOT NULL DEFAULT 0,   -- generation of the current task (worker.TaskID)
  lease_until  timestamptz,
  lease_owner  text,
  done_at      timestamptz,
  PRIMARY KEY (run_id, channel, batch)
);

-- member_reach says, for every member and channel, why the member may not be sent marketing on it
-- (reason NULL: they may), and which consent event the permission rests on. It is the one statement
-- of rule 2 of the register: the scheduler selects with it and the workers re-check with it.
CREATE VIEW member_reach AS
SELECT m.id AS member_id, c.channel, cc.event_id AS consent_event_id,
  CASE
    WHEN m.deceased THEN 'deceased'
    WHEN c.channel = 'email' AND m.email IS NULL THEN 'no_address'
    WHEN c.channel = 'sms' AND m.phone IS NULL THEN 'no_address'
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

-- The coupon ledger. member_id becomes NULL when the member is erased; the code and its uses stay.
-- A code is issued at most once per (run, member, channel): the unique delivery_id says so, since a
-- delivery is unique per (run, member, channel). Campaign and run are copied from the delivery, so
-- they need no foreign-key check of their own on every code issued.
CREATE TABLE coupons (
  id          bigserial PRIMARY KEY,
  code        text NOT NULL UNIQUE,
  campaign_id bigint NOT NULL,
  run_id      bigint NOT NULL,
  member_id   bigint REFERENCES members (id) ON DELETE SET NULL,
  channel     text NOT NULL CHECK (channel IN ('email', 'sms', 'postal')),
  delivery_id bigint NOT NULL UNIQUE REFERENCES deliveries (id),
  discount    text NOT NULL DEFAULT '',
  issued_at   timestamptz NOT NULL DEFAULT now(),
  valid_until timestamptz NOT NULL
);
CREATE INDEX coupons_member ON coupons (member_id);

CREATE TABLE coupon_redemptions (
  coupon_id   bigint PRIMARY KEY REFERENCES coupons (id),
  redeemed_at timestamptz NOT NULL DEFAULT now(),
  store       text NOT NULL DEFAULT '',
  order_ref   text NOT NULL DEFAULT '',
  actor       text NOT NULL DEFAULT ''
);
