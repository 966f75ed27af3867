CREATE TABLE "incident_delay_notices" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"incident_id" uuid NOT NULL,
	"notified_at" timestamp with time zone NOT NULL,
	"expected_date" date NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "incident_reclassifications" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"incident_id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"from_kind" "incident_kind" NOT NULL,
	"to_kind" "incident_kind" NOT NULL,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reclassification_changes_kind" CHECK ("incident_reclassifications"."from_kind" <> "incident_reclassifications"."to_kind")
);
--> statement-breakpoint
ALTER TABLE "action_plans" DROP CONSTRAINT "plans_start";--> statement-breakpoint
ALTER TABLE "action_plans" ADD COLUMN "transition_placed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "action_plans" ADD COLUMN "transition_owner_assigned_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deadlines" ADD COLUMN "ended_by" text;--> statement-breakpoint
ALTER TABLE "deadlines" ADD COLUMN "ended_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "force_uses" ADD COLUMN "report_complaint_info_noted" boolean;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "closing_letter_copy_sent_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "closed_not_reportable_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "security_cell_placements" ADD COLUMN "follow_up_postponed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "security_cell_placements" ADD COLUMN "follow_up_offered_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "security_cell_placements" ADD COLUMN "follow_up_declined_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "security_cell_placements" ADD COLUMN "follow_up_note_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "security_cell_placements" ADD COLUMN "case_reviewed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "security_cell_placements" ADD COLUMN "case_reviewer" text;--> statement-breakpoint
ALTER TABLE "security_cell_placements" ADD COLUMN "case_review_outcome" text;--> statement-breakpoint
ALTER TABLE "incident_delay_notices" ADD CONSTRAINT "incident_delay_notices_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_reclassifications" ADD CONSTRAINT "incident_reclassifications_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "delay_notices_incident_idx" ON "incident_delay_notices" USING btree ("incident_id","notified_at");--> statement-breakpoint
CREATE INDEX "reclassifications_incident_idx" ON "incident_reclassifications" USING btree ("incident_id","at");--> statement-breakpoint
ALTER TABLE "action_plans" ADD CONSTRAINT "plans_start" CHECK (("action_plans"."client_category" = 'supervision' AND "action_plans"."supervision_established_at" IS NOT NULL) OR ("action_plans"."client_category" = 'measure_68_69' AND ("action_plans"."supervision_established_at" IS NOT NULL OR "action_plans"."admitted_at" IS NOT NULL)) OR ("action_plans"."client_category" NOT IN ('supervision', 'measure_68_69') AND "action_plans"."admitted_at" IS NOT NULL));--> statement-breakpoint
-- Data: every incident with a delay notice gets it as the first row of its notice history. The
-- incident's delay_* columns stay, as the latest notice.
INSERT INTO "incident_delay_notices" ("incident_id", "notified_at", "expected_date", "reason")
SELECT "id", "delay_notified_at", "final_report_expected_at", "delay_reason" FROM "incidents" WHERE "delay_notified_at" IS NOT NULL;
--> statement-breakpoint
-- Data: a stored postponement gets the time it was decided: the earliest audit entry that recorded
-- it (the follow_up_postponed event, or a create/update that set the reason) since the reason was
-- last cleared; without one, updated_at, the latest time it can have been decided. A postponement
-- that cannot be dated earlier must not turn a breach into "met". Never before the placement ended
-- (the rules refuse that; a record entered late may show its end after its audit entry).
UPDATE "security_cell_placements" c SET "follow_up_postponed_at" = GREATEST(COALESCE((
  SELECT min(a."at") FROM "audit_log" a
  WHERE a."entity_type" = 'security_cell_placement' AND a."entity_id" = c."id"::text
    AND a."action" <> 'security_cell_placement.anonymise'
    AND (
      a."action" = 'security_cell_placement.event.follow_up_postponed'
      OR (jsonb_typeof(a."after" -> 'followUpPostponedReason') <> 'null'
          AND (a."before" IS NULL OR (a."before" -> 'followUpPostponedReason') IS DISTINCT FROM (a."after" -> 'followUpPostponedReason')))
    )
    AND a."at" > COALESCE((
      SELECT max(b."at") FROM "audit_log" b
      WHERE b."entity_type" = 'security_cell_placement' AND b."entity_id" = c."id"::text
        AND jsonb_typeof(b."after" -> 'followUpPostponedReason') = 'null' AND jsonb_typeof(b."before" -> 'followUpPostponedReason') <> 'null'
    ), '-infinity'::timestamptz)
), c."updated_at"), c."ended_at")
WHERE c."follow_up_postponed_reason" IS NOT NULL;
--> statement-breakpoint
-- A change to a record's child rows (a plan's evaluations, transfers and parole decisions, an
-- incident's delay notices and reclassifications) is a change of the record (change feed): one
-- function for all, told the parent table and the child's column that points to it.
CREATE OR REPLACE FUNCTION fristvagt_touch_parent() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  child jsonb := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
BEGIN
  EXECUTE format('UPDATE %I SET updated_at = now() WHERE id = $1', TG_ARGV[0]) USING (child ->> TG_ARGV[1])::uuid;
  RETURN NULL;
END $$;
--> statement-breakpoint
DROP TRIGGER evaluations_touch ON plan_evaluations;
--> statement-breakpoint
DROP TRIGGER transfers_touch ON plan_transfers;
--> statement-breakpoint
DROP TRIGGER parole_touch ON parole_decisions;
--> statement-breakpoint
DROP FUNCTION fristvagt_touch_plan();
--> statement-breakpoint
CREATE TRIGGER evaluations_touch AFTER INSERT OR UPDATE OR DELETE ON plan_evaluations FOR EACH ROW EXECUTE FUNCTION fristvagt_touch_parent('action_plans', 'plan_id');
--> statement-breakpoint
CREATE TRIGGER transfers_touch AFTER INSERT OR UPDATE OR DELETE ON plan_transfers FOR EACH ROW EXECUTE FUNCTION fristvagt_touch_parent('action_plans', 'plan_id');
--> statement-breakpoint
CREATE TRIGGER parole_touch AFTER INSERT OR UPDATE OR DELETE ON parole_decisions FOR EACH ROW EXECUTE FUNCTION fristvagt_touch_parent('action_plans', 'plan_id');
--> statement-breakpoint
CREATE TRIGGER delay_notices_touch AFTER INSERT OR UPDATE OR DELETE ON incident_delay_notices FOR EACH ROW EXECUTE FUNCTION fristvagt_touch_parent('incidents', 'incident_id');
--> statement-breakpoint
CREATE TRIGGER reclassifications_touch AFTER INSERT OR UPDATE OR DELETE ON incident_reclassifications FOR EACH ROW EXECUTE FUNCTION fristvagt_touch_parent('incidents', 'incident_id');
--> statement-breakpoint
ALTER TABLE "security_cell_placements" ADD CONSTRAINT "cell_postponement_dated" CHECK (("security_cell_placements"."follow_up_postponed_reason" IS NULL) = ("security_cell_placements"."follow_up_postponed_at" IS NULL));