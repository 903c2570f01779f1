// The runtime conformance suite (test/contract/runtime.contract.ts) against gantry/dotnet-mono,
// with C# fixtures compiled here by the host's mcs (test/support/dotnet-fixtures.ts).
import t from 'tap';
import { runtimeContract } from '../contract/runtime.contract.js';
import { buildDotnetFixtures } from '../support/dotnet-fixtures.js';
import { dotnetMonoFixture } from '../support/runtime-fixtures.js';

const fixtures = await buildDotnetFixtures();
t.teardown(fixtures.cleanup);

await runtimeContract(t, dotnetMonoFixture(fixtures.code));
