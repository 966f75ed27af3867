/** The download of a pack, the same for the API and the UI: a ZIP attachment, never cached. */
import type { FastifyReply } from 'fastify';
import type { RecordTypeName } from '../records/kinds.js';
import type { Actor, ServiceContext } from '../records/service.js';

export async function sendEvidencePack(reply: FastifyReply, ctx: ServiceContext, type: RecordTypeName, id: string, actor: Actor): Promise<FastifyReply> {
  // Loaded on the first download: pdfkit and the ZIP writer are not part of the server's start-up.
  const { exportEvidence } = await import('./pack.js');
  const pack = await exportEvidence(ctx, type, id, actor);
  return reply
    .header('content-type', 'application/zip')
    .header('content-disposition', `attachment; filename="${pack.fileName}"`)
    .header('cache-control', 'no-store')
    .header('x-evidence-export-entry', String(pack.exportEntry.id))
    .send(pack.zip);
}
