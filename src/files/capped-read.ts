import { open } from 'node:fs/promises';
import path from 'node:path';

/**
 * A settings file over its size limit, refused unread: parsing YAML is synchronous, so a pasted dump would
 * stall every user's turn for as long as it takes (a 7.5 MB glossary once held them for 55 s).
 */
export class FileTooLargeError extends Error {
  constructor(
    readonly file: string,
    readonly size: number,
    readonly maxBytes: number,
  ) {
    super(`${path.basename(file)}: ${kb(size)} KB, larger than the ${kb(maxBytes)} KB it may be`);
  }
}

/**
 * Reads a settings file as UTF-8 text, or throws `FileTooLargeError` without reading it when it is larger
 * than `maxBytes` (errors such as ENOENT pass through). The size is checked on the open file and the read
 * stops at the limit, so a file that grows between the check and the read is refused too.
 */
export async function readCappedText(file: string, maxBytes: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) throw new FileTooLargeError(file, size, maxBytes);
    // One byte over the limit: room to tell a file that grew past it between the check and the read.
    const buffer = Buffer.allocUnsafe(maxBytes + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length < buffer.length; length += read) {
      ({ bytesRead: read } = await handle.read(buffer, length, buffer.length - length, null));
    }
    if (length > maxBytes) throw new FileTooLargeError(file, length, maxBytes);
    return buffer.toString('utf8', 0, length);
  } finally {
    await handle.close();
  }
}

const kb = (bytes: number) => Math.ceil(bytes / 1024).toLocaleString('en');
