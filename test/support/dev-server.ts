// The Temporal dev server the tests run against: the resolved `temporal` binary, started
// through the SDK's test environment with Switchyard's search attributes.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { AGENT_KEY, CHANNEL_KEY, SESSION_KEY_KEY, STATE_KEY } from '../../contracts/search-attributes.js';
import { resolveTemporalBinary } from '../../supervisor/temporal-binary.js';
import { installQuietRuntime } from './quiet-runtime.js';

/** `namespaces`: registered besides `default`, each with the search attributes. */
export async function startTestTemporal(namespaces: readonly string[] = []): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  const binary = await resolveTemporalBinary({ allowSdkDownload: true, onProgress: (line) => console.error(line) });
  console.error(`test: starting the Temporal dev server (${binary.kind === 'path' ? binary.path : 'SDK download'})`);
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: binary.kind === 'path' ? { type: 'existing-path', path: binary.path } : { type: 'cached-download' },
      ip: '127.0.0.1',
      searchAttributes: [AGENT_KEY, SESSION_KEY_KEY, CHANNEL_KEY, STATE_KEY],
      log: { format: 'json', level: 'error' },
      extraArgs: namespaces.flatMap((namespace) => ['--namespace', namespace]),
    },
  });
}
