import { fileTypeFromBuffer } from 'file-type';
import type { MediaKind } from '../actions/types.js';

/** How many leading bytes file-type needs to recognise every supported format. */
export const SNIFF_BYTES = 4100;

export interface FormatEntry {
  /** The name clients see in `GET /supported-formats` and in refusals. */
  format: string;
  mediaType: MediaKind;
  /** The MIME type we record and serve; ours, so it is stable across file-type versions. */
  mimeType: string;
  /** The extensions file-type reports for it. */
  detectedAs: string[];
  /** For video containers: only their sound is used. */
  note?: string;
}

/**
 * The one table of what uploads accept: the upload check, the refusal's list and
 * `GET /api/v1/supported-formats` all read it. Video containers are audio sources (their first audio
 * track is what the audio actions read), as meeting recordings arrive as video as often as audio.
 */
export const FORMATS: readonly FormatEntry[] = [
  { format: 'jpeg', mediaType: 'image', mimeType: 'image/jpeg', detectedAs: ['jpg'] },
  { format: 'png', mediaType: 'image', mimeType: 'image/png', detectedAs: ['png', 'apng'] },
  { format: 'webp', mediaType: 'image', mimeType: 'image/webp', detectedAs: ['webp'] },
  { format: 'gif', mediaType: 'image', mimeType: 'image/gif', detectedAs: ['gif'] },
  { format: 'tiff', mediaType: 'image', mimeType: 'image/tiff', detectedAs: ['tif'] },
  { format: 'bmp', mediaType: 'image', mimeType: 'image/bmp', detectedAs: ['bmp'] },
  { format: 'avif', mediaType: 'image', mimeType: 'image/avif', detectedAs: ['avif'] },
  { format: 'mp3', mediaType: 'audio', mimeType: 'audio/mpeg', detectedAs: ['mp3'] },
  { format: 'wav', mediaType: 'audio', mimeType: 'audio/wav', detectedAs: ['wav'] },
  { format: 'flac', mediaType: 'audio', mimeType: 'audio/flac', detectedAs: ['flac'] },
  { format: 'ogg', mediaType: 'audio', mimeType: 'audio/ogg', detectedAs: ['ogg', 'opus', 'oga'] },
  { format: 'm4a', mediaType: 'audio', mimeType: 'audio/mp4', detectedAs: ['m4a', 'm4b', 'f4a', 'f4b'] },
  { format: 'webm', mediaType: 'audio', mimeType: 'audio/webm', detectedAs: ['webm'] },
  { format: 'mp4', mediaType: 'audio', mimeType: 'video/mp4', detectedAs: ['mp4', 'm4v', 'f4v'], note: 'video: its audio track is used' },
  { format: 'mov', mediaType: 'audio', mimeType: 'video/quicktime', detectedAs: ['mov'], note: 'video: its audio track is used' },
  { format: '3gp', mediaType: 'audio', mimeType: 'video/3gpp', detectedAs: ['3gp', '3g2'], note: 'video: its audio track is used' },
  { format: 'mkv', mediaType: 'audio', mimeType: 'video/x-matroska', detectedAs: ['mkv'], note: 'video: its audio track is used' },
];

/** Recognised formats we refuse on purpose, with what to do instead. */
const REFUSED: Record<string, string> = {
  heic: 'HEIC/HEIF photos (HEVC-coded) cannot be decoded here: export them as JPEG (on an iPhone: Settings → Camera → Formats → Most Compatible) or convert them to JPEG, PNG or AVIF first',
  cr2: 'camera raw files are not supported: export a JPEG or TIFF from your raw editor',
  nef: 'camera raw files are not supported: export a JPEG or TIFF from your raw editor',
  arw: 'camera raw files are not supported: export a JPEG or TIFF from your raw editor',
  dng: 'camera raw files are not supported: export a JPEG or TIFF from your raw editor',
};

const BY_EXTENSION = new Map(FORMATS.flatMap((f) => f.detectedAs.map((ext) => [ext, f] as const)));

export interface DetectedType {
  extension: string;
  mediaType: MediaKind;
  mimeType: string;
}

export type Detection =
  | { ok: true; type: DetectedType }
  | { ok: false; detected?: string; reason: string };

/**
 * The type of a file from its leading bytes. A TIFF's directory may sit anywhere in the file (libtiff
 * and scanners write it last), so the TIFF header alone identifies one once file-type, which looks
 * for the directory inside the bytes it was given, finds no more specific TIFF-based format.
 */
export async function detectMediaType(head: Buffer): Promise<Detection> {
  const found = await fileTypeFromBuffer(head).catch(() => undefined);
  const ext = found?.ext ?? (isTiffHeader(head) ? 'tif' : undefined);
  if (!ext) return { ok: false, reason: 'the file type is not recognised' };
  const refused = REFUSED[ext];
  if (refused) return { ok: false, detected: ext, reason: refused };
  const entry = BY_EXTENSION.get(ext);
  if (!entry) return { ok: false, detected: ext, reason: `${ext} files are not supported` };
  return { ok: true, type: { extension: ext === 'apng' ? 'png' : ext, mediaType: entry.mediaType, mimeType: entry.mimeType } };
}

function isTiffHeader(head: Buffer): boolean {
  if (head.length < 8) return false;
  const le = head[0] === 0x49 && head[1] === 0x49 && head.readUInt16LE(2) === 42;
  const be = head[0] === 0x4d && head[1] === 0x4d && head.readUInt16BE(2) === 42;
  return le || be;
}

/** The accepted formats' names, per media type. */
export function supportedFormatNames(mediaType?: MediaKind): string[] {
  return FORMATS.filter((f) => !mediaType || f.mediaType === mediaType).map((f) => f.format);
}
