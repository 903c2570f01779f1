/**
 * The format of gantry.yml, as a JSON Schema (draft 2020-12). `gantry.schema.json` beside this
 * file is the same schema for editors and other tools; a unit test keeps the two identical.
 */
const NAME = '^[A-Za-z0-9_-]{1,64}$';
const API_NAME = '^[a-z0-9-]{1,64}$';

export const MANIFEST_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'gantry.schema.json',
  title: 'gantry.yml',
  description: 'Functions (with their code folder and schedules) and APIs (with their routes) that `gantry up` applies.',
  type: 'object',
  additionalProperties: false,
  properties: {
    functions: {
      description: 'Functions by name. Functions not named here are left alone unless `gantry up --prune`.',
      type: 'object',
      propertyNames: { pattern: NAME },
      additionalProperties: { $ref: '#/$defs/function' },
    },
    apis: {
      description: 'APIs by name, served by the gateway under /NAME. APIs not named here are left alone unless `gantry up --prune`.',
      type: 'object',
      propertyNames: { pattern: API_NAME },
      additionalProperties: { $ref: '#/$defs/api' },
    },
  },
  $defs: {
    function: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'runtime', 'handler'],
      properties: {
        code: { description: 'The folder holding the code, relative to this file; zipped honouring its .gantryignore.', type: 'string', minLength: 1 },
        runtime: { description: 'A runtime id, e.g. nodejs20, python3.11, provided.', type: 'string', pattern: '^[a-z0-9.-]{1,32}$' },
        handler: { type: 'string', minLength: 1, maxLength: 128 },
        memoryMb: { type: 'integer', minimum: 64, maximum: 10240, default: 128 },
        timeoutMs: { type: 'integer', minimum: 1, maximum: 900000, default: 3000 },
        environment: {
          type: 'object',
          propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9_]+$' },
          additionalProperties: { type: 'string' },
          default: {},
        },
        schedules: {
          description: 'The function\'s schedules: exactly these exist after `up`.',
          type: 'array',
          items: { $ref: '#/$defs/schedule' },
          default: [],
        },
      },
    },
    schedule: {
      type: 'object',
      additionalProperties: false,
      required: ['expression'],
      properties: {
        expression: { description: 'rate(5 minutes), cron(0/5 * * * ? *) or a five-field cron expression.', type: 'string', minLength: 1, maxLength: 256 },
        timezone: { type: 'string', minLength: 1, maxLength: 64, default: 'UTC' },
        input: { description: 'The event each run receives (any JSON).' },
      },
    },
    api: {
      type: 'object',
      additionalProperties: false,
      properties: {
        protocol: { enum: ['http', 'websocket'], default: 'http' },
        routes: {
          description: 'The API\'s routes: exactly these exist after `up`.',
          type: 'array',
          items: { $ref: '#/$defs/route' },
          default: [],
        },
      },
    },
    route: {
      type: 'object',
      additionalProperties: false,
      required: ['routeKey', 'function'],
      properties: {
        routeKey: { description: '"METHOD /path" with {param} segments, "ANY /{proxy+}", "$default", or a websocket route.', type: 'string', minLength: 1, maxLength: 512 },
        function: { description: 'A function of this file or one already deployed.', type: 'string', pattern: NAME },
        payloadFormatVersion: { enum: ['2.0', '1.0'], default: '2.0' },
        apiKeyRequired: { type: 'boolean', default: false },
      },
    },
  },
} as const;
