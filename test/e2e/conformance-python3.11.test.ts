// The runtime conformance suite (test/contract/runtime.contract.ts) against gantry/python3.11.
import t from 'tap';
import { runtimeContract } from '../contract/runtime.contract.js';
import { pythonFixture } from '../support/runtime-fixtures.js';

await runtimeContract(t, await pythonFixture('3.11'));
