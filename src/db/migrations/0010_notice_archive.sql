CREATE TABLE "notice_archive" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"notification_id" uuid NOT NULL,
	"record_type" "record_type" NOT NULL,
	"record_id" uuid NOT NULL,
	"recipient" text NOT NULL,
	"message_id" text NOT NULL,
	"mime" "bytea",
	"sha256" text NOT NULL,
	"bytes" integer NOT NULL,
	"smtp_response" text NOT NULL,
	"sent_at" timestamp with time zone NOT NULL,
	"erased_at" timestamp with time zone,
	CONSTRAINT "notice_archive_sha256" CHECK ("notice_archive"."sha256" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "notice_archive_erased" CHECK (("notice_archive"."mime" IS NULL) = ("notice_archive"."erased_at" IS NOT NULL))
);
--> statement-breakpoint
ALTER TABLE "notice_archive" ADD CONSTRAINT "notice_archive_notification_id_notifications_id_fk" FOREIGN KEY ("notification_id") REFERENCES "public"."notifications"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "notice_archive_message_uq" ON "notice_archive" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "notice_archive_record_idx" ON "notice_archive" USING btree ("record_type","record_id");