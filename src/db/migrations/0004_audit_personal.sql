CREATE TABLE "audit_personal" (
	"audit_id" bigint NOT NULL,
	"field" text NOT NULL,
	"salt" text NOT NULL,
	"before" jsonb,
	"after" jsonb,
	CONSTRAINT "audit_personal_audit_id_field_pk" PRIMARY KEY("audit_id","field")
);
--> statement-breakpoint
ALTER TABLE "audit_personal" ADD CONSTRAINT "audit_personal_audit_id_audit_log_id_fk" FOREIGN KEY ("audit_id") REFERENCES "public"."audit_log"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Personal data of the audit log may be erased (retention deletes rows) but never rewritten.
CREATE OR REPLACE FUNCTION fristvagt_audit_personal_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_personal can be erased, not changed (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_personal_no_update BEFORE UPDATE ON audit_personal FOR EACH ROW EXECUTE FUNCTION fristvagt_audit_personal_no_update();
