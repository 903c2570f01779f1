import t from 'tap';
import { ERROR_STATUS, GantryError, errorBody, isGantryError, statusOf, type ErrorType } from '../../../common/errors.js';

// api.md, "Errors": the admin and invoke API's error types and their statuses, in order.
const CONTRACT: readonly [ErrorType, number][] = [
  ['ValidationError', 400],
  ['Unauthorized', 401],
  ['Forbidden', 403],
  ['ResourceNotFound', 404],
  ['ResourceConflict', 409],
  ['PreconditionFailed', 412],
  ['RequestTooLarge', 413],
  ['TooManyRequests', 429],
  ['InternalError', 500],
  ['BadGateway', 502],
  ['ServiceUnavailable', 503],
  ['Timeout', 504],
];

t.test('the registry holds exactly the error types and statuses api.md lists', async (t) => {
  t.strictSame(Object.entries(ERROR_STATUS), CONTRACT);
});

for (const [type, status] of CONTRACT) {
  t.test(`maps ${type} to ${status} through statusOf and GantryError.status`, async (t) => {
    t.equal(statusOf(type), status);
    t.equal(new GantryError(type, 'm', { component: 'admin-api' }).status, status);
  });
}

t.test('renders a GantryError as its type and message, without details or cause', async (t) => {
  const e = new GantryError('ResourceConflict', 'Function already exists: pets', {
    component: 'store',
    details: { secret: 'db-password' },
    cause: new Error('duplicate key value violates unique constraint'),
  });
  t.strictSame(errorBody(e), { status: 409, body: { error: { type: 'ResourceConflict', message: 'Function already exists: pets' } } });
});

const notGantry: readonly [string, unknown][] = [
  ['a plain Error', new Error('connect ECONNREFUSED 10.0.0.5:5432')],
  ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'x')")],
  ['a string', 'boom'],
  ['undefined', undefined],
  ['null', null],
  ['an object shaped like a GantryError', { name: 'GantryError', type: 'ValidationError', message: 'looks real', status: 400 }],
];

for (const [what, value] of notGantry) {
  t.test(`renders ${what} as a bare InternalError with no detail`, async (t) => {
    t.strictSame(errorBody(value), { status: 500, body: { error: { type: 'InternalError', message: 'An internal error occurred.' } } });
    t.equal(isGantryError(value), false);
  });
}

t.test('keeps the component, details and cause on the error for operators', async (t) => {
  const cause = new Error('underlying');
  const e = new GantryError('BadGateway', 'upstream failed', { component: 'gateway', details: { upstream: 'x' }, cause });
  t.equal(e.name, 'GantryError');
  t.equal(e.component, 'gateway');
  t.strictSame(e.details, { upstream: 'x' });
  t.equal(e.cause, cause);
  t.equal(e instanceof Error, true);
  t.equal(isGantryError(e), true);
});

t.test('sets no cause when none is given', async (t) => {
  const e = new GantryError('Timeout', 'late', { component: 'invoke-api' });
  t.equal(Object.hasOwn(e, 'cause'), false);
  t.equal(e.details, undefined);
});
