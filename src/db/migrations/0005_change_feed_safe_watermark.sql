-- The worker's catch-up advances its watermark only past change_seq values that no running
-- transaction can still commit. That needs every change_seq to be drawn by a transaction that
-- already has its xid (then it shows up in other sessions' snapshots); a BEFORE trigger on a
-- transaction's first write runs before the xid is assigned, so take it explicitly first.
CREATE OR REPLACE FUNCTION fristvagt_stamp_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_current_xact_id();
  NEW.change_seq := nextval('record_change_seq');
  NEW.updated_at := now();
  IF TG_OP = 'UPDATE' THEN
    NEW.version := OLD.version + 1;
  END IF;
  RETURN NEW;
END $$;
