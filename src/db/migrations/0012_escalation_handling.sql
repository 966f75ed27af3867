CREATE TYPE "public"."escalation_state" AS ENUM('acknowledged', 'under_handling');--> statement-breakpoint
CREATE TABLE "escalation_comments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"deadline_id" uuid NOT NULL,
	"record_type" "record_type" NOT NULL,
	"record_id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"text" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "escalation_handling" (
	"deadline_id" uuid PRIMARY KEY NOT NULL,
	"record_type" "record_type" NOT NULL,
	"record_id" uuid NOT NULL,
	"state" "escalation_state" NOT NULL,
	"acknowledged_at" timestamp with time zone NOT NULL,
	"acknowledged_by" text NOT NULL,
	"handling_since" timestamp with time zone,
	"handling_by" text,
	"assignee_id" uuid,
	"assigned_at" timestamp with time zone,
	"assigned_by" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "escalation_handling_since" CHECK (("escalation_handling"."state" = 'under_handling') = ("escalation_handling"."handling_since" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE "saved_filters" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"actor_id" text NOT NULL,
	"name" text NOT NULL,
	"query" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "saved_filters_name" CHECK (length("saved_filters"."name") BETWEEN 1 AND 60),
	CONSTRAINT "saved_filters_query" CHECK (length("saved_filters"."query") <= 500)
);
--> statement-breakpoint
ALTER TABLE "escalation_comments" ADD CONSTRAINT "escalation_comments_deadline_id_deadlines_id_fk" FOREIGN KEY ("deadline_id") REFERENCES "public"."deadlines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "escalation_handling" ADD CONSTRAINT "escalation_handling_deadline_id_deadlines_id_fk" FOREIGN KEY ("deadline_id") REFERENCES "public"."deadlines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "escalation_handling" ADD CONSTRAINT "escalation_handling_assignee_id_staff_id_fk" FOREIGN KEY ("assignee_id") REFERENCES "public"."staff"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "escalation_comments_deadline_idx" ON "escalation_comments" USING btree ("deadline_id","at");--> statement-breakpoint
CREATE INDEX "escalation_comments_record_idx" ON "escalation_comments" USING btree ("record_id");--> statement-breakpoint
CREATE INDEX "escalation_handling_record_idx" ON "escalation_handling" USING btree ("record_type","record_id");--> statement-breakpoint
CREATE UNIQUE INDEX "saved_filters_actor_name_uq" ON "saved_filters" USING btree ("actor_id","name");