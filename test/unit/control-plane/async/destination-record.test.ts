import t from 'tap';
import { destinationRecord as recordText, parseOrText } from '../../../../control-plane/async/destination-record.js';

const destinationRecord = (i: Parameters<typeof recordText>[0]): Record<string, unknown> => JSON.parse(recordText(i)) as Record<string, unknown>;

const base = {
  invocationId: '11111111-2222-4333-8444-555555555555',
  functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:orders',
  event: '{"orderId":7}',
  now: new Date('2026-01-02T03:04:05.678Z'),
};

t.test('a success record is Lambda invocation record, field for field', async (t) => {
  const r = destinationRecord({ ...base, condition: 'Success', attemptsRun: 1, last: { status: 'succeeded', payload: Buffer.from('{"ok":true}') } });
  t.same(r, {
    version: '1.0',
    timestamp: '2026-01-02T03:04:05.678Z',
    requestContext: {
      requestId: base.invocationId,
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:orders:$LATEST',
      condition: 'Success',
      approximateInvokeCount: 1,
    },
    requestPayload: { orderId: 7 },
    responseContext: { statusCode: 200, executedVersion: '$LATEST' },
    responsePayload: { ok: true },
  });
});

t.test('a failure record carries functionError and the error payload', async (t) => {
  const err = '{"errorType":"Error","errorMessage":"boom","trace":["at x"]}';
  const r = destinationRecord({ ...base, condition: 'RetriesExhausted', attemptsRun: 3, last: { status: 'failed', payload: Buffer.from(err) } });
  t.match(r, {
    requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: 'Error', errorMessage: 'boom', trace: ['at x'] },
  });
});

t.test('an event that never ran has no response part', async (t) => {
  const r = destinationRecord({ ...base, condition: 'EventAgeExceeded', attemptsRun: 0, last: undefined });
  t.same(Object.keys(r).sort(), ['requestContext', 'requestPayload', 'timestamp', 'version']);
  t.match(r, { requestContext: { condition: 'EventAgeExceeded', approximateInvokeCount: 0 } });
});

t.test('payloads that are not JSON travel as text', async (t) => {
  t.equal(parseOrText('plain bytes'), 'plain bytes');
  t.equal(parseOrText(''), null);
  t.same(parseOrText('[1,2]'), [1, 2]);
});
