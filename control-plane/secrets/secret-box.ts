/**
 * Encryption at rest for secrets Gantry must read back (access key secrets; secret environment
 * variables later): AES-256-GCM with a fresh 96-bit nonce per value. The ciphertext names the
 * key that made it (`v1:<keyId>:<nonce>:<ciphertext>:<tag>`, base64url), so a keyring holding the
 * old key beside the new one keeps reading old rows while new ones use the new key: rotation.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const VERSION = 'v1';

export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
}

/** The keys' ids are a hash prefix: stored beside each value without revealing the key. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('gantry secret key id').update(key).digest('hex').slice(0, 16);
}

export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  private readonly currentId: string;

  /** `keys[0]` encrypts; every key decrypts what it made. */
  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new SecretBoxError('a secret box needs at least one key');
    for (const k of keys) {
      if (k.length !== KEY_BYTES) throw new SecretBoxError(`an encryption key has ${KEY_BYTES} bytes, not ${k.length}`);
      this.keys.set(keyIdOf(k), k);
    }
    this.currentId = keyIdOf(keys[0] as Buffer);
  }

  get keyId(): string {
    return this.currentId;
  }

  /** `context` (e.g. the row's id) is authenticated: a value copied to another row does not decrypt. */
  seal(plaintext: string, context: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId) as Buffer, nonce);
    cipher.setAAD(Buffer.from(context));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.currentId, nonce.toString('base64url'), ct.toString('base64url'), cipher.getAuthTag().toString('base64url')].join(':');
  }

  open(sealed: string, context: string): string {
    const parts = sealed.split(':');
    if (parts.length !== 5 || parts[0] !== VERSION) throw new SecretBoxError('not a sealed value');
    const [, keyId, nonce, ct, tag] = parts as [string, string, string, string, string];
    const key = this.keys.get(keyId);
    if (key === undefined) throw new SecretBoxError(`sealed with key ${keyId}, which this keyring does not hold`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(`a value sealed with key ${keyId} does not authenticate (altered, or another key of that id)`);
    }
  }
}
