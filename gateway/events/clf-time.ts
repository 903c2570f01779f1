/**
 * Common Log Format time as API Gateway writes it into `requestContext.time` (compat.md §3.1):
 * `dd/MMM/yyyy:HH:mm:ss +0000`, always UTC, English month abbreviations regardless of locale.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

export function formatClfTime(epochMs: number): string {
  const date = new Date(epochMs);
  const day = pad2(date.getUTCDate());
  const month = MONTHS[date.getUTCMonth()] ?? '???';
  const time = `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())}`;
  return `${day}/${month}/${date.getUTCFullYear()}:${time} +0000`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
