/**
 * Streaming reader for `nvidia-smi -q -x`.
 *
 * The document is walked with saxes, keeping only the text of the element paths listed in
 * xml-reading.ts. The wanted paths form a tree; every open element looks up its child in the
 * current tree node, and everything outside the tree is passed over without building strings or
 * objects. The longest unread sections are not even tokenised (see xml-skip.ts), and text events
 * are only switched on inside wanted elements.
 *
 * GPU index: the position of `<gpu>` in the document. nvidia-smi lists GPUs in its own index order
 * (the order `--query-gpu=index` and `nvidia-smi -i` use); `<minor_number>` is the /dev/nvidiaN
 * number, which usually but not always matches it, so it is not used.
 */
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { SourceError, type GpuReading, type SkippedGpus } from '../../types.js';
import { withoutUnreadSections } from './xml-skip.js';
import { GPU_ELEMENT_PATHS, MIG_DEVICE_ELEMENT_PATHS, PROCESS_ELEMENT_PATHS, gpuReadingFromXml, type ElementTexts, type GpuElement } from './xml-reading.js';

const ROOT_ELEMENT = 'nvidia_smi_log';

/** What opening an element means for the reader. */
const enum Role {
  /** Only a way to wanted descendants. */
  Path,
  /** A wanted text-bearing element. */
  Leaf,
  /** `<gpu>`: starts a new GPU. */
  Gpu,
  /** `<processes>`: the GPU lists its processes. */
  ProcessList,
  /** `<process_info>`: starts a new process entry. */
  Process,
  /** `<mig_devices>/<mig_device>`: starts a new MIG device entry. */
  MigDevice,
}

interface PathNode {
  role: Role;
  /** For leaves: the key the text is stored under (path relative to its GPU or process). */
  key: string;
  /** For leaves: whether the text belongs to the document, the GPU, the current process or MIG device. */
  owner: 'document' | 'gpu' | 'process' | 'mig';
  children: Map<string, PathNode>;
}

function node(role: Role, key = '', owner: PathNode['owner'] = 'gpu'): PathNode {
  return { role, key, owner, children: new Map() };
}

/** Insert `path` (slash-separated) below `parent`; the last step becomes a leaf. */
function addLeaf(parent: PathNode, path: string, owner: PathNode['owner']): void {
  const steps = path.split('/');
  let current = parent;
  steps.forEach((step, position) => {
    const isLast = position === steps.length - 1;
    let child = current.children.get(step);
    if (child === undefined) {
      child = isLast ? node(Role.Leaf, path, owner) : node(Role.Path);
      current.children.set(step, child);
    }
    current = child;
  });
}

function buildPathTree(): PathNode {
  const document = node(Role.Path);
  const root = node(Role.Path);
  document.children.set(ROOT_ELEMENT, root);
  addLeaf(root, 'driver_version', 'document');
  const gpu = node(Role.Gpu);
  root.children.set('gpu', gpu);
  // `<processes>` starts the process list and also keeps its own text (a placeholder such as N/A).
  const processes = node(Role.ProcessList, 'processes', 'gpu');
  gpu.children.set('processes', processes);
  const processInfo = node(Role.Process);
  processes.children.set('process_info', processInfo);
  for (const path of GPU_ELEMENT_PATHS) {
    if (path !== 'processes') addLeaf(gpu, path, 'gpu');
  }
  for (const path of PROCESS_ELEMENT_PATHS) addLeaf(processInfo, path, 'process');
  const migDevices = node(Role.Path);
  gpu.children.set('mig_devices', migDevices);
  const migDevice = node(Role.MigDevice);
  migDevices.children.set('mig_device', migDevice);
  for (const path of MIG_DEVICE_ELEMENT_PATHS) addLeaf(migDevice, path, 'mig');
  return document;
}

const PATH_TREE = buildPathTree();

/** The GPUs of one `nvidia-smi -q -x` document, and those left out of it. */
export interface SmiXmlDocument {
  gpus: GpuReading[];
  skippedGpus: SkippedGpus;
}

/** How much text one parse step hands to the XML parser. */
export const DEFAULT_PARSE_STEP_CHARS = 64 * 1024;

export interface ParseInStepsOptions {
  /** Characters per step (default 64 KiB). */
  stepChars?: number;
  /** Awaited between two steps; by default the event loop's next turn (setImmediate). */
  pause?: () => Promise<void>;
}

/**
 * Parse the output of `nvidia-smi -q -x`. Throws `SourceError('parse')` for anything that is not a
 * complete, well-formed nvidia-smi document; a document without `<gpu>` elements gives `[]`. A
 * `<gpu>` without a UUID is left out (see parseSmiXmlDocument for the count).
 */
export function parseSmiXml(text: string): GpuReading[] {
  return parseSmiXmlDocument(text).gpus;
}

/** Parse the whole document in one go (for small documents, tests and the replay backend). */
export function parseSmiXmlDocument(text: string): SmiXmlDocument {
  const parse = new DocumentParse();
  parse.write(withoutUnreadSections(text));
  return parse.finish();
}

/**
 * Parse in steps of `stepChars`, pausing between them, so that a long document (or a malformed
 * one) never holds the event loop for more than one step: scrapes are answered meanwhile.
 */
export async function parseSmiXmlInSteps(text: string, options: ParseInStepsOptions = {}): Promise<SmiXmlDocument> {
  const stepChars = options.stepChars ?? DEFAULT_PARSE_STEP_CHARS;
  const pause = options.pause ?? (() => new Promise<void>((resolve) => setImmediate(resolve)));
  const parse = new DocumentParse();
  const cut = withoutUnreadSections(text);
  for (let at = 0; at < cut.length; at += stepChars) {
    parse.write(cut.slice(at, at + stepChars));
    await pause();
  }
  return parse.finish();
}

/** One parse: saxes and the reader, fed in one or more pieces. */
class DocumentParse {
  // No position tracking: it costs time, and line numbers would not match the input anyway once
  // unread sections are left out.
  private readonly parser = new SaxesParser({ xmlns: false, position: false });
  private readonly reader: DocumentReader;

  constructor() {
    const parser = this.parser;
    const onText = (chunk: string) => reader.text(chunk);
    // Without a text listener saxes builds no strings for the text it passes (mostly indentation).
    const reader = new DocumentReader({
      start: () => parser.on('text', onText),
      stop: () => parser.off('text'),
    });
    this.reader = reader;
    parser.on('opentag', (tag) => reader.open(tag));
    parser.on('closetag', () => reader.close());
    parser.on('cdata', onText);
  }

  write(piece: string): void {
    this.guard(() => this.parser.write(piece));
  }

  finish(): SmiXmlDocument {
    this.guard(() => this.parser.close());
    const reader = this.reader;
    if (!reader.sawRoot) {
      throw new SourceError('parse', `nvidia-smi XML has no <${ROOT_ELEMENT}> root element`);
    }
    const driverVersion = reader.documentTexts['driver_version'];
    const gpus: GpuReading[] = [];
    let withoutUuid = 0;
    for (const element of reader.gpus) {
      const reading = gpuReadingFromXml(element, driverVersion);
      if (reading === undefined) withoutUuid++;
      else gpus.push(reading);
    }
    return { gpus, skippedGpus: withoutUuid > 0 ? { no_uuid: withoutUuid } : {} };
  }

  private guard(step: () => unknown): void {
    try {
      step();
    } catch (error) {
      if (error instanceof SourceError) throw error;
      const detail = error instanceof Error ? error.message : String(error);
      throw new SourceError('parse', `nvidia-smi XML is malformed or truncated: ${detail}`);
    }
  }
}

/** Switches the parser's text events on and off. */
interface TextListener {
  start(): void;
  stop(): void;
}

/** Event-driven state of one parse: the open-element stack and the records being filled. */
class DocumentReader {
  readonly gpus: GpuElement[] = [];
  readonly documentTexts: ElementTexts = {};
  sawRoot = false;

  /** Tree node of each open element; undefined for elements outside the wanted tree. */
  private readonly stack: (PathNode | undefined)[] = [];
  private gpu: GpuElement | undefined;
  private process: ElementTexts | undefined;
  private migDevice: ElementTexts | undefined;
  /** The leaf whose direct text is being collected, and the stack depth it sits at. */
  private collecting: PathNode | undefined;
  private collectingDepth = 0;
  private collected = '';

  constructor(private readonly textListener: TextListener) {}

  open(tag: SaxesTagPlain): void {
    const depth = this.stack.length;
    if (depth === 0) {
      if (tag.name !== ROOT_ELEMENT) {
        throw new SourceError('parse', `nvidia-smi XML: unexpected root element <${tag.name}>`);
      }
      this.sawRoot = true;
    }
    const parent = depth === 0 ? PATH_TREE : this.stack[depth - 1];
    const current = parent?.children.get(tag.name);
    this.stack.push(current);
    if (current === undefined) return;
    switch (current.role) {
      case Role.Gpu:
        this.gpu = { index: this.gpus.length, busId: tag.attributes['id'], texts: {}, processes: undefined, migDevices: [] };
        this.gpus.push(this.gpu);
        return;
      case Role.Process:
        this.process = {};
        this.gpu?.processes?.push(this.process);
        return;
      case Role.MigDevice:
        this.migDevice = {};
        this.gpu?.migDevices.push(this.migDevice);
        return;
      case Role.ProcessList:
        if (this.gpu !== undefined) this.gpu.processes ??= [];
        this.startCollecting(current);
        return;
      case Role.Leaf:
        this.startCollecting(current);
        return;
      case Role.Path:
        return;
    }
  }

  text(chunk: string): void {
    if (this.collecting !== undefined && this.stack.length === this.collectingDepth) {
      this.collected += chunk;
    }
  }

  close(): void {
    const current = this.stack.pop();
    if (current === undefined) return;
    if (current === this.collecting && this.stack.length + 1 === this.collectingDepth) {
      this.store(current, this.collected);
      this.collecting = undefined;
      this.textListener.stop();
    }
    if (current.role === Role.Gpu) this.gpu = undefined;
    if (current.role === Role.Process) this.process = undefined;
    if (current.role === Role.MigDevice) this.migDevice = undefined;
  }

  private startCollecting(leaf: PathNode): void {
    this.collecting = leaf;
    this.collectingDepth = this.stack.length;
    this.collected = '';
    this.textListener.start();
  }

  private store(leaf: PathNode, value: string): void {
    const targets = { document: this.documentTexts, gpu: this.gpu?.texts, process: this.process, mig: this.migDevice };
    const target = targets[leaf.owner];
    if (target !== undefined) target[leaf.key] = value;
  }
}
