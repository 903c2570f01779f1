// The runtime conformance suite (test/contract/runtime.contract.ts) against gantry/nodejs24.
import t from 'tap';
import { runtimeContract } from '../contract/runtime.contract.js';
import { nodejsFixture } from '../support/runtime-fixtures.js';

await runtimeContract(t, await nodejsFixture(24));
