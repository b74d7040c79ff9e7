import { describeError, type Logger } from '@pp-embed/server-runtime';
import { FORMAT_MEDIA_TYPES, type TableField, tableRow, type TableFormat } from '@pp-embed/viz-api';

/** A table answer: its header, then its rows a batch at a time. */
export interface Table {
  readonly header: readonly TableField[];
  /** Batches of rows; each batch is read when the stream reaches it. */
  readonly batches: Iterable<readonly (readonly TableField[])[]>;
}

export interface TableStreamOptions {
  /** Where a failure in the middle of the stream is logged (the status line has gone: the body is cut short). */
  log: Logger;
  /** For the log line: which route's answer failed. */
  route: string;
  /** Called once when the stream ends, is cancelled by the client, or fails: releases what the rows were read from. */
  done?: () => void;
}

/**
 * A table as the body of an answer in CSV or TSV, made as it is sent: the header line, then one chunk per batch of
 * rows. The next batch is read only when the client has taken the last one (the stream's backpressure), and on
 * its own turn of the event loop, so that other requests run between batches and memory holds one batch whatever
 * the length of the table. A failure after the first byte cannot change the status: it is logged and the body is
 * cut short (a chunked answer without its last chunk, which HTTP clients report as incomplete), never ended as if
 * whole.
 *
 * @example
 * const body = tableStream('tsv', { header: ['sample', 'Sex'], batches }, { log, route: 'termdb/samples' });
 * return c.body(body, 200, { 'Content-Type': FORMAT_MEDIA_TYPES.tsv });
 */
export function tableStream(
  format: TableFormat,
  table: Table,
  options: TableStreamOptions,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let batches: Iterator<readonly (readonly TableField[])[]> | undefined;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    options.done?.();
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(encoder.encode(tableRow(format, table.header)));
      },
      async pull(controller) {
        await new Promise((resolve) => setImmediate(resolve));
        try {
          batches ??= table.batches[Symbol.iterator]();
          const next = batches.next();
          if (next.done === true) {
            finish();
            controller.close();
            return;
          }
          let text = '';
          for (const row of next.value) text += tableRow(format, row);
          controller.enqueue(encoder.encode(text));
        } catch (error) {
          options.log.error('table_stream_failed', { route: options.route, ...describeError(error) });
          finish();
          controller.error(error);
        }
      },
      cancel() {
        batches?.return?.();
        finish();
      },
    },
    // One chunk ahead at most: the next batch waits until the client has taken this one.
    { highWaterMark: 1 },
  );
}

/**
 * The headers of a table answer: its media type, and a file name for a browser that saves it.
 *
 * @example
 * c.body(stream, 200, tableHeaders('csv', 'TermdbTest-sex'));
 */
export function tableHeaders(format: TableFormat, name: string): Record<string, string> {
  // Letters, digits and ._- only: the name goes into a header and, in a browser, a file path.
  const file = `${name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 200)}.${format}`;
  return {
    'Content-Type': FORMAT_MEDIA_TYPES[format],
    'Content-Disposition': `attachment; filename="${file}"`,
  };
}
