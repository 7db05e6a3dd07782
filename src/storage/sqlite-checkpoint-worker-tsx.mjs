// Worker entry when the storage runs from its TypeScript source (tsx, vitest): tsx registers its
// hooks inside the worker before the real entry is imported.
import { register } from 'tsx/esm/api';

register();
await import('./sqlite-checkpoint-worker.ts');
