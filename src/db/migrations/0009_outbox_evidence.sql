ALTER TABLE "annual_overviews" ADD COLUMN "claim_token" uuid;--> statement-breakpoint
ALTER TABLE "annual_overviews" ADD COLUMN "smtp_response" text;--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "claim_token" uuid;--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "smtp_response" text;