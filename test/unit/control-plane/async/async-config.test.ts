import t from 'tap';
import { asyncConfigSchema, DEFAULT_ASYNC_CONFIG, destinationFunctions, toWire } from '../../../../control-plane/async/async-config.js';
import { derivedUuid, invocationIdOf, isUuid } from '../../../../control-plane/async/async-job.js';
import { scheduledEvent } from '../../../../control-plane/async/scheduled-event.js';

t.test('an empty PUT is the api.md defaults', async (t) => {
  t.same(toWire(asyncConfigSchema.parse({})), toWire(DEFAULT_ASYNC_CONFIG));
  t.same(toWire(DEFAULT_ASYNC_CONFIG), { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21600, retryDelaysMs: [60000, 120000], onSuccess: null, onFailure: { deadLetter: true } });
});

t.test('ranges and destination shapes are enforced', async (t) => {
  for (const bad of [
    { maximumRetryAttempts: -1 },
    { maximumRetryAttempts: 1.5 },
    { maximumEventAgeSeconds: 59 },
    { retryDelaysMs: [-1] },
    { retryDelaysMs: [0, 0, 0] },
    { onSuccess: { function: 'bad name' } },
    { onFailure: { deadLetter: true, function: 'x' } },
    { extra: true },
  ]) {
    t.notOk(asyncConfigSchema.safeParse(bad).success, JSON.stringify(bad));
  }
  t.ok(asyncConfigSchema.safeParse({ onFailure: null, onSuccess: null, retryDelaysMs: [] }).success);
});

t.test('destination functions are listed with their field', async (t) => {
  t.same(destinationFunctions({ ...DEFAULT_ASYNC_CONFIG, onSuccess: { function: 'a' }, onFailure: { function: 'b' } }), [
    { field: 'onSuccess', name: 'a' },
    { field: 'onFailure', name: 'b' },
  ]);
  t.same(destinationFunctions(DEFAULT_ASYNC_CONFIG), []);
});

t.test('derived ids are stable UUIDs', async (t) => {
  const a = derivedUuid('x', 'y');
  t.ok(isUuid(a));
  t.equal(a, derivedUuid('x', 'y'));
  t.not(a, derivedUuid('x', 'z'));
  t.not(derivedUuid('ab', 'c'), derivedUuid('a', 'bc'), 'parts are separated');
  const uuid = '6F1C1D1E-0000-4000-8000-000000000000';
  t.equal(invocationIdOf(uuid), uuid.toLowerCase(), 'a UUID job id is the invocation id');
  t.equal(invocationIdOf('repeat:s:1700000000000'), invocationIdOf('repeat:s:1700000000000'));
  t.ok(isUuid(invocationIdOf('repeat:s:1700000000000')));
});

t.test('the scheduled event is EventBridge shaped', async (t) => {
  t.same(scheduledEvent('id-1', 'sched-1', Date.parse('2026-05-06T07:08:09.456Z'), 'eu-west-1'), {
    version: '0',
    id: 'id-1',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: '2026-05-06T07:08:09Z',
    region: 'eu-west-1',
    resources: ['arn:aws:events:eu-west-1:000000000000:rule/sched-1'],
    detail: {},
  });
});
