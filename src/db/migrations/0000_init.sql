CREATE TYPE "public"."client_category" AS ENUM('convicted_from_liberty', 'remand', 'supervision', 'measure_68_69', 'youth_home_detention');--> statement-breakpoint
CREATE TYPE "public"."deadline_status" AS ENUM('open', 'met', 'met_late', 'breached');--> statement-breakpoint
CREATE TYPE "public"."incident_kind" AS ENUM('death', 'suicide', 'qualified_suicide_attempt', 'qualified_self_harm', 'other_self_harm_behaviour');--> statement-breakpoint
CREATE TYPE "public"."institution_kind" AS ENUM('prison', 'local_jail', 'halfway_house', 'probation_office');--> statement-breakpoint
CREATE TYPE "public"."notification_status" AS ENUM('scheduled', 'sending', 'sent', 'failed', 'cancelled', 'superseded');--> statement-breakpoint
CREATE TYPE "public"."parole_outcome" AS ENUM('granted', 'refused');--> statement-breakpoint
CREATE TYPE "public"."record_type" AS ENUM('incident', 'security_cell_placement', 'force_use', 'action_plan');--> statement-breakpoint
CREATE TYPE "public"."rule_basis" AS ENUM('law', 'policy');--> statement-breakpoint
CREATE TYPE "public"."token_role" AS ENUM('admin', 'area', 'institution', 'reader');--> statement-breakpoint
CREATE TABLE "action_plans" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" text NOT NULL,
	"journal_number" text NOT NULL,
	"inmate_name" text,
	"cpr" text,
	"client_category" "client_category" NOT NULL,
	"owner_id" uuid,
	"owner_assigned_at" timestamp with time zone,
	"admitted_at" timestamp with time zone,
	"supervision_established_at" timestamp with time zone,
	"sentence_start_date" date,
	"possible_parole_date" date,
	"expected_release_date" date,
	"expelled" boolean DEFAULT false NOT NULL,
	"plan_created_at" timestamp with time zone,
	"elaborated_at" timestamp with time zone,
	"municipality_contacted_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"change_seq" bigint DEFAULT 0 NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "plans_cpr" CHECK (cpr IS NULL OR cpr ~ '^[0-9]{10}$'),
	CONSTRAINT "plans_start" CHECK (("action_plans"."client_category" = 'supervision' AND "action_plans"."supervision_established_at" IS NOT NULL) OR ("action_plans"."client_category" <> 'supervision' AND "action_plans"."admitted_at" IS NOT NULL)),
	CONSTRAINT "plans_elaborated_after_created" CHECK ("action_plans"."elaborated_at" IS NULL OR "action_plans"."plan_created_at" IS NULL OR "action_plans"."elaborated_at" >= "action_plans"."plan_created_at")
);
--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"role" "token_role" NOT NULL,
	"area_id" text,
	"institution_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	CONSTRAINT "tokens_scope" CHECK (("api_tokens"."role" = 'area') = ("api_tokens"."area_id" IS NOT NULL) AND ("api_tokens"."role" = 'institution') = ("api_tokens"."institution_id" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE "areas" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"office_email" text NOT NULL,
	"director_name" text NOT NULL,
	"director_email" text NOT NULL,
	"leadership_email" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "areas_id_slug" CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
	CONSTRAINT "areas_office_email" CHECK (office_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
	CONSTRAINT "areas_director_email" CHECK (director_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
	CONSTRAINT "areas_leadership_email" CHECK (leadership_email IS NULL OR leadership_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$')
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" text NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deadlines" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"record_type" "record_type" NOT NULL,
	"record_id" uuid NOT NULL,
	"institution_id" text NOT NULL,
	"area_id" text NOT NULL,
	"key" text NOT NULL,
	"rule_id" text NOT NULL,
	"basis" "rule_basis" NOT NULL,
	"obligation" text DEFAULT 'duty' NOT NULL,
	"citation" text NOT NULL,
	"explanation" text NOT NULL,
	"start_date" date NOT NULL,
	"due_date" date NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"original_due_date" date,
	"status" "deadline_status" NOT NULL,
	"suspended" boolean DEFAULT false NOT NULL,
	"completed_at" timestamp with time zone,
	"calendar_version" text NOT NULL,
	"catalogue_version" text NOT NULL,
	"computed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	CONSTRAINT "deadlines_obligation" CHECK ("deadlines"."obligation" IN ('duty', 'right'))
);
--> statement-breakpoint
CREATE TABLE "force_uses" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" text NOT NULL,
	"journal_number" text NOT NULL,
	"inmate_name" text,
	"cpr" text,
	"description" text,
	"occurred_at" timestamp with time zone NOT NULL,
	"report_filed_at" timestamp with time zone,
	"complaint_received_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"change_seq" bigint DEFAULT 0 NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "force_cpr" CHECK (cpr IS NULL OR cpr ~ '^[0-9]{10}$'),
	CONSTRAINT "force_report_after" CHECK ("force_uses"."report_filed_at" IS NULL OR "force_uses"."report_filed_at" >= "force_uses"."occurred_at")
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"actor" text NOT NULL,
	"key" text NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"request_hash" text NOT NULL,
	"status_code" integer NOT NULL,
	"response" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_actor_key_pk" PRIMARY KEY("actor","key")
);
--> statement-breakpoint
CREATE TABLE "incidents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" text NOT NULL,
	"journal_number" text NOT NULL,
	"kind" "incident_kind" NOT NULL,
	"inmate_name" text,
	"cpr" text,
	"description" text,
	"occurred_at" timestamp with time zone NOT NULL,
	"registered_at" timestamp with time zone DEFAULT now() NOT NULL,
	"media_attention" boolean DEFAULT false NOT NULL,
	"preliminary_notice_sent_at" timestamp with time zone,
	"final_report_submitted_at" timestamp with time zone,
	"delay_notified_at" timestamp with time zone,
	"final_report_expected_at" date,
	"delay_reason" text,
	"inmate_conversation_held_at" timestamp with time zone,
	"closing_letter_sent_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"change_seq" bigint DEFAULT 0 NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "incidents_cpr" CHECK (cpr IS NULL OR cpr ~ '^[0-9]{10}$'),
	CONSTRAINT "incidents_notice_after" CHECK ("incidents"."preliminary_notice_sent_at" IS NULL OR "incidents"."preliminary_notice_sent_at" >= "incidents"."occurred_at"),
	CONSTRAINT "incidents_report_after" CHECK ("incidents"."final_report_submitted_at" IS NULL OR "incidents"."final_report_submitted_at" >= "incidents"."occurred_at"),
	CONSTRAINT "incidents_delay_pair" CHECK (("incidents"."delay_notified_at" IS NULL) = ("incidents"."final_report_expected_at" IS NULL))
);
--> statement-breakpoint
CREATE TABLE "institutions" (
	"id" text PRIMARY KEY NOT NULL,
	"area_id" text NOT NULL,
	"name" text NOT NULL,
	"kind" "institution_kind" NOT NULL,
	"duty_manager_email" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "institutions_id_slug" CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
	CONSTRAINT "institutions_duty_email" CHECK (duty_manager_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$')
);
--> statement-breakpoint
CREATE TABLE "notifications" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"deadline_id" uuid,
	"record_type" "record_type" NOT NULL,
	"record_id" uuid NOT NULL,
	"stage" text NOT NULL,
	"template" text NOT NULL,
	"recipient" text NOT NULL,
	"planned_at" timestamp with time zone NOT NULL,
	"status" "notification_status" DEFAULT 'scheduled' NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"message_id" text,
	"last_error" text,
	"claimed_at" timestamp with time zone,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notifications_recipient" CHECK (recipient ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
	CONSTRAINT "notifications_sent_has_id" CHECK ("notifications"."status" <> 'sent' OR "notifications"."message_id" IS NOT NULL)
);
--> statement-breakpoint
CREATE TABLE "parole_decisions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"plan_id" uuid NOT NULL,
	"decided_at" timestamp with time zone NOT NULL,
	"outcome" "parole_outcome" NOT NULL,
	"plan_updated_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "parole_update_after" CHECK ("parole_decisions"."plan_updated_at" IS NULL OR "parole_decisions"."plan_updated_at" >= "parole_decisions"."decided_at")
);
--> statement-breakpoint
CREATE TABLE "plan_evaluations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"plan_id" uuid NOT NULL,
	"evaluated_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "plan_transfers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"plan_id" uuid NOT NULL,
	"transferred_at" timestamp with time zone NOT NULL,
	"to_institution_id" text NOT NULL,
	"plan_updated_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "transfer_update_after" CHECK ("plan_transfers"."plan_updated_at" IS NULL OR "plan_transfers"."plan_updated_at" >= "plan_transfers"."transferred_at")
);
--> statement-breakpoint
CREATE TABLE "security_cell_placements" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" text NOT NULL,
	"journal_number" text NOT NULL,
	"inmate_name" text,
	"cpr" text,
	"mechanical_restraint" boolean DEFAULT false NOT NULL,
	"placed_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"follow_up_held_at" timestamp with time zone,
	"follow_up_postponed_reason" text,
	"follow_up_rescheduled_to" date,
	"closed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"change_seq" bigint DEFAULT 0 NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "cell_cpr" CHECK (cpr IS NULL OR cpr ~ '^[0-9]{10}$'),
	CONSTRAINT "cell_end_after_start" CHECK ("security_cell_placements"."ended_at" IS NULL OR "security_cell_placements"."ended_at" >= "security_cell_placements"."placed_at"),
	CONSTRAINT "cell_followup_needs_end" CHECK ("security_cell_placements"."follow_up_held_at" IS NULL OR "security_cell_placements"."ended_at" IS NOT NULL),
	CONSTRAINT "cell_reschedule_needs_reason" CHECK ("security_cell_placements"."follow_up_rescheduled_to" IS NULL OR "security_cell_placements"."follow_up_postponed_reason" IS NOT NULL)
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "staff" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"area_id" text NOT NULL,
	"institution_id" text,
	"name" text NOT NULL,
	"email" text NOT NULL,
	"title" text,
	"substitute_id" uuid,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "staff_email" CHECK (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
	CONSTRAINT "staff_not_own_substitute" CHECK ("staff"."substitute_id" IS NULL OR "staff"."substitute_id" <> "staff"."id")
);
--> statement-breakpoint
CREATE TABLE "staff_absences" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"staff_id" uuid NOT NULL,
	"from_date" date NOT NULL,
	"until_date" date NOT NULL,
	"reason" text,
	CONSTRAINT "absence_order" CHECK ("staff_absences"."until_date" >= "staff_absences"."from_date")
);
--> statement-breakpoint
ALTER TABLE "action_plans" ADD CONSTRAINT "action_plans_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "action_plans" ADD CONSTRAINT "action_plans_owner_id_staff_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."staff"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_area_id_areas_id_fk" FOREIGN KEY ("area_id") REFERENCES "public"."areas"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deadlines" ADD CONSTRAINT "deadlines_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deadlines" ADD CONSTRAINT "deadlines_area_id_areas_id_fk" FOREIGN KEY ("area_id") REFERENCES "public"."areas"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "force_uses" ADD CONSTRAINT "force_uses_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "institutions" ADD CONSTRAINT "institutions_area_id_areas_id_fk" FOREIGN KEY ("area_id") REFERENCES "public"."areas"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_deadline_id_deadlines_id_fk" FOREIGN KEY ("deadline_id") REFERENCES "public"."deadlines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "parole_decisions" ADD CONSTRAINT "parole_decisions_plan_id_action_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."action_plans"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "plan_evaluations" ADD CONSTRAINT "plan_evaluations_plan_id_action_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."action_plans"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "plan_transfers" ADD CONSTRAINT "plan_transfers_plan_id_action_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."action_plans"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "plan_transfers" ADD CONSTRAINT "plan_transfers_to_institution_id_institutions_id_fk" FOREIGN KEY ("to_institution_id") REFERENCES "public"."institutions"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "security_cell_placements" ADD CONSTRAINT "security_cell_placements_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "staff" ADD CONSTRAINT "staff_area_id_areas_id_fk" FOREIGN KEY ("area_id") REFERENCES "public"."areas"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "staff" ADD CONSTRAINT "staff_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "staff" ADD CONSTRAINT "staff_substitute_id_staff_id_fk" FOREIGN KEY ("substitute_id") REFERENCES "public"."staff"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "staff_absences" ADD CONSTRAINT "staff_absences_staff_id_staff_id_fk" FOREIGN KEY ("staff_id") REFERENCES "public"."staff"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "plans_journal_uq" ON "action_plans" USING btree ("journal_number");--> statement-breakpoint
CREATE INDEX "plans_institution_idx" ON "action_plans" USING btree ("institution_id");--> statement-breakpoint
CREATE INDEX "plans_owner_idx" ON "action_plans" USING btree ("owner_id");--> statement-breakpoint
CREATE INDEX "plans_change_idx" ON "action_plans" USING btree ("change_seq");--> statement-breakpoint
CREATE UNIQUE INDEX "tokens_hash_uq" ON "api_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "audit_hash_uq" ON "audit_log" USING btree ("hash");--> statement-breakpoint
CREATE INDEX "audit_entity_idx" ON "audit_log" USING btree ("entity_type","entity_id");--> statement-breakpoint
CREATE UNIQUE INDEX "deadlines_record_key_uq" ON "deadlines" USING btree ("record_type","record_id","key");--> statement-breakpoint
CREATE INDEX "deadlines_due_idx" ON "deadlines" USING btree ("status","due_date");--> statement-breakpoint
CREATE INDEX "deadlines_area_idx" ON "deadlines" USING btree ("area_id","status");--> statement-breakpoint
CREATE INDEX "deadlines_institution_idx" ON "deadlines" USING btree ("institution_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "force_journal_uq" ON "force_uses" USING btree ("journal_number");--> statement-breakpoint
CREATE INDEX "force_institution_idx" ON "force_uses" USING btree ("institution_id");--> statement-breakpoint
CREATE INDEX "force_change_idx" ON "force_uses" USING btree ("change_seq");--> statement-breakpoint
CREATE UNIQUE INDEX "incidents_journal_uq" ON "incidents" USING btree ("journal_number");--> statement-breakpoint
CREATE INDEX "incidents_institution_idx" ON "incidents" USING btree ("institution_id");--> statement-breakpoint
CREATE INDEX "incidents_change_idx" ON "incidents" USING btree ("change_seq");--> statement-breakpoint
CREATE INDEX "institutions_area_idx" ON "institutions" USING btree ("area_id");--> statement-breakpoint
CREATE UNIQUE INDEX "notifications_stage_uq" ON "notifications" USING btree ("record_type","record_id","stage","recipient");--> statement-breakpoint
CREATE INDEX "notifications_due_idx" ON "notifications" USING btree ("status","planned_at");--> statement-breakpoint
CREATE INDEX "parole_plan_idx" ON "parole_decisions" USING btree ("plan_id","decided_at");--> statement-breakpoint
CREATE INDEX "evaluations_plan_idx" ON "plan_evaluations" USING btree ("plan_id","evaluated_at");--> statement-breakpoint
CREATE INDEX "transfers_plan_idx" ON "plan_transfers" USING btree ("plan_id","transferred_at");--> statement-breakpoint
CREATE UNIQUE INDEX "cell_journal_uq" ON "security_cell_placements" USING btree ("journal_number");--> statement-breakpoint
CREATE INDEX "cell_institution_idx" ON "security_cell_placements" USING btree ("institution_id");--> statement-breakpoint
CREATE INDEX "cell_change_idx" ON "security_cell_placements" USING btree ("change_seq");--> statement-breakpoint
CREATE UNIQUE INDEX "staff_email_uq" ON "staff" USING btree ("email");--> statement-breakpoint
CREATE INDEX "absences_staff_idx" ON "staff_absences" USING btree ("staff_id");