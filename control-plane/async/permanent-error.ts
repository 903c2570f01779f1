/**
 * Which failures of an async step trying again cannot cure. Trying again is right for Postgres or
 * Redis being away (they come back); it is wrong for an event whose own content makes a step
 * fail every time (a value too deep to serialise, a payload Postgres refuses): such an event
 * would otherwise go round BullMQ's safety net until its age limit, and its destination never run.
 */
export function isPermanentError(e: unknown): boolean {
  if (e instanceof RangeError || e instanceof TypeError || e instanceof SyntaxError) return true;
  const code = (e as { code?: unknown } | null)?.code;
  // SQLSTATE classes 22 (data exception: bad encoding, invalid JSON…) and 54 (program limit
  // exceeded: stack depth, too many columns…) fail the same way for the same data.
  return typeof code === 'string' && /^(22|54)[0-9A-Z]{3}$/.test(code);
}
