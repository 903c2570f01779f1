/**
 * The node's access keys in memory, which SigV4 verification reads (never Postgres per request):
 * loaded at start, reloaded when another node announces a change on Redis, and a revocation
 * applied the moment its message arrives (before any reload). Revoked ids are remembered, so a
 * reload that read the table before the delete committed cannot bring the key back.
 */
import { coalesced } from '../../common/coalesced.js';
import type { Logger } from '../../common/logger.js';
import type { CredentialLookup, CredentialSource } from '../../common/sigv4/sigv4-verifier.js';
import type { AccessKeySecret, AccessKeyStore } from './access-key-store.js';

export const ACCESS_KEY_PRINCIPAL = 'access-key';
/** Ids are random and never reused; this bounds the memory of revocations kept across reloads. */
const MAX_REVOKED_REMEMBERED = 100_000;

export class AccessKeyCache implements CredentialSource {
  private keys = new Map<string, { secret: string; tenant: string }>();
  private readonly revoked = new Set<string>();

  constructor(
    private readonly store: Pick<AccessKeyStore, 'loadAll'>,
    private readonly logger: Logger,
  ) {}

  lookup(accessKeyId: string): CredentialLookup | undefined {
    if (!accessKeyId.startsWith('AKIA')) return undefined;
    const k = this.keys.get(accessKeyId);
    return k ? { kind: 'found', secretAccessKey: k.secret, tenant: k.tenant, principal: ACCESS_KEY_PRINCIPAL } : { kind: 'unknown' };
  }

  /** At start: a row that does not open fails the start (the wrong key file). */
  async load(): Promise<void> {
    const problems: string[] = [];
    const all = await this.store.loadAll((id, e) => problems.push(`${id}: ${e.message}`));
    if (problems.length > 0) {
      throw new Error(`access keys cannot be decrypted with the keys in GANTRY_ENCRYPTION_KEY_FILE (${problems.slice(0, 3).join('; ')}): give this control plane the key file the others use`);
    }
    this.replace(all);
  }

  /** Coalesced: a change arriving during a reload triggers exactly one more. */
  readonly reload = coalesced(async () => {
    try {
      this.replace(await this.store.loadAll((id, e) => this.logger.warn({ accessKeyId: id, err: e }, 'access key not readable; left out')));
    } catch (e) {
      this.logger.warn({ err: e as Error }, 'access keys not reloaded');
    }
  });

  add(key: Pick<AccessKeySecret, 'accessKeyId' | 'secretAccessKey' | 'tenant'>): void {
    if (!this.revoked.has(key.accessKeyId)) this.keys.set(key.accessKeyId, { secret: key.secretAccessKey, tenant: key.tenant });
  }

  revoke(accessKeyId: string): void {
    this.keys.delete(accessKeyId);
    if (this.revoked.size >= MAX_REVOKED_REMEMBERED) this.revoked.delete(this.revoked.values().next().value as string);
    this.revoked.add(accessKeyId);
  }

  private replace(all: readonly AccessKeySecret[]): void {
    this.keys = new Map(all.filter((k) => !this.revoked.has(k.accessKeyId)).map((k) => [k.accessKeyId, { secret: k.secretAccessKey, tenant: k.tenant }]));
  }
}
