#!/usr/bin/env node
/**
 * A stand-in for nvidia-smi on machines without a GPU, answering from the real H100 recordings in
 * test/fixtures: `-L`, `-q -x`, `--help-query-gpu`, and
 * `--query-gpu=<fields> --format=csv,noheader,nounits [-lms N]`; `nvlink -s`, `nvlink -e` and
 * `nvlink -gt d` from the constructed 8-GPU H100 node of test/fixtures (whose GPU 0 is the recorded
 * GPU). A queried field is looked up in
 * the recording of all 214 fields the driver accepts; a field the driver does not know is refused
 * with exit 2, as the real tool does.
 *
 * FAKE_NVIDIA_SMI_OLD_DRIVER=1 plays a driver before 535: the clock-event reason fields exist only
 * under their older names, `clocks_throttle_reasons.*` (as --help-query-gpu lists them there), with
 * the recorded values. Constructed from the recording by renaming, not recorded on such a driver.
 *
 * FAKE_NVIDIA_SMI_NVLINK=fail makes every `nvlink` command exit 1 with a message, =hang makes it
 * never answer (a driver stuck in an NVLink call).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../fixtures/nvidia-smi/h100-80gb-hbm3-driver-580/', import.meta.url));
const read = (name) => readFileSync(dir + name, 'utf8');
const nvlinkDir = fileURLToPath(new URL('../fixtures/nvidia-smi/constructed-nvlink-8x-h100/', import.meta.url));
const NVLINK_FILES = { '-s': 'nvlink-s.txt', '-e': 'nvlink-e.txt', '-gt d': 'nvlink-gt-d.txt' };
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

/** `nvlink <option>`: the constructed node's answer, or the failure FAKE_NVIDIA_SMI_NVLINK asks for. */
function answerNvLink(option) {
  const file = NVLINK_FILES[option];
  const mode = process.env.FAKE_NVIDIA_SMI_NVLINK;
  if (file === undefined) {
    process.stderr.write(`fake nvidia-smi: unsupported nvlink arguments: ${option}\n`);
    process.exit(2);
  } else if (mode === 'fail') {
    process.stderr.write('Unable to determine the device handle for GPU0000:9A:00.0: Unknown Error\n');
    process.exit(1);
  } else if (mode === 'hang') {
    setInterval(() => {}, 1000);
  } else {
    process.stdout.write(readFileSync(nvlinkDir + file, 'utf8'));
  }
}

if (args[0] === 'nvlink') {
  answerNvLink(args.slice(1).join(' '));
} else if (args[0] === '-L') {
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
