/**
 * The WAL checkpointer's thread: its own connection to the database file, one PASSIVE checkpoint per
 * request. PASSIVE copies what is committed back into the database file without waiting for, or
 * blocking, the writer on the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
import type { CheckpointReply, CheckpointWorkerData } from './sqlite-checkpoint.js';

const { file, busyTimeoutMs } = workerData as CheckpointWorkerData;
const port = parentPort;
if (!port) throw new Error('the checkpoint worker runs as a worker thread');

const db = new SqliteDatabase(file);
db.pragma(`busy_timeout = ${busyTimeoutMs}`);

port.on('message', () => {
  let reply: CheckpointReply;
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    reply = { ok: true, busy: row?.busy === 1, walFrames: row?.log ?? 0, checkpointedFrames: row?.checkpointed ?? 0 };
  } catch (error) {
    reply = { ok: false, error: (error as Error).message };
  }
  port.postMessage(reply);
});
