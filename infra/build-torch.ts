/**
 * `npx tsx infra/build-torch.ts [--required]`: builds only the libtorch addon (infra/torch-native.ts), as the
 * Dockerfile's GPU target does; `npm run setup` builds it along with everything else.
 */
import { ensureTorchAddon } from './torch-native';

ensureTorchAddon(process.argv.includes('--required') ? 'required' : 'auto', (l) =>
  console.log(`[torch] ${l}`),
)
  .then((r) => r && console.log(`[torch] ${r}`))
  .catch((err: Error) => {
    console.error(`[torch] ${err.message}`);
    process.exit(1);
  });
