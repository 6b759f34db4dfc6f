import * as tus from 'tus-js-client';
import { currentToken } from '../api/client';
import { ApiError } from '../api/errors';
import type { MediaFile } from '../api/types';

/** Files from this size on go through tus: resumable, in parts, so a dropped connection loses little. */
export const TUS_THRESHOLD_BYTES = 16 * 1024 * 1024;
const TUS_CHUNK_BYTES = 8 * 1024 * 1024;

export interface UploadHandle {
  done: Promise<{ mediaId: string; media?: MediaFile }>;
  abort(): void;
}

/** Uploads one file, reporting progress from 0 to 1. */
export function uploadFile(file: File, onProgress: (fraction: number) => void): UploadHandle {
  return file.size >= TUS_THRESHOLD_BYTES ? uploadTus(file, onProgress) : uploadMultipart(file, onProgress);
}

// XMLHttpRequest, not fetch: only it reports upload progress.
function uploadMultipart(file: File, onProgress: (fraction: number) => void): UploadHandle {
  const xhr = new XMLHttpRequest();
  const done = (async () => {
    const token = await currentToken();
    return new Promise<{ mediaId: string; media: MediaFile }>((resolve, reject) => {
      xhr.open('POST', '/api/v1/media/upload');
      if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
      xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
      xhr.onerror = () => reject(new ApiError(0, 'NETWORK_ERROR', 'The upload was interrupted'));
      xhr.onabort = () => reject(new ApiError(0, 'ABORTED', 'The upload was cancelled'));
      xhr.onload = async () => {
        const res = new Response(xhr.responseText, { status: xhr.status, headers: { 'x-request-id': xhr.getResponseHeader('x-request-id') ?? '' } });
        if (xhr.status !== 201 && xhr.status !== 200) return reject(await ApiError.fromResponse(res));
        const media = JSON.parse(xhr.responseText) as MediaFile;
        onProgress(1);
        resolve({ mediaId: media.id, media });
      };
      const body = new FormData();
      body.append('file', file, file.name);
      xhr.send(body);
    });
  })();
  return { done, abort: () => xhr.abort() };
}

function uploadTus(file: File, onProgress: (fraction: number) => void): UploadHandle {
  let upload: tus.Upload | undefined;
  const done = new Promise<{ mediaId: string }>((resolve, reject) => {
    let mediaId: string | undefined;
    upload = new tus.Upload(file, {
      endpoint: '/api/v1/uploads',
      chunkSize: TUS_CHUNK_BYTES,
      retryDelays: [0, 1000, 3000, 5000, 10_000],
      metadata: { filename: file.name, filetype: file.type },
      removeFingerprintOnSuccess: true,
      async onBeforeRequest(req) {
        const token = await currentToken();
        if (token) req.setHeader('Authorization', `Bearer ${token}`);
      },
      onAfterResponse(_req, res) {
        mediaId = res.getHeader('Mediaflow-Media-Id') ?? mediaId;
      },
      onProgress: (sent, total) => onProgress(total ? sent / total : 0),
      onSuccess: () => (mediaId ? resolve({ mediaId }) : reject(new ApiError(0, 'UPLOAD_ERROR', 'The upload finished without a media file'))),
      onError: (err) => {
        const res = (err as tus.DetailedError).originalResponse;
        const body = res?.getBody();
        let message = err.message;
        let requestId: string | undefined;
        try {
          const parsed = body ? (JSON.parse(body) as { error?: { message: string; request_id: string } }) : undefined;
          if (parsed?.error) ({ message, request_id: requestId } = parsed.error);
        } catch {
          /* not our error body */
        }
        reject(new ApiError(res?.getStatus() ?? 0, 'UPLOAD_ERROR', message, requestId));
      },
    });
    upload.findPreviousUploads().then((previous) => {
      if (previous[0]) upload!.resumeFromPreviousUpload(previous[0]);
      upload!.start();
    }, reject);
  });
  return { done, abort: () => void upload?.abort(true) };
}
