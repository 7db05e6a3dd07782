#!/usr/bin/env node
/**
 * A stand-in for nvidia-smi on machines without a GPU, answering from the real H100 recordings in
 * test/fixtures: `-L`, `-q -x`, `--help-query-gpu`, and
 * `--query-gpu=<fields> --format=csv,noheader,nounits [-lms N]`. A queried field is looked up in
 * the recording of all 214 fields the driver accepts; a field the driver does not know is refused
 * with exit 2, as the real tool does.
 *
 * FAKE_NVIDIA_SMI_OLD_DRIVER=1 plays a driver before 535: the clock-event reason fields exist only
 * under their older names, `clocks_throttle_reasons.*` (as --help-query-gpu lists them there), with
 * the recorded values. Constructed from the recording by renaming, not recorded on such a driver.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../fixtures/nvidia-smi/h100-80gb-hbm3-driver-580/', import.meta.url));
const read = (name) => readFileSync(dir + name, 'utf8');
const args = process.argv.slice(2);
const oldDriver = process.env.FAKE_NVIDIA_SMI_OLD_DRIVER === '1';
const NEW_PREFIX = 'clocks_event_reasons.';
const OLD_PREFIX = 'clocks_throttle_reasons.';

/** The field names this driver knows, and where each one's value sits in the recording. */
function knownFields() {
  const recorded = read('query-gpu-fields.txt').trim().split('\n');
  const known = new Map();
  recorded.forEach((field, at) => {
    const renamed = oldDriver && field.startsWith(NEW_PREFIX) ? OLD_PREFIX + field.slice(NEW_PREFIX.length) : field;
    known.set(renamed, at);
  });
  return known;
}

/** The recorded help, where an old driver lists only the older names. */
function helpText() {
  const help = read('help-query-gpu.txt').split('\n').slice(1).join('\n');
  return oldDriver ? help.replace(/"clocks_event_reasons\.([a-z_]+)" or /g, '') : help;
}

if (args[0] === '-L') {
  process.stdout.write('GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-965f6752-50c3-d610-d7ce-6a93e5f52882)\n');
} else if (args[0] === '-q' && args[1] === '-x') {
  process.stdout.write(read('q-busy-2.xml')); // the same GPU as the --query-gpu recording
} else if (args[0] === '--help-query-gpu') {
  process.stdout.write(helpText());
} else {
  const query = args.find((a) => a.startsWith('--query-gpu='))?.slice('--query-gpu='.length);
  if (!query || !args.includes('--format=csv,noheader,nounits')) {
    process.stderr.write(`fake nvidia-smi: unsupported arguments: ${args.join(' ')}\n`);
    process.exit(2);
  }
  const known = knownFields();
  const values = read('query-gpu-busy-nounits.csv').trim().split(', ');
  const line = query.split(',').map((field) => {
    const at = known.get(field);
    if (at === undefined) {
      process.stderr.write(`Field "${field}" is not a valid field to query.\n`);
      process.exit(2);
    }
    return values[at];
  });
  const print = () => process.stdout.write(`${line.join(', ')}\n`);
  const lms = args.indexOf('-lms');
  print();
  if (lms >= 0) setInterval(print, Number(args[lms + 1]) || 1000);
}
