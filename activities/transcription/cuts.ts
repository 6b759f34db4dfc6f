// Where long audio is cut: at silences, so no word is split, into pieces no longer than a provider takes.

export interface Silence {
  start: number;
  end: number;
}

/** ffmpeg's silencedetect lines on stderr: `silence_start: 12.3` then `silence_end: 13.1 | silence_duration: 0.8`. */
export function silenceParser() {
  const found: Silence[] = [];
  let open: number | undefined;
  return {
    line(line: string): void {
      const start = /silence_start: (-?[\d.]+)/.exec(line);
      if (start) open = Math.max(0, Number(start[1]));
      const end = /silence_end: ([\d.]+)/.exec(line);
      if (end && open !== undefined) {
        found.push({ start: open, end: Number(end[1]) });
        open = undefined;
      }
    },
    /** A silence still open at the end of the file runs to `duration`. */
    silences(duration: number): Silence[] {
      return open !== undefined ? [...found, { start: open, end: duration }] : found;
    },
  };
}

/**
 * Cut times (seconds) splitting `duration` into pieces of at most `maxPiece`: each cut is in the
 * middle of the longest silence in the second half of the window, else (speech without a pause)
 * at the window's end.
 */
export function planCuts(duration: number, silences: Silence[], maxPiece: number): number[] {
  const cuts: number[] = [];
  let from = 0;
  while (duration - from > maxPiece) {
    const windowEnd = from + maxPiece;
    const candidates = silences
      .map((s) => ({ mid: (s.start + s.end) / 2, length: s.end - s.start }))
      .filter((s) => s.mid > from + maxPiece / 2 && s.mid < windowEnd);
    const best = candidates.sort((a, b) => b.length - a.length || b.mid - a.mid)[0];
    const cut = Math.round((best ? best.mid : windowEnd) * 1000) / 1000;
    cuts.push(cut);
    from = cut;
  }
  return cuts;
}

/** Seconds of audio in a PCM WAV file, from its header and its data chunk's size. */
export function wavSeconds(header: Buffer, fileSize: number): number {
  if (header.toString('ascii', 0, 4) !== 'RIFF' || header.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
  let byteRate = 0;
  for (let at = 12; at + 8 <= header.length; ) {
    const id = header.toString('ascii', at, at + 4);
    const size = header.readUInt32LE(at + 4);
    if (id === 'fmt ') byteRate = header.readUInt32LE(at + 16);
    if (id === 'data') {
      // ffmpeg's segment muxer may leave the size unset (0 or 0xffffffff): the rest of the file is data.
      const data = size === 0 || size === 0xffffffff ? fileSize - at - 8 : Math.min(size, fileSize - at - 8);
      return byteRate ? data / byteRate : 0;
    }
    at += 8 + size + (size % 2);
  }
  throw new Error('WAV file without a data chunk');
}
