// The runtime conformance suite (test/contract/runtime.contract.ts) against gantry/java21, on
// fixtures compiled here by the host's javac (test/support/java-build.ts): classes at the zip's
// root with their own aws-lambda-java-core in lib/, so every case also proves that a bundled copy
// of the library defers to the runtime's.
import t from 'tap';
import { runtimeContract } from '../contract/runtime.contract.js';
import { buildJavaFixtures } from '../support/java-build.js';
import { javaFixture } from '../support/runtime-fixtures.js';

const packages = await buildJavaFixtures(t);
await runtimeContract(t, javaFixture(packages.bundled));
