/**
 * Entry of the NVML worker thread: opens an NvmlSession, then answers the main thread's requests
 * one at a time. Every NVML call of the backend happens on this thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { medianReadMicros } from './measure.js';
import { toFailure, type FromWorker, type ToWorker, type WorkerSettings } from './protocol.js';
import { NvmlSession } from './session.js';

if (!parentPort) throw new Error('the NVML worker must run in a worker thread');
const port = parentPort;
const post = (message: FromWorker): void => port.postMessage(message);

const session = openSession(workerData as WorkerSettings);
if (session) {
  port.on('message', (message: ToWorker) => void answer(session, message));
  post({ type: 'ready' });
}

function openSession(settings: WorkerSettings): NvmlSession | undefined {
  try {
    return NvmlSession.open({ ...settings, onError: (reason, message) => post({ type: 'error', reason, message }) });
  } catch (error) {
    post({ type: 'open-failed', failure: toFailure(error) });
    port.close();
    return undefined;
  }
}

async function answer(session: NvmlSession, message: ToWorker): Promise<void> {
  if (message.type === 'close') {
    try {
      await session.close();
    } finally {
      port.close(); // nothing else keeps the thread alive: it exits
    }
    return;
  }
  try {
    const value = message.type === 'collect' ? session.collect() : medianReadMicros(session, message.rounds);
    post({ type: 'reply', id: message.id, ok: true, value });
  } catch (error) {
    post({ type: 'reply', id: message.id, ok: false, failure: toFailure(error) });
  }
}
