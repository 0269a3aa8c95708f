-- 0005: the audit log answers "who did what about this member" by the member's external id, which
-- people write in their letters, and by user and action. The external id stays after an erasure, so
-- that the erasure itself can be shown; nothing else of the person does.
ALTER TABLE audit_log ADD COLUMN member_external_id text;
UPDATE audit_log a SET member_external_id = m.external_id FROM members m WHERE m.id = a.member_id;
CREATE INDEX audit_log_member ON audit_log (member_external_id) WHERE member_external_id IS NOT NULL;
CREATE INDEX audit_log_actor ON audit_log (actor, at);
