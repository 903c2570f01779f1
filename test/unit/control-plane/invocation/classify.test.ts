import t from 'tap';
import { classifyInitFailure, classifyReply } from '../../../../control-plane/invocation/classify.js';
import type { ReadyOutcome, RuntimeReply } from '../../../../control-plane/runtime-api/runtime-reply.js';

const ID = '8d0c5a7e-2b1f-4c1e-9a51-6a3f0e2d7c11';
const timing = { startedAtNs: 1n, endedAtNs: 2n };
const json = (o: unknown) => JSON.stringify(o);

type Delivered = Exclude<RuntimeReply, { kind: 'not-delivered' }>;
type InitFailure = Exclude<ReadyOutcome, { kind: 'ready' }>;

interface Expected {
  status: 'succeeded' | 'failed';
  errorType: string | null;
  payload: string;
  contentType: string;
  reusable: boolean;
}

const exitError = (reason: string) =>
  json({ errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${ID} Error: ${reason}` });

const replyCases: readonly { name: string; reply: Delivered; timeoutMs: number; want: Expected }[] = [
  {
    name: 'passes a response through as a reusable success with its content type',
    reply: { kind: 'response', body: Buffer.from('{"ok":true}'), contentType: 'application/unknown', timing },
    timeoutMs: 3000,
    want: { status: 'succeeded', errorType: null, payload: '{"ok":true}', contentType: 'application/unknown', reusable: true },
  },
  {
    name: 'passes a function error body through unchanged and keeps the environment',
    reply: { kind: 'error', errorType: 'TypeError', body: Buffer.from('{"errorType":"TypeError","errorMessage":"x","trace":[]}'), timing },
    timeoutMs: 3000,
    want: {
      status: 'failed',
      errorType: 'TypeError',
      payload: '{"errorType":"TypeError","errorMessage":"x","trace":[]}',
      contentType: 'application/json',
      reusable: true,
    },
  },
  {
    name: 'turns an oversized response into Function.ResponseSizeTooLarge and discards the environment',
    reply: { kind: 'too-large', timing },
    timeoutMs: 3000,
    want: {
      status: 'failed',
      errorType: 'Function.ResponseSizeTooLarge',
      payload: json({
        errorType: 'Function.ResponseSizeTooLarge',
        errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
      }),
      contentType: 'application/json',
      reusable: false,
    },
  },
  {
    name: 'turns a timeout into Sandbox.Timedout with the timeout in seconds to two places',
    reply: { kind: 'timeout', timing },
    timeoutMs: 3000,
    want: {
      status: 'failed',
      errorType: 'Sandbox.Timedout',
      payload: json({ errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${ID} Error: Task timed out after 3.00 seconds` }),
      contentType: 'application/json',
      reusable: false,
    },
  },
  {
    name: 'formats a fractional timeout to two decimals',
    reply: { kind: 'timeout', timing },
    timeoutMs: 1250,
    want: {
      status: 'failed',
      errorType: 'Sandbox.Timedout',
      payload: json({ errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${ID} Error: Task timed out after 1.25 seconds` }),
      contentType: 'application/json',
      reusable: false,
    },
  },
  {
    name: 'reports a clean exit as Runtime.ExitError without a reason',
    reply: { kind: 'exited', exit: { exitCode: 0, oomKilled: false }, timing },
    timeoutMs: 3000,
    want: { status: 'failed', errorType: 'Runtime.ExitError', payload: exitError('Runtime exited without providing a reason'), contentType: 'application/json', reusable: false },
  },
  {
    name: 'reports an exit with an unknown status as Runtime.ExitError without a reason',
    reply: { kind: 'exited', exit: undefined, timing },
    timeoutMs: 3000,
    want: { status: 'failed', errorType: 'Runtime.ExitError', payload: exitError('Runtime exited without providing a reason'), contentType: 'application/json', reusable: false },
  },
  {
    name: 'reports an exit with a null exit code as Runtime.ExitError without a reason',
    reply: { kind: 'exited', exit: { exitCode: null, oomKilled: false }, timing },
    timeoutMs: 3000,
    want: { status: 'failed', errorType: 'Runtime.ExitError', payload: exitError('Runtime exited without providing a reason'), contentType: 'application/json', reusable: false },
  },
  {
    name: 'reports a non-zero exit as Runtime.ExitError with the exit status',
    reply: { kind: 'exited', exit: { exitCode: 127, oomKilled: false }, timing },
    timeoutMs: 3000,
    want: { status: 'failed', errorType: 'Runtime.ExitError', payload: exitError('Runtime exited with error: exit status 127'), contentType: 'application/json', reusable: false },
  },
  {
    name: 'reports an OOM kill as Runtime.OutOfMemory',
    reply: { kind: 'exited', exit: { exitCode: 137, oomKilled: true }, timing },
    timeoutMs: 3000,
    want: {
      status: 'failed',
      errorType: 'Runtime.OutOfMemory',
      payload: json({ errorType: 'Runtime.OutOfMemory', errorMessage: `RequestId: ${ID} Error: Runtime exited with error: signal: killed` }),
      contentType: 'application/json',
      reusable: false,
    },
  },
];

const initCases: readonly { name: string; outcome: InitFailure; want: Expected }[] = [
  {
    name: 'passes an init error body through unchanged and discards the environment',
    outcome: { kind: 'init-error', errorType: 'Runtime.ImportModuleError', body: Buffer.from('{"errorType":"Runtime.ImportModuleError"}') },
    want: { status: 'failed', errorType: 'Runtime.ImportModuleError', payload: '{"errorType":"Runtime.ImportModuleError"}', contentType: 'application/json', reusable: false },
  },
  {
    name: 'turns an init timeout into Sandbox.Timedout',
    outcome: { kind: 'timeout' },
    want: {
      status: 'failed',
      errorType: 'Sandbox.Timedout',
      payload: json({ errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${ID} Error: Task timed out after 3.00 seconds` }),
      contentType: 'application/json',
      reusable: false,
    },
  },
  {
    name: 'turns an exit during init into Runtime.ExitError with the status',
    outcome: { kind: 'exited', exit: { exitCode: 1, oomKilled: false } },
    want: { status: 'failed', errorType: 'Runtime.ExitError', payload: exitError('Runtime exited with error: exit status 1'), contentType: 'application/json', reusable: false },
  },
  {
    name: 'turns an exit during init without a status into Runtime.ExitError without a reason',
    outcome: { kind: 'exited', exit: undefined },
    want: { status: 'failed', errorType: 'Runtime.ExitError', payload: exitError('Runtime exited without providing a reason'), contentType: 'application/json', reusable: false },
  },
  {
    name: 'turns an OOM kill during init into Runtime.OutOfMemory',
    outcome: { kind: 'exited', exit: { exitCode: 137, oomKilled: true } },
    want: {
      status: 'failed',
      errorType: 'Runtime.OutOfMemory',
      payload: json({ errorType: 'Runtime.OutOfMemory', errorMessage: `RequestId: ${ID} Error: Runtime exited with error: signal: killed` }),
      contentType: 'application/json',
      reusable: false,
    },
  },
];

const shape = (c: ReturnType<typeof classifyReply>) => ({ ...c, payload: c.payload.toString('utf8') });

for (const c of replyCases) {
  t.test(c.name, async (t) => {
    t.strictSame(shape(classifyReply(c.reply, ID, c.timeoutMs)), c.want);
  });
}

for (const c of initCases) {
  t.test(c.name, async (t) => {
    t.strictSame(shape(classifyInitFailure(c.outcome, ID, 3000)), c.want);
  });
}
