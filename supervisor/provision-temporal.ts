// Makes sure the temporal CLI is available (building it with Go when needed) and prints its path.
// CI runs `tsx supervisor/provision-temporal.ts` before the tests. Exit 1 with the reason when
// no option works.
import { resolveTemporalBinary, TemporalBinaryError } from './temporal-binary.js';

try {
  const binary = await resolveTemporalBinary({ allowSdkDownload: false });
  if (binary.kind !== 'path') throw new TemporalBinaryError('no temporal binary found');
  process.stdout.write(`${binary.path}\n`);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
