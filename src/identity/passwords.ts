/**
 * Local passwords: scrypt (memory-hard, in node:crypto, no native add-on to approve), N = 2^15,
 * r = 8, p = 1 (32 MiB and about 60 ms a hash on this machine's cores), a 16-byte random salt, the
 * parameters stored with the hash so they can be raised later without locking anybody out.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 2 ** 15;
const R = 8;
const P = 1;
const KEY_LEN = 32;
/** 128 · N · r bytes is what scrypt needs; node refuses above maxmem, so give it room. */
const MAXMEM = 128 * N * R * 2;
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 200;

function scrypt(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password.normalize('NFKC'), salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LEN, { N, r: R, p: P, maxmem: MAXMEM });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** A hash of nothing anybody knows: verifying against it costs what a real check costs. */
let decoy: Promise<string> | undefined;
function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(24).toString('base64url'));
  return decoy;
}

/**
 * True when `password` matches `stored`. An unknown user (stored undefined or null) is checked
 * against a decoy so that the answer takes as long as for a known one.
 */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  const real = typeof stored === 'string' && stored.startsWith('scrypt$');
  const parts = (real ? stored : await decoyHash()).split('$');
  const [, n, r, p, salt, key] = parts;
  if (parts.length !== 6 || !n || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const nn = Number(n);
  const rr = Number(r);
  const actual = await scrypt(password.slice(0, PASSWORD_MAX * 4), Buffer.from(salt, 'base64url'), expected.length, { N: nn, r: rr, p: Number(p), maxmem: 128 * nn * rr * 2 });
  return timingSafeEqual(actual, expected) && real;
}
