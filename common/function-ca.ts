/**
 * The function CA: the certificate authority that lets a function's unmodified AWS SDK reach this
 * Gantry's `@connections` API over https (issue 15 §4).
 *
 * Why a CA of Gantry's own: handlers build their management endpoint as `https://{domainName}/{stage}`
 * or `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`, and the SDKs verify the server's
 * certificate for that name. No public CA will sign those names for a self-hosted gateway, so the
 * control plane generates one CA at first start (like the internal token, once, shared through the
 * data directory) and the gateway's function-facing TLS listener signs a certificate for each name a
 * function asks for (SNI). Containers get only the CA's certificate, read-only, and trust it through
 * NODE_EXTRA_CA_CERTS (Node adds it to its own roots) and AWS_CA_BUNDLE / REQUESTS_CA_BUNDLE (which
 * replace Python's trust store, so the bundle carries the host's public roots too, and calls to the
 * real AWS keep working). The key never leaves the data directory (mode 0600).
 *
 * node-forge builds and signs the certificates (Node's crypto can parse X.509 but not issue it);
 * keys are made by Node's crypto.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import forge from 'node-forge';

export interface FunctionCaPaths {
  readonly dir: string;
  /** The CA's private key, mode 0600: read by gateways only. */
  readonly keyFile: string;
  /** The directory mounted into containers: `ca.pem` and `bundle.pem`, nothing secret. */
  readonly publicDir: string;
  readonly certFile: string;
  readonly bundleFile: string;
}

export interface FunctionCa {
  readonly certPem: string;
  readonly keyPem: string;
}

/** Where functions find the public directory, and the variables that point their SDKs at it. */
export const CONTAINER_CA_DIR = '/etc/gantry-ca';
export const CONTAINER_TRUST_ENVIRONMENT: Readonly<Record<string, string>> = {
  NODE_EXTRA_CA_CERTS: `${CONTAINER_CA_DIR}/ca.pem`,
  AWS_CA_BUNDLE: `${CONTAINER_CA_DIR}/bundle.pem`,
  REQUESTS_CA_BUNDLE: `${CONTAINER_CA_DIR}/bundle.pem`,
};

/** The host's public roots, which the Python bundle keeps beside the function CA. */
const SYSTEM_ROOTS = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];
const CA_YEARS = 10;
const LEAF_DAYS = 7;

export function functionCaPaths(dir: string): FunctionCaPaths {
  const publicDir = path.join(dir, 'public');
  return { dir, keyFile: path.join(dir, 'ca-key.pem'), publicDir, certFile: path.join(publicDir, 'ca.pem'), bundleFile: path.join(publicDir, 'bundle.pem') };
}

/**
 * The CA in `dir`, created on first call. Creation writes the key and the certificate as one file
 * linked into place (link never replaces), so two processes racing agree on the first one's CA.
 */
export async function ensureFunctionCa(dir: string): Promise<FunctionCa> {
  const p = functionCaPaths(dir);
  const existing = await readFunctionCa(dir);
  if (existing) {
    await writePublic(p, existing);
    return existing;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const made = createCa();
  const tmp = path.join(dir, `.ca-key.${process.pid}.${randomBytes(4).toString('hex')}`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    try {
      await fh.writeFile(`${made.keyPem}${made.certPem}`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await link(tmp, p.keyFile).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  const ca = await readFunctionCa(dir);
  if (!ca) throw new Error(`function CA ${p.keyFile} vanished while it was created`);
  await writePublic(p, ca);
  return ca;
}

/** The CA in `dir`, or undefined while there is none; throws on a file that holds no CA. */
export async function readFunctionCa(dir: string): Promise<FunctionCa | undefined> {
  const file = functionCaPaths(dir).keyFile;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`function CA ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const key = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n?/.exec(text)?.[0];
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(text)?.[0];
  if (key === undefined || cert === undefined) throw new Error(`function CA ${file} holds no key and certificate`);
  return { keyPem: key, certPem: cert };
}

/** Rewritten at every start: the host's roots may have changed. Readable by the functions' user. */
async function writePublic(p: FunctionCaPaths, ca: FunctionCa): Promise<void> {
  await mkdir(p.publicDir, { recursive: true, mode: 0o755 });
  let roots = '';
  for (const f of SYSTEM_ROOTS) {
    roots = await readFile(f, 'utf8').catch(() => '');
    if (roots !== '') break;
  }
  await replaceFile(p.certFile, ca.certPem);
  await replaceFile(p.bundleFile, `${roots.replace(/\n*$/, '\n')}${ca.certPem}`);
}

async function replaceFile(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(text);
    await fh.chmod(0o644);
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

function newKeys(): { privatePem: string; publicKey: forge.pki.PublicKey; privateKey: forge.pki.rsa.PrivateKey } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(privatePem) as forge.pki.rsa.PrivateKey;
  return { privatePem, privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

function serial(): string {
  // Positive (leading bit clear), 16 bytes: unique enough that no two certificates collide.
  const b = randomBytes(16);
  b[0] = (b[0] as number) & 0x7f;
  return b.toString('hex');
}

function createCa(): FunctionCa {
  const keys = newKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 60 * 60_000);
  cert.validity.notAfter = new Date(Date.now() + CA_YEARS * 365 * 86_400_000);
  const name = [{ name: 'commonName', value: `Gantry function CA ${randomBytes(4).toString('hex')}` }, { name: 'organizationName', value: 'Gantry' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privatePem };
}

/**
 * Signs server certificates for names under the CA. One key pair per issuer serves every name;
 * each certificate is valid for LEAF_DAYS (callers cache and renew well before that).
 */
export class LeafIssuer {
  private readonly caCert: forge.pki.Certificate;
  private readonly caKey: forge.pki.rsa.PrivateKey;
  private readonly leafKeys = newKeys();

  constructor(ca: FunctionCa) {
    this.caCert = forge.pki.certificateFromPem(ca.certPem);
    this.caKey = forge.pki.privateKeyFromPem(ca.keyPem) as forge.pki.rsa.PrivateKey;
  }

  get keyPem(): string {
    return this.leafKeys.privatePem;
  }

  /** A PEM certificate for `name` (a DNS name, or an IP literal), followed by the CA's. */
  issue(name: string, nowMs = Date.now()): { readonly certPem: string; readonly notAfterMs: number } {
    const cert = forge.pki.createCertificate();
    cert.publicKey = this.leafKeys.publicKey;
    cert.serialNumber = serial();
    const notAfterMs = nowMs + LEAF_DAYS * 86_400_000;
    cert.validity.notBefore = new Date(nowMs - 60 * 60_000);
    cert.validity.notAfter = new Date(notAfterMs);
    cert.setSubject([{ name: 'commonName', value: name.slice(0, 64) }]);
    cert.setIssuer(this.caCert.subject.attributes);
    const isIp = /^[\d.]+$/.test(name) || name.includes(':');
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [isIp ? { type: 7, ip: name } : { type: 2, value: name }] },
    ]);
    cert.sign(this.caKey, forge.md.sha256.create());
    return { certPem: forge.pki.certificateToPem(cert) + forge.pki.certificateToPem(this.caCert), notAfterMs };
  }
}
