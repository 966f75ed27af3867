CREATE TABLE "backlog_items" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"record_type" "record_type" NOT NULL,
	"record_id" uuid NOT NULL,
	"item_key" text NOT NULL,
	"kind" text NOT NULL,
	"rule_id" text NOT NULL,
	"area_id" text NOT NULL,
	"institution_id" text NOT NULL,
	"journal_number" text NOT NULL,
	"due_date" date NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"listed_day" date NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "backlog_items_kind" CHECK ("backlog_items"."kind" IN ('deadline', 'alert'))
);
--> statement-breakpoint
CREATE TABLE "backlog_summaries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"area_id" text NOT NULL,
	"listed_day" date NOT NULL,
	"recipient" text NOT NULL,
	"status" "notification_status" DEFAULT 'scheduled' NOT NULL,
	"planned_at" timestamp with time zone NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"claim_token" uuid,
	"message_id" text,
	"smtp_response" text,
	"last_error" text,
	"claimed_at" timestamp with time zone,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "backlog_summaries_sent_has_id" CHECK ("backlog_summaries"."status" <> 'sent' OR "backlog_summaries"."message_id" IS NOT NULL)
);
--> statement-breakpoint
ALTER TABLE "action_plans" ADD COLUMN "registered_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "force_uses" ADD COLUMN "registered_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "security_cell_placements" ADD COLUMN "registered_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "backlog_items" ADD CONSTRAINT "backlog_items_area_id_areas_id_fk" FOREIGN KEY ("area_id") REFERENCES "public"."areas"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backlog_items" ADD CONSTRAINT "backlog_items_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backlog_summaries" ADD CONSTRAINT "backlog_summaries_area_id_areas_id_fk" FOREIGN KEY ("area_id") REFERENCES "public"."areas"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "backlog_items_record_key_uq" ON "backlog_items" USING btree ("record_type","record_id","item_key");--> statement-breakpoint
CREATE INDEX "backlog_items_area_day_idx" ON "backlog_items" USING btree ("area_id","listed_day");--> statement-breakpoint
CREATE UNIQUE INDEX "backlog_summaries_area_day_uq" ON "backlog_summaries" USING btree ("area_id","listed_day");--> statement-breakpoint
CREATE INDEX "backlog_summaries_due_idx" ON "backlog_summaries" USING btree ("status","planned_at");--> statement-breakpoint
-- Hand-written: rows stored before this migration were registered when they were created here.
UPDATE "security_cell_placements" SET "registered_at" = "created_at";--> statement-breakpoint
UPDATE "force_uses" SET "registered_at" = "created_at";--> statement-breakpoint
UPDATE "action_plans" SET "registered_at" = "created_at";
