// Worker entry when the backend runs from its TypeScript source (tsx, vitest). Node 20 ignores
// module hooks passed in a Worker's execArgv (`--import tsx`), so tsx registers its hooks here,
// inside the worker, before the real entry is imported.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
