import { fileTypeFromBuffer } from 'file-type';
import type { MediaKind } from '../../activities/actions/types.js';

/** How many leading bytes file-type needs to recognise every supported format. */
export const SNIFF_BYTES = 4100;

// Keyed by the extension file-type reports; the MIME type is ours, so it is stable across versions.
const SUPPORTED: Record<string, { mediaType: MediaKind; mimeType: string }> = {
  jpg: { mediaType: 'image', mimeType: 'image/jpeg' },
  png: { mediaType: 'image', mimeType: 'image/png' },
  webp: { mediaType: 'image', mimeType: 'image/webp' },
  gif: { mediaType: 'image', mimeType: 'image/gif' },
  tif: { mediaType: 'image', mimeType: 'image/tiff' },
  bmp: { mediaType: 'image', mimeType: 'image/bmp' },
  avif: { mediaType: 'image', mimeType: 'image/avif' },
  mp3: { mediaType: 'audio', mimeType: 'audio/mpeg' },
  wav: { mediaType: 'audio', mimeType: 'audio/wav' },
  flac: { mediaType: 'audio', mimeType: 'audio/flac' },
  ogg: { mediaType: 'audio', mimeType: 'audio/ogg' },
  opus: { mediaType: 'audio', mimeType: 'audio/ogg' },
  oga: { mediaType: 'audio', mimeType: 'audio/ogg' },
  m4a: { mediaType: 'audio', mimeType: 'audio/mp4' },
  webm: { mediaType: 'audio', mimeType: 'audio/webm' },
};

export interface DetectedType {
  extension: string;
  mediaType: MediaKind;
  mimeType: string;
}

/** The type of a file from its leading bytes, or null when it is not one we accept. */
export async function detectMediaType(head: Buffer): Promise<DetectedType | null> {
  const found = await fileTypeFromBuffer(head);
  const supported = found && SUPPORTED[found.ext];
  return supported ? { extension: found.ext, ...supported } : null;
}

export const supportedExtensions = (): string[] => Object.keys(SUPPORTED);
