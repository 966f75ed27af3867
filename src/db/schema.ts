/**
 * The database schema. Postgres is the truth: records, their materialised deadlines, the
 * notification outbox, settings, tokens and the audit log. Enums, checks and foreign keys make the
 * database itself refuse nonsense, whoever writes to it (the API or an integration).
 */
import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  customType,
  bigserial,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const day = (name: string) => date(name, { mode: 'string' });
const SLUG = `'^[a-z0-9][a-z0-9-]{0,62}$'`;
const EMAIL = `'^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$'`;
// CPR: ddmmyy-xxxx stored without the dash; the date part is checked in the application.
const CPR = `'^[0-9]{10}$'`;

export const incidentKind = pgEnum('incident_kind', ['death', 'suicide', 'qualified_suicide_attempt', 'qualified_self_harm', 'other_self_harm_behaviour']);
export const clientCategory = pgEnum('client_category', ['convicted_from_liberty', 'remand', 'supervision', 'measure_68_69', 'youth_home_detention']);
export const institutionKind = pgEnum('institution_kind', ['prison', 'local_jail', 'halfway_house', 'probation_office']);
export const recordType = pgEnum('record_type', ['incident', 'security_cell_placement', 'force_use', 'action_plan']);
export const deadlineStatus = pgEnum('deadline_status', ['open', 'met', 'met_late', 'breached']);
export const ruleBasis = pgEnum('rule_basis', ['law', 'policy']);
export const notificationStatus = pgEnum('notification_status', ['scheduled', 'sending', 'sent', 'failed', 'cancelled', 'superseded']);
export const tokenRole = pgEnum('token_role', ['admin', 'area', 'institution', 'reader']);
export const paroleOutcome = pgEnum('parole_outcome', ['granted', 'refused']);

const stamps = {
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  /** Monotonic change watermark, set by a trigger on every insert/update (the worker's catch-up cursor). */
  changeSeq: bigint('change_seq', { mode: 'number' }).notNull().default(0),
  version: integer('version').notNull().default(1),
};

export const areas = pgTable('areas', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  officeEmail: text('office_email').notNull(),
  directorName: text('director_name').notNull(),
  /** The area director, or the delegate the area has named (§ 5). */
  directorEmail: text('director_email').notNull(),
  leadershipEmail: text('leadership_email'),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
}, (t) => [
  check('areas_id_slug', sql.raw(`${t.id.name} ~ ${SLUG}`)),
  check('areas_office_email', sql.raw(`office_email ~ ${EMAIL}`)),
  check('areas_director_email', sql.raw(`director_email ~ ${EMAIL}`)),
  check('areas_leadership_email', sql.raw(`leadership_email IS NULL OR leadership_email ~ ${EMAIL}`)),
]);

export const institutions = pgTable('institutions', {
  id: text('id').primaryKey(),
  areaId: text('area_id').notNull().references(() => areas.id, { onDelete: 'restrict' }),
  name: text('name').notNull(),
  kind: institutionKind('kind').notNull(),
  dutyManagerEmail: text('duty_manager_email').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
}, (t) => [
  check('institutions_id_slug', sql.raw(`id ~ ${SLUG}`)),
  check('institutions_duty_email', sql.raw(`duty_manager_email ~ ${EMAIL}`)),
  index('institutions_area_idx').on(t.areaId),
]);

export const staff = pgTable('staff', {
  id: uuid('id').primaryKey().defaultRandom(),
  areaId: text('area_id').notNull().references(() => areas.id, { onDelete: 'restrict' }),
  institutionId: text('institution_id').references(() => institutions.id, { onDelete: 'restrict' }),
  name: text('name').notNull(),
  email: text('email').notNull(),
  title: text('title'),
  substituteId: uuid('substitute_id').references((): AnyPgColumn => staff.id, { onDelete: 'set null' }),
  active: boolean('active').notNull().default(true),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
}, (t) => [
  check('staff_email', sql.raw(`email ~ ${EMAIL}`)),
  check('staff_not_own_substitute', sql`${t.substituteId} IS NULL OR ${t.substituteId} <> ${t.id}`),
  uniqueIndex('staff_email_uq').on(t.email),
]);

export const staffAbsences = pgTable('staff_absences', {
  id: uuid('id').primaryKey().defaultRandom(),
  staffId: uuid('staff_id').notNull().references(() => staff.id, { onDelete: 'cascade' }),
  fromDate: day('from_date').notNull(),
  untilDate: day('until_date').notNull(),
  reason: text('reason'),
}, (t) => [
  check('absence_order', sql`${t.untilDate} >= ${t.fromDate}`),
  index('absences_staff_idx').on(t.staffId),
]);

const person = {
  inmateName: text('inmate_name'),
  cpr: text('cpr'),
};

export const incidents = pgTable('incidents', {
  id: uuid('id').primaryKey().defaultRandom(),
  institutionId: text('institution_id').notNull().references(() => institutions.id, { onDelete: 'restrict' }),
  journalNumber: text('journal_number').notNull(),
  kind: incidentKind('kind').notNull(),
  ...person,
  description: text('description'),
  occurredAt: ts('occurred_at').notNull(),
  registeredAt: ts('registered_at').notNull().defaultNow(),
  mediaAttention: boolean('media_attention').notNull().default(false),
  preliminaryNoticeSentAt: ts('preliminary_notice_sent_at'),
  finalReportSubmittedAt: ts('final_report_submitted_at'),
  delayNotifiedAt: ts('delay_notified_at'),
  finalReportExpectedAt: day('final_report_expected_at'),
  delayReason: text('delay_reason'),
  inmateConversationHeldAt: ts('inmate_conversation_held_at'),
  closingLetterSentAt: ts('closing_letter_sent_at'),
  /** § 21: the copy of the closing letter to the directorate's client-case office (Klientsager). */
  closingLetterCopySentAt: ts('closing_letter_copy_sent_at'),
  /** § 20 stk. 2: a chapter 5 case closed as not reportable. */
  closedNotReportableAt: ts('closed_not_reportable_at'),
  closedAt: ts('closed_at'),
  ...stamps,
}, (t) => [
  uniqueIndex('incidents_journal_uq').on(t.journalNumber),
  index('incidents_institution_idx').on(t.institutionId),
  index('incidents_change_idx').on(t.changeSeq),
  check('incidents_cpr', sql.raw(`cpr IS NULL OR cpr ~ ${CPR}`)),
  check('incidents_notice_after', sql`${t.preliminaryNoticeSentAt} IS NULL OR ${t.preliminaryNoticeSentAt} >= ${t.occurredAt}`),
  check('incidents_report_after', sql`${t.finalReportSubmittedAt} IS NULL OR ${t.finalReportSubmittedAt} >= ${t.occurredAt}`),
  check('incidents_delay_pair', sql`(${t.delayNotifiedAt} IS NULL) = (${t.finalReportExpectedAt} IS NULL)`),
]);

/**
 * Every notice of a delayed final report (§ 7 stk. 2, § 14 stk. 2), kept as history: each is judged
 * against the deadline in force when it was given. The incident's delay_* columns repeat the latest.
 */
export const incidentDelayNotices = pgTable('incident_delay_notices', {
  id: uuid('id').primaryKey().defaultRandom(),
  incidentId: uuid('incident_id').notNull().references(() => incidents.id, { onDelete: 'cascade' }),
  notifiedAt: ts('notified_at').notNull(),
  expectedDate: day('expected_date').notNull(),
  reason: text('reason'),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [index('delay_notices_incident_idx').on(t.incidentId, t.notifiedAt)]);

/** Reclassifications between chapters 4 and 5 (§ 11 stk. 2, § 18 stk. 2), in time order; the last `to_kind` is the incident's kind. */
export const incidentReclassifications = pgTable('incident_reclassifications', {
  id: uuid('id').primaryKey().defaultRandom(),
  incidentId: uuid('incident_id').notNull().references(() => incidents.id, { onDelete: 'cascade' }),
  at: ts('at').notNull(),
  fromKind: incidentKind('from_kind').notNull(),
  toKind: incidentKind('to_kind').notNull(),
  reason: text('reason').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [
  index('reclassifications_incident_idx').on(t.incidentId, t.at),
  check('reclassification_changes_kind', sql`${t.fromKind} <> ${t.toKind}`),
]);

export const securityCellPlacements = pgTable('security_cell_placements', {
  id: uuid('id').primaryKey().defaultRandom(),
  institutionId: text('institution_id').notNull().references(() => institutions.id, { onDelete: 'restrict' }),
  journalNumber: text('journal_number').notNull(),
  ...person,
  mechanicalRestraint: boolean('mechanical_restraint').notNull().default(false),
  placedAt: ts('placed_at').notNull(),
  /** When the record was registered at its source (default: when it was created here); its arrival is created_at. */
  registeredAt: ts('registered_at').notNull().defaultNow(),
  endedAt: ts('ended_at'),
  followUpHeldAt: ts('follow_up_held_at'),
  followUpPostponedReason: text('follow_up_postponed_reason'),
  followUpRescheduledTo: day('follow_up_rescheduled_to'),
  /** When the postponement was decided: one decided after the due day does not undo the breach. */
  followUpPostponedAt: ts('follow_up_postponed_at'),
  followUpOfferedAt: ts('follow_up_offered_at'),
  /** The inmate declined the offered conversation: the duty is met at the offer. */
  followUpDeclinedAt: ts('follow_up_declined_at'),
  /** § 14: the note in the security-cell module. */
  followUpNoteAt: ts('follow_up_note_at'),
  /** cell.case-review (seed 001): the area office's review of the case. */
  caseReviewedAt: ts('case_reviewed_at'),
  caseReviewer: text('case_reviewer'),
  caseReviewOutcome: text('case_review_outcome'),
  closedAt: ts('closed_at'),
  ...stamps,
}, (t) => [
  uniqueIndex('cell_journal_uq').on(t.journalNumber),
  index('cell_institution_idx').on(t.institutionId),
  index('cell_change_idx').on(t.changeSeq),
  check('cell_cpr', sql.raw(`cpr IS NULL OR cpr ~ ${CPR}`)),
  check('cell_end_after_start', sql`${t.endedAt} IS NULL OR ${t.endedAt} >= ${t.placedAt}`),
  check('cell_followup_needs_end', sql`${t.followUpHeldAt} IS NULL OR ${t.endedAt} IS NOT NULL`),
  check('cell_reschedule_needs_reason', sql`${t.followUpRescheduledTo} IS NULL OR ${t.followUpPostponedReason} IS NOT NULL`),
  check('cell_postponement_dated', sql`(${t.followUpPostponedReason} IS NULL) = (${t.followUpPostponedAt} IS NULL)`),
]);

export const forceUses = pgTable('force_uses', {
  id: uuid('id').primaryKey().defaultRandom(),
  institutionId: text('institution_id').notNull().references(() => institutions.id, { onDelete: 'restrict' }),
  journalNumber: text('journal_number').notNull(),
  ...person,
  description: text('description'),
  occurredAt: ts('occurred_at').notNull(),
  /** When the record was registered at its source (default: when it was created here); its arrival is created_at. */
  registeredAt: ts('registered_at').notNull().defaultNow(),
  reportFiledAt: ts('report_filed_at'),
  /** § 8: the report notes that the inmate was told of the right to complain; null = not recorded. */
  reportComplaintInfoNoted: boolean('report_complaint_info_noted'),
  complaintReceivedAt: ts('complaint_received_at'),
  closedAt: ts('closed_at'),
  ...stamps,
}, (t) => [
  uniqueIndex('force_journal_uq').on(t.journalNumber),
  index('force_institution_idx').on(t.institutionId),
  index('force_change_idx').on(t.changeSeq),
  check('force_cpr', sql.raw(`cpr IS NULL OR cpr ~ ${CPR}`)),
  check('force_report_after', sql`${t.reportFiledAt} IS NULL OR ${t.reportFiledAt} >= ${t.occurredAt}`),
]);

export const actionPlans = pgTable('action_plans', {
  id: uuid('id').primaryKey().defaultRandom(),
  institutionId: text('institution_id').notNull().references(() => institutions.id, { onDelete: 'restrict' }),
  journalNumber: text('journal_number').notNull(),
  ...person,
  clientCategory: clientCategory('client_category').notNull(),
  /** When the record was registered at its source (default: when it was created here); its arrival is created_at. */
  registeredAt: ts('registered_at').notNull().defaultNow(),
  ownerId: uuid('owner_id').references(() => staff.id, { onDelete: 'set null' }),
  ownerAssignedAt: ts('owner_assigned_at'),
  admittedAt: ts('admitted_at'),
  supervisionEstablishedAt: ts('supervision_established_at'),
  sentenceStartDate: day('sentence_start_date'),
  possibleParoleDate: day('possible_parole_date'),
  expectedReleaseDate: day('expected_release_date'),
  expelled: boolean('expelled').notNull().default(false),
  planCreatedAt: ts('plan_created_at'),
  elaboratedAt: ts('elaborated_at'),
  municipalityContactedAt: ts('municipality_contacted_at'),
  /** pkt. 10/15: placement in a halfway house or transition prison, and the plan owner assigned for it. */
  transitionPlacedAt: ts('transition_placed_at'),
  transitionOwnerAssignedAt: ts('transition_owner_assigned_at'),
  closedAt: ts('closed_at'),
  ...stamps,
}, (t) => [
  uniqueIndex('plans_journal_uq').on(t.journalNumber),
  index('plans_institution_idx').on(t.institutionId),
  index('plans_owner_idx').on(t.ownerId),
  index('plans_change_idx').on(t.changeSeq),
  check('plans_cpr', sql.raw(`cpr IS NULL OR cpr ~ ${CPR}`)),
  // §§ 68–69 clients are supervision clients (004 pkt. 2): their clocks start at the supervision conversation, else at admission.
  check('plans_start', sql`(${t.clientCategory} = 'supervision' AND ${t.supervisionEstablishedAt} IS NOT NULL) OR (${t.clientCategory} = 'measure_68_69' AND (${t.supervisionEstablishedAt} IS NOT NULL OR ${t.admittedAt} IS NOT NULL)) OR (${t.clientCategory} NOT IN ('supervision', 'measure_68_69') AND ${t.admittedAt} IS NOT NULL)`),
  check('plans_elaborated_after_created', sql`${t.elaboratedAt} IS NULL OR ${t.planCreatedAt} IS NULL OR ${t.elaboratedAt} >= ${t.planCreatedAt}`),
]);

export const planEvaluations = pgTable('plan_evaluations', {
  id: uuid('id').primaryKey().defaultRandom(),
  planId: uuid('plan_id').notNull().references(() => actionPlans.id, { onDelete: 'cascade' }),
  evaluatedAt: ts('evaluated_at').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [index('evaluations_plan_idx').on(t.planId, t.evaluatedAt)]);

export const planTransfers = pgTable('plan_transfers', {
  id: uuid('id').primaryKey().defaultRandom(),
  planId: uuid('plan_id').notNull().references(() => actionPlans.id, { onDelete: 'cascade' }),
  transferredAt: ts('transferred_at').notNull(),
  toInstitutionId: text('to_institution_id').notNull().references(() => institutions.id, { onDelete: 'restrict' }),
  planUpdatedAt: ts('plan_updated_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [
  index('transfers_plan_idx').on(t.planId, t.transferredAt),
  check('transfer_update_after', sql`${t.planUpdatedAt} IS NULL OR ${t.planUpdatedAt} >= ${t.transferredAt}`),
]);

export const paroleDecisions = pgTable('parole_decisions', {
  id: uuid('id').primaryKey().defaultRandom(),
  planId: uuid('plan_id').notNull().references(() => actionPlans.id, { onDelete: 'cascade' }),
  decidedAt: ts('decided_at').notNull(),
  outcome: paroleOutcome('outcome').notNull(),
  planUpdatedAt: ts('plan_updated_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [
  index('parole_plan_idx').on(t.planId, t.decidedAt),
  check('parole_update_after', sql`${t.planUpdatedAt} IS NULL OR ${t.planUpdatedAt} >= ${t.decidedAt}`),
]);

/** Deadlines as computed by the engine, materialised so that lists and the worker can query them. */
export const deadlines = pgTable('deadlines', {
  id: uuid('id').primaryKey().defaultRandom(),
  recordType: recordType('record_type').notNull(),
  recordId: uuid('record_id').notNull(),
  institutionId: text('institution_id').notNull().references(() => institutions.id, { onDelete: 'restrict' }),
  areaId: text('area_id').notNull().references(() => areas.id, { onDelete: 'restrict' }),
  key: text('key').notNull(),
  ruleId: text('rule_id').notNull(),
  basis: ruleBasis('basis').notNull(),
  obligation: text('obligation').notNull().default('duty'),
  citation: text('citation').notNull(),
  /** Danish explanation as of computation, for lists; the record endpoint recomputes it in either language. */
  explanation: text('explanation').notNull(),
  startDate: day('start_date').notNull(),
  dueDate: day('due_date').notNull(),
  dueAt: ts('due_at').notNull(),
  originalDueDate: day('original_due_date'),
  status: deadlineStatus('status').notNull(),
  suspended: boolean('suspended').notNull().default(false),
  completedAt: ts('completed_at'),
  calendarVersion: text('calendar_version').notNull(),
  catalogueVersion: text('catalogue_version').notNull(),
  /** When the stored values were computed: a re-plan that computes the same values writes nothing (deadline-store.ts), so this is when they last changed. */
  computedAt: ts('computed_at').notNull().defaultNow(),
  /** False once the rule no longer applies to the record (e.g. reclassified to chapter 5). */
  active: boolean('active').notNull().default(true),
  /** A met or breached deadline kept after the case left its chapter (`reclassification`): no reminders, still counted. */
  endedBy: text('ended_by'),
  endedAt: ts('ended_at'),
}, (t) => [
  uniqueIndex('deadlines_record_key_uq').on(t.recordType, t.recordId, t.key),
  index('deadlines_due_idx').on(t.status, t.dueDate),
  index('deadlines_area_idx').on(t.areaId, t.status),
  index('deadlines_institution_idx').on(t.institutionId, t.status),
  check('deadlines_obligation', sql`${t.obligation} IN ('duty', 'right')`),
]);

/** The outbox: one row per planned reminder, escalation or notice; unique per deadline, stage and recipient. */
export const notifications = pgTable('notifications', {
  id: uuid('id').primaryKey().defaultRandom(),
  deadlineId: uuid('deadline_id').references(() => deadlines.id, { onDelete: 'cascade' }),
  recordType: recordType('record_type').notNull(),
  recordId: uuid('record_id').notNull(),
  /** `<deadline key>:<stage id>` (e.g. `incident.final-report:reminder-1`) or an alert/notice name. */
  stage: text('stage').notNull(),
  kind: text('kind').notNull().default('reminder'),
  template: text('template').notNull(),
  recipient: text('recipient').notNull(),
  plannedAt: ts('planned_at').notNull(),
  status: notificationStatus('status').notNull().default('scheduled'),
  version: integer('version').notNull().default(1),
  /**
   * The version whose send job the worker last added to Redis (job id `send-<id>-<version>`), under
   * the Redis epoch in worker_state: the sweep adds only rows where it differs from `version`.
   */
  enqueuedVersion: integer('enqueued_version'),
  attempts: integer('attempts').notNull().default(0),
  /** Set by each claim: a claim whose answer was lost with its connection finds its rows by it (outbox.ts). */
  claimToken: uuid('claim_token'),
  messageId: text('message_id'),
  /** The SMTP server's reply that accepted the mail (e.g. `250 2.0.0 Ok: queued as 4F2A1`): evidence of delivery to the relay. */
  smtpResponse: text('smtp_response'),
  lastError: text('last_error'),
  claimedAt: ts('claimed_at'),
  sentAt: ts('sent_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
}, (t) => [
  uniqueIndex('notifications_stage_uq').on(t.recordType, t.recordId, t.stage, t.recipient),
  index('notifications_due_idx').on(t.status, t.plannedAt),
  // What an idle sweep reads: only the scheduled rows whose job is not in Redis yet.
  index('notifications_unqueued_idx').on(t.plannedAt).where(sql`${t.status} = 'scheduled' AND ${t.enqueuedVersion} IS DISTINCT FROM ${t.version}`),
  check('notifications_recipient', sql.raw(`recipient ~ ${EMAIL}`)),
  check('notifications_sent_has_id', sql`${t.status} <> 'sent' OR ${t.messageId} IS NOT NULL`),
]);

export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  updatedBy: text('updated_by').notNull(),
});

export const apiTokens = pgTable('api_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  /** sha256 of the token; the token itself is shown once and never stored. */
  tokenHash: text('token_hash').notNull(),
  role: tokenRole('role').notNull(),
  areaId: text('area_id').references(() => areas.id, { onDelete: 'restrict' }),
  institutionId: text('institution_id').references(() => institutions.id, { onDelete: 'restrict' }),
  createdAt: ts('created_at').notNull().defaultNow(),
  revokedAt: ts('revoked_at'),
  lastUsedAt: ts('last_used_at'),
  /** After this instant the token is refused, as if revoked (optional; integrations rotate). */
  expiresAt: ts('expires_at'),
}, (t) => [
  uniqueIndex('tokens_hash_uq').on(t.tokenHash),
  check('tokens_scope', sql`(${t.role} = 'area') = (${t.areaId} IS NOT NULL) AND (${t.role} = 'institution') = (${t.institutionId} IS NOT NULL)`),
]);

export const idempotencyKeys = pgTable('idempotency_keys', {
  actor: text('actor').notNull(),
  key: text('key').notNull(),
  method: text('method').notNull(),
  path: text('path').notNull(),
  requestHash: text('request_hash').notNull(),
  statusCode: integer('status_code').notNull(),
  response: jsonb('response').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.actor, t.key] })]);

/** Append-only, hash-chained. Updates and deletes are refused by a trigger (see the custom migration). */
export const auditLog = pgTable('audit_log', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  at: ts('at').notNull().defaultNow(),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  entityType: text('entity_type').notNull(),
  entityId: text('entity_id').notNull(),
  before: jsonb('before'),
  after: jsonb('after'),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
}, (t) => [
  uniqueIndex('audit_hash_uq').on(t.hash),
  index('audit_entity_idx').on(t.entityType, t.entityId),
]);

/**
 * Personal data of audit entries, kept apart so that it can be erased (retention) without breaking
 * the chain: the entry holds `{"$personal": sha256(salt, value)}` in place of each value, and this
 * row the salt and the values. Deleting a row erases; changing one is refused (trigger) and would
 * be caught by `audit verify` anyway.
 */
export const auditPersonal = pgTable('audit_personal', {
  auditId: bigint('audit_id', { mode: 'number' }).notNull().references(() => auditLog.id),
  field: text('field').notNull(),
  salt: text('salt').notNull(),
  before: jsonb('before'),
  after: jsonb('after'),
}, (t) => [primaryKey({ columns: [t.auditId, t.field] })]);

/** Raw bytes (bytea): a Buffer in, a Buffer out, whichever driver (postgres.js or PGlite) reads it. */
const bytea = customType<{ data: Buffer; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  toDriver: (v) => v,
  fromDriver: (v) => Buffer.from(v),
});

/**
 * The preliminary notice as sent: per recipient, the exact MIME message the SMTP server accepted
 * (byte for byte), its sha256 (also in the audit entry `incident.preliminary_notice_archived`), the
 * Message-ID and the server's reply. The message holds the inmate's name and CPR number: retention
 * erases `mime` (sets it null, `erased_at` says when) with the record's other personal data; the
 * hash, Message-ID and reply stay as evidence that it was sent.
 */
export const noticeArchive = pgTable('notice_archive', {
  id: uuid('id').primaryKey().defaultRandom(),
  notificationId: uuid('notification_id').notNull().references(() => notifications.id),
  recordType: recordType('record_type').notNull(),
  recordId: uuid('record_id').notNull(),
  recipient: text('recipient').notNull(),
  messageId: text('message_id').notNull(),
  /** The message as accepted (RFC 5322, CRLF); null once retention erased it. */
  mime: bytea('mime'),
  /** Hex sha256 of `mime` as sent; kept after erasure. */
  sha256: text('sha256').notNull(),
  bytes: integer('bytes').notNull(),
  smtpResponse: text('smtp_response').notNull(),
  sentAt: ts('sent_at').notNull(),
  erasedAt: ts('erased_at'),
}, (t) => [
  uniqueIndex('notice_archive_message_uq').on(t.messageId),
  index('notice_archive_record_idx').on(t.recordType, t.recordId),
  check('notice_archive_sha256', sql`${t.sha256} ~ '^[0-9a-f]{64}$'`),
  check('notice_archive_erased', sql`(${t.mime} IS NULL) = (${t.erasedAt} IS NOT NULL)`),
]);

/** The built-in mail catcher: when no SMTP_URL is set, messages are stored here (development, demos). */
export const caughtMail = pgTable('caught_mail', {
  id: uuid('id').primaryKey().defaultRandom(),
  messageId: text('message_id').notNull(),
  notificationId: uuid('notification_id'),
  fromAddress: text('from_address').notNull(),
  recipients: jsonb('recipients').notNull(),
  subject: text('subject').notNull(),
  text: text('text').notNull(),
  html: text('html'),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [uniqueIndex('caught_mail_message_uq').on(t.messageId)]);

/**
 * Browser sessions of the web UI: a token is exchanged once for a session cookie. Only hashes are
 * stored; the session dies with its API token (revoked token → `token_id` no longer resolves).
 */
export const uiSessions = pgTable('ui_sessions', {
  id: uuid('id').primaryKey().defaultRandom(),
  /** sha256 of the cookie value. */
  sessionHash: text('session_hash').notNull(),
  /**
   * The API token the session was made from (`api_tokens.id`), or `env-admin` for
   * FRISTVAGT_ADMIN_TOKEN: the bootstrap and break-glass way in. Null for a person's session.
   */
  tokenId: text('token_id'),
  /** The person whose session this is (local password, one-time link or single sign-on). */
  userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
  /** How the session began: password, link, sso or token. */
  via: text('via').notNull().default('token'),
  /** SSO only: the provider's ID token, the hint its logout endpoint asks for. */
  idToken: text('id_token'),
  /** The CSRF token of this session (random, compared in constant time); not a credential on its own. */
  csrfToken: text('csrf_token').notNull(),
  lang: text('lang').notNull().default('da'),
  createdAt: ts('created_at').notNull().defaultNow(),
  lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
  expiresAt: ts('expires_at').notNull(),
  revokedAt: ts('revoked_at'),
}, (t) => [
  uniqueIndex('ui_sessions_hash_uq').on(t.sessionHash),
  index('ui_sessions_expires_idx').on(t.expiresAt),
  index('ui_sessions_user_idx').on(t.userId),
  check('ui_sessions_one_principal', sql`(${t.tokenId} IS NULL) <> (${t.userId} IS NULL)`),
]);

/**
 * People who log in (issue 14). Role and scope as for API tokens; deactivated, never deleted, so
 * the audit log's names keep meaning something. The e-mail is stored lower-case and is unique.
 */
export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  title: text('title'),
  email: text('email').notNull(),
  role: tokenRole('role').notNull(),
  areaId: text('area_id').references(() => areas.id, { onDelete: 'restrict' }),
  institutionId: text('institution_id').references(() => institutions.id, { onDelete: 'restrict' }),
  /** The staff member this person is (a plan owner): the work queue's "mine". */
  staffId: uuid('staff_id').references(() => staff.id, { onDelete: 'set null' }),
  /** scrypt, `scrypt$N$r$p$salt$hash` (base64url); null: no local password (SSO or link only). */
  passwordHash: text('password_hash'),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  deactivatedAt: ts('deactivated_at'),
  lastLoginAt: ts('last_login_at'),
  version: integer('version').notNull().default(1),
}, (t) => [
  uniqueIndex('users_email_uq').on(t.email),
  check('users_scope', sql`(${t.role} = 'area') = (${t.areaId} IS NOT NULL) AND (${t.role} = 'institution') = (${t.institutionId} IS NOT NULL)`),
  check('users_email_lower', sql`${t.email} = lower(${t.email})`),
]);

/** A person's account at an OpenID provider: (issuer, subject) is the provider's stable id for them. */
export const userIdentities = pgTable('user_identities', {
  issuer: text('issuer').notNull(),
  subject: text('subject').notNull(),
  userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  createdAt: ts('created_at').notNull().defaultNow(),
  lastLoginAt: ts('last_login_at'),
}, (t) => [primaryKey({ columns: [t.issuer, t.subject] }), index('user_identities_user_idx').on(t.userId)]);

/**
 * One-time links: `setup` (no user yet: creates the first administrator) and `login` (a person
 * without a password, or who forgot it). Only the sha256 of the secret is kept.
 */
export const loginLinks = pgTable('login_links', {
  id: uuid('id').primaryKey().defaultRandom(),
  tokenHash: text('token_hash').notNull(),
  purpose: text('purpose').notNull(),
  userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
  createdAt: ts('created_at').notNull().defaultNow(),
  expiresAt: ts('expires_at').notNull(),
  usedAt: ts('used_at'),
}, (t) => [
  uniqueIndex('login_links_hash_uq').on(t.tokenHash),
  check('login_links_purpose', sql`(${t.purpose} = 'setup' AND ${t.userId} IS NULL) OR (${t.purpose} = 'login' AND ${t.userId} IS NOT NULL)`),
]);

/** Failed local logins, by sha256 of the e-mail and of the client address: the rate limit's memory. */
export const loginFailures = pgTable('login_failures', {
  id: uuid('id').primaryKey().defaultRandom(),
  key: text('key').notNull(),
  at: ts('at').notNull(),
}, (t) => [index('login_failures_key_at_idx').on(t.key, t.at)]);

/** An SSO login under way: what the callback must match (state, nonce, PKCE verifier), for minutes. */
export const oidcLogins = pgTable('oidc_logins', {
  /** sha256 of the state parameter. */
  stateHash: text('state_hash').primaryKey(),
  nonce: text('nonce').notNull(),
  codeVerifier: text('code_verifier').notNull(),
  next: text('next').notNull(),
  lang: text('lang').notNull(),
  expiresAt: ts('expires_at').notNull(),
});

/** Personal ICS feeds: the secret in the URL is shown once; only its hash is kept, and revoking ends the feed. */
export const calendarFeeds = pgTable('calendar_feeds', {
  id: uuid('id').primaryKey().defaultRandom(),
  staffId: uuid('staff_id').notNull().references(() => staff.id, { onDelete: 'cascade' }),
  secretHash: text('secret_hash').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
  lastUsedAt: ts('last_used_at'),
  revokedAt: ts('revoked_at'),
}, (t) => [uniqueIndex('calendar_feeds_secret_uq').on(t.secretHash), index('calendar_feeds_staff_idx').on(t.staffId)]);

/** One row per running worker process: liveness and sweep timings for /metrics and /readyz. */
export const workerHeartbeats = pgTable('worker_heartbeats', {
  workerId: text('worker_id').primaryKey(),
  hostname: text('hostname').notNull(),
  pid: integer('pid').notNull(),
  startedAt: ts('started_at').notNull().defaultNow(),
  lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
  lastSweepAt: ts('last_sweep_at'),
  lastSweepMs: integer('last_sweep_ms'),
  sweepsTotal: bigint('sweeps_total', { mode: 'number' }).notNull().default(0),
  sweepMsTotal: bigint('sweep_ms_total', { mode: 'number' }).notNull().default(0),
});

/**
 * The worker's own state, one row (id 1): the sweep lease, the change-feed catch-up's watermark
 * and what its plans were computed under, the settling reading of a catch-up held back by open
 * writers, and the Redis epoch its enqueued markers belong to. Not settings: nobody edits it.
 */
export const workerState = pgTable('worker_state', {
  id: integer('id').primaryKey().default(1),
  leaseOwner: text('lease_owner'),
  leaseUntil: ts('lease_until'),
  /** Every record change up to this change_seq is planned. */
  watermark: bigint('watermark', { mode: 'number' }).notNull().default(0),
  /** settingsStamp() of the settings and rule catalogue the plans up to the watermark were computed under. */
  settingsStamp: text('settings_stamp'),
  /** A catch-up that could not settle at once: the change_seq it read, the writers then open, since when. */
  pendingSeq: bigint('pending_seq', { mode: 'number' }),
  pendingXids: text('pending_xids').array(),
  pendingSince: ts('pending_since'),
  /** The Redis epoch (src/queue/epoch.ts) under which notifications.enqueued_version was written. */
  redisEpoch: text('redis_epoch'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
}, (t) => [check('worker_state_one_row', sql`${t.id} = 1`)]);

/** What the outbox (src/worker/outbox.ts) reads and writes of a mail of its own table: the § 22 overview, the backlog summary. */
function outboxColumns() {
  return {
    recipient: text('recipient').notNull(),
    status: notificationStatus('status').notNull().default('scheduled'),
    plannedAt: ts('planned_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** As notifications.claim_token: a claim whose answer was lost finds its rows by it. */
    claimToken: uuid('claim_token'),
    messageId: text('message_id'),
    /** The SMTP server's reply that accepted the mail. */
    smtpResponse: text('smtp_response'),
    lastError: text('last_error'),
    claimedAt: ts('claimed_at'),
    sentAt: ts('sent_at'),
  };
}

/** The § 22 annual overview: one per area and year, claimed and sent like a notification (once). */
export const annualOverviews = pgTable('annual_overviews', {
  id: uuid('id').primaryKey().defaultRandom(),
  areaId: text('area_id').notNull().references(() => areas.id, { onDelete: 'restrict' }),
  year: integer('year').notNull(),
  ...outboxColumns(),
  /** When the area office's copy was accepted: a retry for a refused directorate does not copy the office again. */
  officeCopySentAt: ts('office_copy_sent_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
}, (t) => [
  uniqueIndex('annual_overviews_area_year_uq').on(t.areaId, t.year),
  check('annual_overviews_sent_has_id', sql`${t.status} <> 'sent' OR ${t.messageId} IS NOT NULL`),
]);

/**
 * The backlog (README "Go-live"): deadlines already breached when their record arrived, and
 * immediate alerts whose trigger was no longer recent then. Written by the planner the first time
 * it finds an item (`listed_day`, the Copenhagen day), never mailed one by one: listed in the UI
 * (/backlog) and in the area office's backlog summary of that day.
 */
export const backlogItems = pgTable('backlog_items', {
  id: uuid('id').primaryKey().defaultRandom(),
  recordType: recordType('record_type').notNull(),
  recordId: uuid('record_id').notNull(),
  /** The deadline's key, or the alert's stage. */
  itemKey: text('item_key').notNull(),
  kind: text('kind').notNull(),
  ruleId: text('rule_id').notNull(),
  areaId: text('area_id').notNull().references(() => areas.id, { onDelete: 'restrict' }),
  institutionId: text('institution_id').notNull().references(() => institutions.id, { onDelete: 'restrict' }),
  journalNumber: text('journal_number').notNull(),
  dueDate: day('due_date').notNull(),
  dueAt: ts('due_at').notNull(),
  listedDay: day('listed_day').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [
  uniqueIndex('backlog_items_record_key_uq').on(t.recordType, t.recordId, t.itemKey),
  index('backlog_items_area_day_idx').on(t.areaId, t.listedDay),
  check('backlog_items_kind', sql`${t.kind} IN ('deadline', 'alert')`),
]);

/** One backlog summary per area office and listing day, claimed and sent through the outbox like the annual overview. */
export const backlogSummaries = pgTable('backlog_summaries', {
  id: uuid('id').primaryKey().defaultRandom(),
  areaId: text('area_id').notNull().references(() => areas.id, { onDelete: 'restrict' }),
  listedDay: day('listed_day').notNull(),
  ...outboxColumns(),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
}, (t) => [
  uniqueIndex('backlog_summaries_area_day_uq').on(t.areaId, t.listedDay),
  index('backlog_summaries_due_idx').on(t.status, t.plannedAt),
  check('backlog_summaries_sent_has_id', sql`${t.status} <> 'sent' OR ${t.messageId} IS NOT NULL`),
]);

/**
 * Escalation handling (issue 13): what the area office did about a breached deadline whose
 * escalation went out. One row per deadline once someone acknowledged it, took it "under handling"
 * or assigned it to a staff member; no row means unhandled. Written only by src/records/escalations.ts,
 * in the same transaction as its audit entry. It never changes what is mailed.
 */
export const escalationState = pgEnum('escalation_state', ['acknowledged', 'under_handling']);

export const escalationHandling = pgTable('escalation_handling', {
  deadlineId: uuid('deadline_id').primaryKey().references(() => deadlines.id, { onDelete: 'cascade' }),
  recordType: recordType('record_type').notNull(),
  recordId: uuid('record_id').notNull(),
  state: escalationState('state').notNull(),
  acknowledgedAt: ts('acknowledged_at').notNull(),
  /** Audit actor names (as in audit_log.actor). */
  acknowledgedBy: text('acknowledged_by').notNull(),
  handlingSince: ts('handling_since'),
  handlingBy: text('handling_by'),
  assigneeId: uuid('assignee_id').references(() => staff.id, { onDelete: 'set null' }),
  assignedAt: ts('assigned_at'),
  assignedBy: text('assigned_by'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  version: integer('version').notNull().default(1),
}, (t) => [
  index('escalation_handling_record_idx').on(t.recordType, t.recordId),
  check('escalation_handling_since', sql`(${t.state} = 'under_handling') = (${t.handlingSince} IS NOT NULL)`),
]);

/** Comments on an escalation, in time order; free text (erased by retention with the record's other texts). */
export const escalationComments = pgTable('escalation_comments', {
  id: uuid('id').primaryKey().defaultRandom(),
  deadlineId: uuid('deadline_id').notNull().references(() => deadlines.id, { onDelete: 'cascade' }),
  recordType: recordType('record_type').notNull(),
  recordId: uuid('record_id').notNull(),
  at: ts('at').notNull(),
  actor: text('actor').notNull(),
  text: text('text').notNull(),
}, (t) => [
  index('escalation_comments_deadline_idx').on(t.deadlineId, t.at),
  index('escalation_comments_record_idx').on(t.recordId),
]);

/**
 * The work queue's saved filters, per actor (`api_tokens.id`, or `env-admin`): a name and the
 * queue's query string (only the queue's own filter keys, checked by src/records/saved-filters.ts).
 */
export const savedFilters = pgTable('saved_filters', {
  id: uuid('id').primaryKey().defaultRandom(),
  actorId: text('actor_id').notNull(),
  name: text('name').notNull(),
  query: text('query').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [
  uniqueIndex('saved_filters_actor_name_uq').on(t.actorId, t.name),
  check('saved_filters_name', sql`length(${t.name}) BETWEEN 1 AND 60`),
  check('saved_filters_query', sql`length(${t.query}) <= 500`),
]);
