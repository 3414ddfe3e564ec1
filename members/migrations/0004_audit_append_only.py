"""On PostgreSQL, refuse UPDATE and DELETE on the audit log at the database."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION members_auditevent_append_only() RETURNS trigger AS $$
BEGIN
  -- The one change allowed: the actor's account was deleted (SET_NULL);
  -- actor_email keeps who it was.
  IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL
     AND ROW(NEW.created_at, NEW.actor_email, NEW.action, NEW.object_type, NEW.object_id,
             NEW.object_repr, NEW.before::text, NEW.after::text, NEW.ip)
         IS NOT DISTINCT FROM
         ROW(OLD.created_at, OLD.actor_email, OLD.action, OLD.object_type, OLD.object_id,
             OLD.object_repr, OLD.before::text, OLD.after::text, OLD.ip) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'The audit log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER members_auditevent_no_change
  BEFORE UPDATE OR DELETE ON members_auditevent
  FOR EACH ROW EXECUTE FUNCTION members_auditevent_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS members_auditevent_no_change ON members_auditevent;
DROP FUNCTION IF EXISTS members_auditevent_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("members", "0003_audit_and_settings")]

    operations = [migrations.RunPython(forward, backward)]
