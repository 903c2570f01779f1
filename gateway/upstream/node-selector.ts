/**
 * Which control-plane node gets a function's invocation (design.md, Scaling out), pure:
 * rendezvous hashing on the function name gives each function one home node, where its warm
 * environments gather, and a node joining or leaving moves only the functions it wins or held.
 * When the home node is unreachable or full, the others are tried least loaded first.
 */
import { createHash } from 'node:crypto';
import type { NodeRecord } from '../../common/cluster-nodes.js';

/** The function's home node among `nodes` (undefined only when there are none). */
export function homeNode(nodes: readonly NodeRecord[], functionName: string): NodeRecord | undefined {
  let home: NodeRecord | undefined;
  let best = -1n;
  for (const n of nodes) {
    const score = rendezvousScore(n.id, functionName);
    if (score > best || (score === best && home !== undefined && n.id < home.id)) {
      best = score;
      home = n;
    }
  }
  return home;
}

/** Every node but `except`, least loaded first: fewest invocations in flight, then most free memory. */
export function byLoad(nodes: readonly NodeRecord[], except: NodeRecord): NodeRecord[] {
  return nodes
    .filter((n) => n.id !== except.id)
    .sort((a, b) => a.inFlight - b.inFlight || b.freeMemoryMb - a.freeMemoryMb || (a.id < b.id ? -1 : 1));
}

function rendezvousScore(nodeId: string, functionName: string): bigint {
  return createHash('sha256').update(nodeId).update('\0').update(functionName).digest().readBigUInt64BE(0);
}
