/**
 * Reading `nvidia-smi nvlink -s`, `-e` and `-gt d`: NVLink state, error counters and data counters
 * per GPU and link. `-q -x` carries none of them.
 *
 * All three print one block per GPU, `GPU <i>: <name> (UUID: <uuid>)`, followed by one line per link
 * and value: `Link <l>: <value>` (`-s`: a speed, or `<inactive>`) or `Link <l>: <label>: <value>`
 * (`-e`: `Replay Errors`, `Recovery Errors`, `CRC Errors`; `-gt d`: `Data Tx`, `Data Rx` in KiB).
 * A GPU without an active link prints `NVML: Unable to retrieve NVLink information as all links are
 * inActive` instead. Pure: text in, readings out.
 */
import { SourceError, type NvLinkErrorType, type NvLinkReading } from '../../types.js';
import { readNumber } from './values.js';

/** One `Link <l>: …` line: the label before the value, if any, and the raw value. */
interface LinkLine {
  link: number;
  label: string | undefined;
  value: string;
}

/** The link lines of each GPU, by UUID. */
type LinkLines = Map<string, LinkLine[]>;

const GPU_LINE = /^GPU \d+: .* \(UUID: (\S+)\)$/;
const LINK_LINE = /^Link (\d+): (?:([A-Za-z][A-Za-z ]*): )?(.*)$/;
const NO_ACTIVE_LINK = /all links are inactive/i;
const LINK_SPEED = /^\d+(?:\.\d+)? GB\/s$/;
const PLACEHOLDER = /^(?:N\/A|\[[^\]]*\])$/;

/** `nvlink -e` labels, as the catalog's `type` values (those of NVML's nvmlNvLinkErrorCounter_t). */
const ERROR_LABELS: Readonly<Record<string, NvLinkErrorType>> = {
  'Replay Errors': 'replay',
  'Recovery Errors': 'recovery',
  // nvidia-smi prints one CRC counter: the flow-control digit (flit) CRC count.
  'CRC Errors': 'crc_flit',
};
const KIB = 1024;

/**
 * The link lines of every GPU in the output of `command`. A line that is none of the known shapes
 * is an error naming the command, the line number and the line.
 */
export function parseNvLinkLines(text: string, command: string): LinkLines {
  const byUuid: LinkLines = new Map();
  let current: LinkLine[] | undefined;
  text.split('\n').forEach((raw, at) => {
    const line = raw.trim();
    const fail = (why: string) => new SourceError('parse', `${command}: line ${at + 1}: ${why}: "${line.slice(0, 120)}"`);
    if (line === '') return;
    const gpu = GPU_LINE.exec(line);
    if (gpu !== null) {
      if (byUuid.has(gpu[1]!)) throw fail('a GPU listed twice');
      byUuid.set(gpu[1]!, (current = []));
      return;
    }
    if (current === undefined) throw fail('a line before the first GPU');
    if (NO_ACTIVE_LINK.test(line)) return;
    const link = LINK_LINE.exec(line);
    if (link === null) throw fail('not a link line');
    current.push({ link: Number(link[1]), label: link[2], value: link[3]!.trim() });
  });
  return byUuid;
}

/**
 * `nvlink -s`: the active links of each GPU, those shown with a speed (`26.562 GB/s`); a link shown
 * `<inactive>` is left out. Any other state is an error naming the GPU and link.
 */
function readActiveLinks(lines: LinkLines): Map<string, number[]> {
  const active = new Map<string, number[]>();
  for (const [uuid, links] of lines) {
    const up: number[] = [];
    for (const line of links) {
      if (line.label === undefined && LINK_SPEED.test(line.value)) up.push(line.link);
      else if (line.label !== undefined || line.value !== '<inactive>') {
        throw new SourceError('parse', `nvidia-smi nvlink -s: GPU ${uuid} link ${line.link}: not a speed or <inactive>: "${line.value.slice(0, 80)}"`);
      }
    }
    active.set(uuid, up);
  }
  return active;
}

/** The members of each link that one command gives; N/A leaves a member out. */
type LinkValues = Map<number, Omit<NvLinkReading, 'link'>>;

/** `nvlink -e`: error counts per link. A label the catalog has no type for is left out. */
function readErrorCounts(lines: LinkLine[], uuid: string): LinkValues {
  const values: LinkValues = new Map();
  for (const line of lines) {
    const type = line.label === undefined ? undefined : ERROR_LABELS[line.label];
    if (type === undefined) continue;
    const count = readCounter(line, `nvidia-smi nvlink -e: GPU ${uuid}`, readWholeNumber);
    if (count === undefined) continue;
    const entry = values.get(line.link) ?? {};
    entry.errors = { ...entry.errors, [type]: count };
    values.set(line.link, entry);
  }
  return values;
}

/** `nvlink -gt d`: data bytes sent and received per link (KiB in the output). */
function readDataCounts(lines: LinkLine[], uuid: string): LinkValues {
  const values: LinkValues = new Map();
  for (const line of lines) {
    const member = line.label === 'Data Tx' ? 'transmitBytes' : line.label === 'Data Rx' ? 'receiveBytes' : undefined;
    if (member === undefined) continue;
    const bytes = readCounter(line, `nvidia-smi nvlink -gt d: GPU ${uuid}`, (raw) => readNumber(raw, 'KiB', KIB));
    if (bytes === undefined) continue;
    values.set(line.link, { ...values.get(line.link), [member]: bytes });
  }
  return values;
}

/**
 * The readings of each GPU's active links, ordered by link. A GPU `-s` does not list, or lists
 * without an active link, has none (absent, never zeros).
 */
export function nvLinkReadings(state: LinkLines, errors: LinkLines, data: LinkLines): Map<string, NvLinkReading[]> {
  const readings = new Map<string, NvLinkReading[]>();
  for (const [uuid, links] of readActiveLinks(state)) {
    if (links.length === 0) continue;
    const errorCounts = readErrorCounts(errors.get(uuid) ?? [], uuid);
    const dataCounts = readDataCounts(data.get(uuid) ?? [], uuid);
    const gpuLinks = [...new Set(links)].sort((a, b) => a - b).map((link) => ({ link, ...errorCounts.get(link), ...dataCounts.get(link) }));
    readings.set(uuid, gpuLinks);
  }
  return readings;
}

/**
 * The value of a counter line: undefined for nvidia-smi's placeholders (`N/A`, `[Not Supported]`),
 * an error naming `where`, the link and the label for anything else that `read` cannot read.
 */
function readCounter(line: LinkLine, where: string, read: (raw: string) => number | undefined): number | undefined {
  const value = read(line.value);
  if (value !== undefined || PLACEHOLDER.test(line.value)) return value;
  throw new SourceError('parse', `${where} link ${line.link}: ${line.label} is not a count: "${line.value.slice(0, 80)}"`);
}

/**
 * A whole number, negative ones kept: the exporter's impossible-value check drops and counts them
 * (a silent drop here would hide a misreading driver).
 */
function readWholeNumber(raw: string): number | undefined {
  const value = readNumber(raw);
  return value !== undefined && Number.isInteger(value) ? value : undefined;
}
