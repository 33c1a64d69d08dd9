"""Append-only at the database level on PostgreSQL (docs/audit.md#database-guard-postgresql).

A statement trigger refuses UPDATE and DELETE on audit_auditevent, except DELETE in a
transaction that ran ``SET LOCAL govdesk.audit_prune = 'on'`` (the retention pruner,
api/audit/retention.py). A row trigger on the chain head lets ``last_seq`` only grow
and lets ``first_seq``/``anchor_hash`` move (forward) only under the same setting.
On SQLite this migration does nothing: the ORM guard and verify_audit remain.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION govdesk_audit_event_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('govdesk.audit_prune', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation',
              HINT = 'see docs/audit.md; only the retention pruner deletes, as a prefix';
END;
$$;

CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION govdesk_audit_event_guard();

CREATE OR REPLACE FUNCTION govdesk_audit_head_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    pruning boolean := coalesce(current_setting('govdesk.audit_prune', true), '') = 'on';
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the audit chain head cannot be deleted'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.id <> OLD.id
       OR NEW.last_seq < OLD.last_seq
       OR (NEW.last_seq = OLD.last_seq AND NEW.last_hash <> OLD.last_hash) THEN
        RAISE EXCEPTION 'the audit chain head only moves forward'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF (NEW.first_seq, NEW.anchor_hash, NEW.pruned_at)
           IS DISTINCT FROM (OLD.first_seq, OLD.anchor_hash, OLD.pruned_at)
       AND (NOT pruning OR NEW.first_seq < OLD.first_seq) THEN
        RAISE EXCEPTION 'the audit chain anchor moves only forward, by the retention pruner'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER audit_head_forward_only
    BEFORE UPDATE OR DELETE ON audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION govdesk_audit_head_guard();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS audit_head_forward_only ON audit_auditchainhead;
DROP FUNCTION IF EXISTS govdesk_audit_head_guard();
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS govdesk_audit_event_guard();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_chain_anchor")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
