import { randomBytes } from 'node:crypto';
import t from 'tap';
import { keyIdOf, SecretBox, SecretBoxError } from '../../../../control-plane/secrets/secret-box.js';

const k1 = randomBytes(32);
const k2 = randomBytes(32);

t.test('seals with a fresh nonce, names its key, opens only in its own context', async (t) => {
  const box = new SecretBox([k1]);
  const a = box.seal('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'AKIA1');
  const b = box.seal('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'AKIA1');
  t.not(a, b, 'a fresh nonce per value');
  t.notOk(a.includes('wJalr'), 'no plain text in the sealed value');
  t.equal(a.split(':')[1], keyIdOf(k1));
  t.equal(box.open(a, 'AKIA1'), 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
  t.throws(() => box.open(a, 'AKIA2'), SecretBoxError, 'copied to another row, it does not open');
  const parts = a.split(':');
  parts[3] = Buffer.from('x'.repeat(40)).toString('base64url');
  t.throws(() => box.open(parts.join(':'), 'AKIA1'), SecretBoxError, 'altered, it does not open');
  t.throws(() => box.open('plain', 'AKIA1'), SecretBoxError);
});

t.test('rotation: a new first key seals, the old one still opens; a keyring without it refuses clearly', async (t) => {
  const old = new SecretBox([k1]).seal('s', 'c');
  const rotated = new SecretBox([k2, k1]);
  t.equal(rotated.open(old, 'c'), 's');
  t.equal(rotated.seal('s', 'c').split(':')[1], keyIdOf(k2));
  t.throws(() => new SecretBox([k2]).open(old, 'c'), /which this keyring does not hold/);
  t.throws(() => new SecretBox([randomBytes(16)]), /32 bytes/);
  t.throws(() => new SecretBox([]), SecretBoxError);
});
