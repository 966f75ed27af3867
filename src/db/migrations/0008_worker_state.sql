CREATE TABLE "worker_state" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"lease_owner" text,
	"lease_until" timestamp with time zone,
	"watermark" bigint DEFAULT 0 NOT NULL,
	"settings_stamp" text,
	"pending_seq" bigint,
	"pending_xids" text[],
	"pending_since" timestamp with time zone,
	"redis_epoch" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "worker_state_one_row" CHECK ("worker_state"."id" = 1)
);
--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "enqueued_version" integer;--> statement-breakpoint
CREATE INDEX "notifications_unqueued_idx" ON "notifications" USING btree ("planned_at") WHERE "notifications"."status" = 'scheduled' AND "notifications"."enqueued_version" IS DISTINCT FROM "notifications"."version";--> statement-breakpoint
-- Data: the worker's state moves out of the settings table (keys worker.*), values unchanged, so
-- the first sweep after the upgrade carries on from the same watermark under the same settings
-- stamp (the stamp never included the worker's own keys) and the lease holder keeps its lease.
INSERT INTO "worker_state" ("id", "lease_owner", "lease_until", "watermark", "settings_stamp", "pending_seq", "pending_xids", "pending_since")
SELECT 1,
  (SELECT "value"->>'owner' FROM "settings" WHERE "key" = 'worker.lease'),
  (SELECT ("value"->>'until')::timestamptz FROM "settings" WHERE "key" = 'worker.lease'),
  COALESCE((SELECT ("value"#>>'{}')::bigint FROM "settings" WHERE "key" = 'worker.watermark' AND jsonb_typeof("value") = 'number'), 0),
  (SELECT "value"#>>'{}' FROM "settings" WHERE "key" = 'worker.settings-stamp' AND jsonb_typeof("value") = 'string'),
  (SELECT ("value"->>'seq')::bigint FROM "settings" WHERE "key" = 'worker.watermark-pending'),
  (SELECT ARRAY(SELECT jsonb_array_elements_text("value"->'xids')) FROM "settings" WHERE "key" = 'worker.watermark-pending' AND jsonb_typeof("value"->'xids') = 'array'),
  (SELECT ("value"->>'since')::timestamptz FROM "settings" WHERE "key" = 'worker.watermark-pending');
--> statement-breakpoint
DELETE FROM "settings" WHERE "key" LIKE 'worker.%';
