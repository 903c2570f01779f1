// The runtime conformance suite (test/contract/runtime.contract.ts) against gantry/ruby3.3.
import t from 'tap';
import { runtimeContract } from '../contract/runtime.contract.js';
import { rubyFixture } from '../support/runtime-fixtures.js';

await runtimeContract(t, await rubyFixture());
