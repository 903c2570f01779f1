/** The error a refused archive gets: a 400 naming the rule it broke. */
import { GantryError } from '../../common/errors.js';

export function badZip(message: string, cause?: unknown): GantryError {
  return new GantryError('ValidationError', message, { component: 'code', cause });
}
