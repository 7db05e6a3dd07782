/**
 * The `stack:` section of gpuwatch.yaml: how `gpuwatch stack` runs the whole chain on one machine
 * (replay exporters for the layout's workers, Prometheus, Alertmanager, the router, the rule service
 * and a local mail catcher). Paths are relative to gpuwatch.yaml.
 */
import { z } from 'zod';
import { duration } from './duration-field.js';
import { portNumber } from './fields.js';
import { DEFAULT_LISTEN, listenAddressWithDefault } from './listen-address.js';

export const stackSchema = z
  .object({
    /** Generated files, databases, received mail and the Prometheus/Alertmanager data. */
    dir: z.string().min(1).default('.gpuwatch-stack'),
    /** Replay scenarios, one `<node>.yaml` per layout worker. */
    scenarios: z.string().min(1).default('scenarios'),
    /**
     * Admission rules (the rule service's YAML export format, or .csv) loaded into the rule service
     * at every start, replacing its table when they differ. Default: rules.yaml next to
     * gpuwatch.yaml, when it exists.
     */
    rules: z.string().min(1).optional(),
    /** Recorded nvidia-smi output replayed (multiplied to the SKU's GPU count) by a worker without a scenario. */
    replay: z.string().min(1).optional(),
    /** The first worker's exporter listens on 127.0.0.1:exporterBasePort, the next on +1, … */
    exporterBasePort: portNumber.default(19445),
    prometheus: listenAddressWithDefault(DEFAULT_LISTEN.prometheus),
    alertmanager: listenAddressWithDefault(DEFAULT_LISTEN.alertmanager),
    /** Prometheus's rule evaluation interval; default: the exporter interval (which is also the scrape interval). */
    evaluationInterval: duration.optional(),
  })
  .strict();

export type StackConfig = z.output<typeof stackSchema>;
