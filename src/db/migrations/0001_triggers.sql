-- Change feed: every record change, through the API or written straight into the tables by an
-- integration, gets a monotonic change_seq (the worker's catch-up watermark) and a NOTIFY.
CREATE SEQUENCE IF NOT EXISTS record_change_seq;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION fristvagt_stamp_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.change_seq := nextval('record_change_seq');
  NEW.updated_at := now();
  IF TG_OP = 'UPDATE' THEN
    NEW.version := OLD.version + 1;
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION fristvagt_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Ids only: a notification payload is visible to every listener and must carry no personal data.
  PERFORM pg_notify('fristvagt_changes', json_build_object('type', TG_ARGV[0], 'id', NEW.id, 'seq', NEW.change_seq)::text);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER incidents_stamp BEFORE INSERT OR UPDATE ON incidents FOR EACH ROW EXECUTE FUNCTION fristvagt_stamp_change();
--> statement-breakpoint
CREATE TRIGGER incidents_notify AFTER INSERT OR UPDATE ON incidents FOR EACH ROW EXECUTE FUNCTION fristvagt_notify_change('incident');
--> statement-breakpoint
CREATE TRIGGER cell_stamp BEFORE INSERT OR UPDATE ON security_cell_placements FOR EACH ROW EXECUTE FUNCTION fristvagt_stamp_change();
--> statement-breakpoint
CREATE TRIGGER cell_notify AFTER INSERT OR UPDATE ON security_cell_placements FOR EACH ROW EXECUTE FUNCTION fristvagt_notify_change('security_cell_placement');
--> statement-breakpoint
CREATE TRIGGER force_stamp BEFORE INSERT OR UPDATE ON force_uses FOR EACH ROW EXECUTE FUNCTION fristvagt_stamp_change();
--> statement-breakpoint
CREATE TRIGGER force_notify AFTER INSERT OR UPDATE ON force_uses FOR EACH ROW EXECUTE FUNCTION fristvagt_notify_change('force_use');
--> statement-breakpoint
CREATE TRIGGER plans_stamp BEFORE INSERT OR UPDATE ON action_plans FOR EACH ROW EXECUTE FUNCTION fristvagt_stamp_change();
--> statement-breakpoint
CREATE TRIGGER plans_notify AFTER INSERT OR UPDATE ON action_plans FOR EACH ROW EXECUTE FUNCTION fristvagt_notify_change('action_plan');
--> statement-breakpoint
-- A change to a plan's evaluations, transfers or parole decisions is a change of the plan.
CREATE OR REPLACE FUNCTION fristvagt_touch_plan() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    UPDATE action_plans SET updated_at = now() WHERE id = OLD.plan_id;
  ELSE
    UPDATE action_plans SET updated_at = now() WHERE id = NEW.plan_id;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER evaluations_touch AFTER INSERT OR UPDATE OR DELETE ON plan_evaluations FOR EACH ROW EXECUTE FUNCTION fristvagt_touch_plan();
--> statement-breakpoint
CREATE TRIGGER transfers_touch AFTER INSERT OR UPDATE OR DELETE ON plan_transfers FOR EACH ROW EXECUTE FUNCTION fristvagt_touch_plan();
--> statement-breakpoint
CREATE TRIGGER parole_touch AFTER INSERT OR UPDATE OR DELETE ON parole_decisions FOR EACH ROW EXECUTE FUNCTION fristvagt_touch_plan();
--> statement-breakpoint
-- The audit log is append-only: no update, delete or truncate path, whoever connects.
CREATE OR REPLACE FUNCTION fristvagt_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION fristvagt_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION fristvagt_audit_append_only();
