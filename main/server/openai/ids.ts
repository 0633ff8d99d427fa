// ids.ts — response ids in each API's style (random, unique per response).
import { randomBytes } from 'node:crypto';

const ID_BYTES = 12;
export function responseId(prefix: string): string { return `${prefix}${randomBytes(ID_BYTES).toString('hex')}`; }
export function unixSeconds(): number { return Math.floor(Date.now() / 1000); }
