/** Exit codes and stdin helpers shared by the CLI commands. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
/** Bad input or usage: the contract other tools rely on. */
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  readonly code = 'USAGE';
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'UsageError';
  }
}

export async function readStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
