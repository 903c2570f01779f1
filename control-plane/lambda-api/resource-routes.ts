/**
 * Tags (TagResource/UntagResource/ListTags), the resource policy (AddPermission/RemovePermission/
 * GetPolicy: stored and returned as AWS shapes them, not enforced: every caller of a tenant may
 * invoke its functions), GetAccountSettings, and the read-only answers deploy tools ask for
 * (code signing: none; recursion: Terminate; runtime updates: Auto).
 */
import { Router } from 'express';
import type { FunctionRecord, TenantId } from '../functions/function-types.js';
import { functionArn } from '../functions/lambda-contract.js';
import { revisionId } from './function-configuration.js';
import { parseFunctionRef } from './function-name.js';
import type { PolicyStatement } from './lambda-attributes-store.js';
import { pathParam, queryParam, refOf, requireFunction, tenantOf, type LambdaApiDeps } from './lambda-context.js';
import { LambdaApiError } from './lambda-errors.js';
import { asBody, Constraints, str, stringMap } from './lambda-input.js';

const STATEMENT_ID = /^([a-zA-Z0-9-_.]+)$/;
const MAX_POLICY_BYTES = 20_480;
const MAX_TAGS = 50;

export function resourceRoutes(d: LambdaApiDeps): Router {
  const r = Router();
  const byResource = async (tenant: TenantId, raw: string) => requireFunction(d, tenant, parseFunctionRef(raw, undefined, 'resource'));

  r.get('/2017-03-31/tags/:Resource', async (req, res) => {
    const f = await byResource(tenantOf(res), pathParam(req, 'Resource'));
    res.json({ Tags: (await d.attributes.get(f.functionId)).tags });
  });

  r.post('/2017-03-31/tags/:Resource', async (req, res) => {
    const tenant = tenantOf(res);
    const f = await byResource(tenant, pathParam(req, 'Resource'));
    const tags = stringMap(asBody(req.body), 'Tags');
    const c = new Constraints().required(tags, 'tags');
    for (const [k, v] of Object.entries(tags ?? {})) c.length(k, 'tags.key', 1, 128).length(v, 'tags.value', 0, 256);
    c.check();
    await d.attributes.update(tenant, f.functionId, (a) => {
      const next = { ...a.tags, ...tags };
      if (Object.keys(next).length > MAX_TAGS) throw new LambdaApiError('InvalidParameterValueException', `A function can have at most ${MAX_TAGS} tags.`);
      return { ...a, tags: next };
    });
    res.status(204).end();
  });

  r.delete('/2017-03-31/tags/:Resource', async (req, res) => {
    const tenant = tenantOf(res);
    const f = await byResource(tenant, pathParam(req, 'Resource'));
    const raw = req.query['tagKeys'];
    const keys = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((k): k is string => typeof k === 'string');
    new Constraints().required(keys.length > 0 ? keys : undefined, 'tagKeys').check();
    await d.attributes.update(tenant, f.functionId, (a) => ({ ...a, tags: Object.fromEntries(Object.entries(a.tags).filter(([k]) => !keys.includes(k))) }));
    res.status(204).end();
  });

  r.post('/2015-03-31/functions/:FunctionName/policy', async (req, res) => {
    const tenant = tenantOf(res);
    const ref = refOf(req);
    const f = await requireFunction(d, tenant, ref);
    const b = asBody(req.body);
    const sid = str(b, 'StatementId');
    const action = str(b, 'Action');
    const principal = str(b, 'Principal');
    new Constraints()
      .required(sid, 'statementId').length(sid, 'statementId', 1, 100).pattern(sid, 'statementId', STATEMENT_ID, '([a-zA-Z0-9-_.]+)')
      .required(action, 'action').required(principal, 'principal').check();
    await checkPolicyRevision(d, f, str(b, 'RevisionId'));
    const statement = statementOf(d, f, ref.qualifier, sid as string, action as string, principal as string, b);
    await d.attributes.update(tenant, f.functionId, (a) => {
      if (a.statements.some((s) => s.Sid === sid)) {
        throw new LambdaApiError('ResourceConflictException', `The statement id (${sid}) provided already exists. Please provide a new statement id, or remove the existing statement.`);
      }
      const statements = [...a.statements, statement];
      if (Buffer.byteLength(JSON.stringify(statements)) > MAX_POLICY_BYTES) {
        throw new LambdaApiError('PolicyLengthExceededException', 'The final policy size is bigger than the limit.');
      }
      return { ...a, statements };
    });
    res.status(201).json({ Statement: JSON.stringify(statement) });
  });

  r.get('/2015-03-31/functions/:FunctionName/policy', async (req, res) => {
    const f = await requireFunction(d, tenantOf(res), refOf(req));
    const a = await d.attributes.get(f.functionId);
    if (a.statements.length === 0) throw new LambdaApiError('ResourceNotFoundException', 'The resource you requested does not exist.');
    res.json({ Policy: JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: a.statements }), RevisionId: revisionId(f) });
  });

  r.delete('/2015-03-31/functions/:FunctionName/policy/:StatementId', async (req, res) => {
    const tenant = tenantOf(res);
    const f = await requireFunction(d, tenant, refOf(req));
    await checkPolicyRevision(d, f, queryParam(req, 'RevisionId'));
    const sid = pathParam(req, 'StatementId');
    await d.attributes.update(tenant, f.functionId, (a) => {
      if (!a.statements.some((s) => s.Sid === sid)) throw new LambdaApiError('ResourceNotFoundException', 'The resource you requested does not exist.');
      return { ...a, statements: a.statements.filter((s) => s.Sid !== sid) };
    });
    res.status(204).end();
  });

  r.get('/2016-08-19/account-settings', async (_req, res) => {
    const tenant = tenantOf(res);
    const list = await d.store.list(tenant);
    const reserved = list.reduce((n, f) => n + (f.reservedConcurrency ?? 0), 0);
    const totalCode = list.reduce((n, f) => n + f.codeSize, 0);
    res.json({
      AccountLimit: {
        TotalCodeSize: 80_530_636_800,
        CodeSizeUnzipped: 262_144_000,
        CodeSizeZipped: 52_428_800,
        ConcurrentExecutions: 1000,
        UnreservedConcurrentExecutions: Math.max(0, 1000 - reserved),
      },
      AccountUsage: { TotalCodeSize: totalCode, FunctionCount: list.length },
    });
  });

  r.get('/2020-06-30/functions/:FunctionName/code-signing-config', async (req, res) => {
    const f = await requireFunction(d, tenantOf(res), refOf(req));
    res.json({ CodeSigningConfigArn: '', FunctionName: f.name });
  });

  r.get('/2024-08-31/functions/:FunctionName/recursion-config', async (req, res) => {
    await requireFunction(d, tenantOf(res), refOf(req));
    res.json({ RecursiveLoop: 'Terminate' });
  });

  r.get('/2021-07-20/functions/:FunctionName/runtime-management-config', async (req, res) => {
    const ref = refOf(req);
    const f = await requireFunction(d, tenantOf(res), ref);
    res.json({ UpdateRuntimeOn: 'Auto', FunctionArn: functionArn(d.region, f.name) });
  });

  return r;
}

async function checkPolicyRevision(_d: LambdaApiDeps, f: FunctionRecord, expected: string | undefined): Promise<void> {
  if (expected === undefined) return;
  if (revisionId(f) !== expected) {
    throw new LambdaApiError('PreconditionFailedException', 'The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id');
  }
}

/** The statement AWS would store for AddPermission's members. */
function statementOf(d: LambdaApiDeps, f: FunctionRecord, qualifier: string | undefined, sid: string, action: string, principal: string, b: Record<string, unknown>): PolicyStatement {
  const resource = qualifier === undefined ? functionArn(d.region, f.name) : `${functionArn(d.region, f.name)}:${qualifier}`;
  const condition: Record<string, Record<string, string>> = {};
  const sourceArn = str(b, 'SourceArn');
  const sourceAccount = str(b, 'SourceAccount');
  const org = str(b, 'PrincipalOrgID');
  const urlAuth = str(b, 'FunctionUrlAuthType');
  if (sourceArn !== undefined) condition['ArnLike'] = { 'AWS:SourceArn': sourceArn };
  if (sourceAccount !== undefined) condition['StringEquals'] = { ...condition['StringEquals'], 'AWS:SourceAccount': sourceAccount };
  if (org !== undefined) condition['StringEquals'] = { ...condition['StringEquals'], 'aws:PrincipalOrgID': org };
  if (urlAuth !== undefined) condition['StringEquals'] = { ...condition['StringEquals'], 'lambda:FunctionUrlAuthType': urlAuth };
  const who = /^\d{12}$/.test(principal) ? { AWS: `arn:aws:iam::${principal}:root` } : principal === '*' ? '*' : principal.includes('.') ? { Service: principal } : { AWS: principal };
  return {
    Sid: sid,
    Effect: 'Allow',
    Principal: who,
    Action: action.startsWith('lambda:') ? action : `lambda:${action}`,
    Resource: resource,
    ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
  };
}

