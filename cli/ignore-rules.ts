/**
 * Which files of a folder go into its zip: everything except what `.gantryignore` excludes, with
 * .gitignore's semantics (the `ignore` package implements them), plus `.git/` and the ignore file
 * itself, which a function never needs.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import ignore from 'ignore';

export const IGNORE_FILE = '.gantryignore';
const ALWAYS = ['.git/', `/${IGNORE_FILE}`];

export interface IgnoreRules {
  /** `rel` is relative to the folder, with `/`; directories end with `/`. */
  ignores(rel: string): boolean;
}

export function ignoreRules(text: string): IgnoreRules {
  const ig = ignore().add(ALWAYS).add(text);
  return { ignores: (rel) => ig.ignores(rel) };
}

export async function loadIgnoreRules(dir: string): Promise<IgnoreRules> {
  let text = '';
  try {
    text = await readFile(path.join(dir, IGNORE_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return ignoreRules(text);
}
