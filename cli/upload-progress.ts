/**
 * A body to upload: on a terminal and above 1 MiB, a stream that draws a progress bar on stderr as
 * the server takes it; otherwise the bytes as they are (no bar in logs and pipes).
 */
import cliProgress from 'cli-progress';
import type { UploadBody } from './api-client.js';

const MIN_BAR_BYTES = 1024 * 1024;
const CHUNK = 256 * 1024;

export function uploadBody(data: Buffer, label: string, tty: boolean = process.stderr.isTTY === true): UploadBody {
  if (!tty || data.length < MIN_BAR_BYTES) return data;
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% {value}/{total} KiB`, stream: process.stderr, clearOnComplete: false, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  const totalKiB = Math.ceil(data.length / 1024);
  bar.start(totalKiB, 0);
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= data.length) {
        bar.update(totalKiB);
        bar.stop();
        controller.close();
        return;
      }
      const end = Math.min(offset + CHUNK, data.length);
      controller.enqueue(data.subarray(offset, end));
      offset = end;
      bar.update(Math.floor(offset / 1024));
    },
    cancel() {
      bar.stop();
    },
  });
}
