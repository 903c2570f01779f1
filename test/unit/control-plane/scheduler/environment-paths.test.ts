// Runtime API socket paths fit a unix socket's 107 bytes whatever the node id, and a data dir too
// long for them is refused at start, naming the variable and its length.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { loadControlPlaneConfig } from '../../../../control-plane/config.js';
import { RuntimeChannel } from '../../../../control-plane/runtime-api/runtime-channel.js';
import {
  containersDirOf,
  environmentPathsOf,
  MAX_DATA_DIR_BYTES,
  MAX_UNIX_SOCKET_PATH_BYTES,
  SOCKET_PATH_SUFFIX_BYTES,
} from '../../../../control-plane/scheduler/environment-paths.js';
import { echo, harness, leaseOf, fn } from '../../../support/scheduler-harness.js';

const LONGEST_NODE_ID = 'n'.repeat(64);

/** A directory of exactly `bytes` bytes under the system's temp dir. */
async function dirOfLength(t: Test, bytes: number): Promise<string> {
  const base = await mkdtemp(path.join(tmpdir(), 'g-'));
  t.teardown(() => rm(base, { recursive: true, force: true }));
  const pad = bytes - base.length - 1;
  if (pad < 1) throw new Error(`the temp dir ${base} is already longer than ${bytes} bytes`);
  const dir = path.join(base, 'd'.repeat(pad));
  await mkdir(dir);
  t.equal(dir.length, bytes);
  return dir;
}

t.test('the socket path is as long as the data dir plus a fixed suffix, whatever the node id', async (t) => {
  for (const nodeId of ['a', 'node-1', LONGEST_NODE_ID]) {
    const p = environmentPathsOf(containersDirOf('/var/lib/gantry', nodeId), 'abcdef012345').socketPath;
    t.equal(p.length, '/var/lib/gantry'.length + SOCKET_PATH_SUFFIX_BYTES, `node id of ${nodeId.length}`);
  }
  t.equal(MAX_DATA_DIR_BYTES + SOCKET_PATH_SUFFIX_BYTES, MAX_UNIX_SOCKET_PATH_BYTES);
  t.ok(MAX_DATA_DIR_BYTES >= 50, 'a data dir of 50 characters fits');
});

t.test('two node ids never share a containers dir, and each stays under the data dir', async (t) => {
  const a = containersDirOf('/d', 'node-a');
  const b = containersDirOf('/d', 'node-b');
  t.not(a, b);
  t.equal(path.dirname(a), '/d/containers');
  t.equal(containersDirOf('/d', 'node-a'), a, 'stable across restarts');
});

t.test('a data dir too long for the sockets is a config error naming the variable and the lengths', async (t) => {
  const longest = '/' + 'x'.repeat(MAX_DATA_DIR_BYTES - 1);
  t.equal(loadControlPlaneConfig({ GANTRY_DATA_DIR: longest, GANTRY_NODE_ID: LONGEST_NODE_ID }).GANTRY_DATA_DIR, longest, 'the longest that fits is accepted');
  const tooLong = longest + 'y';
  t.throws(
    () => loadControlPlaneConfig({ GANTRY_DATA_DIR: tooLong }),
    new RegExp(`GANTRY_DATA_DIR: is ${MAX_DATA_DIR_BYTES + 1} bytes long; at most ${MAX_DATA_DIR_BYTES}`),
  );
});

t.test('a channel refuses a socket path over the unix limit instead of binding it truncated', async (t) => {
  const dir = await dirOfLength(t, 100);
  const channel = new RuntimeChannel(path.join(dir, 'runtime.sock'));
  await t.rejects(channel.listen(), /runtime socket path is 113 bytes, over the 107/);
});

t.test('with the longest data dir and a 64-character node id, an environment starts and answers', async (t) => {
  const dataDir = await dirOfLength(t, MAX_DATA_DIR_BYTES);
  const h = await harness(t, { dataDir, nodeId: LONGEST_NODE_ID });
  const lease = await leaseOf(h.scheduler, fn('long', 1));
  const socketPath = path.join(containersDirOf(dataDir, LONGEST_NODE_ID), lease.environmentId, 'runtime', 'runtime.sock');
  t.equal(socketPath.length, MAX_UNIX_SOCKET_PATH_BYTES, 'the socket path has exactly the limit');
  t.equal(await echo(lease, 'hello'), 'hello', 'the runtime reached its socket');
  lease.release('reuse');
  await h.closeClean(t);
});
