import { useQuery } from '@tanstack/react-query';
import { fetchBlob } from '../api/client';
import type { MediaFile } from '../api/types';
import { Skeleton, useObjectUrl } from './ui';

/** A media file's thumbnail, fetched with the session's credentials (no token in the URL). */
export function Thumbnail({ media, className = 'h-32 w-full' }: { media: Pick<MediaFile, 'id' | 'media_type' | 'original_filename'>; className?: string }) {
  const isImage = media.media_type === 'image';
  const blob = useQuery({
    queryKey: ['thumbnail', media.id],
    queryFn: () => fetchBlob(`/api/v1/media/${media.id}/thumbnail`),
    enabled: isImage,
    staleTime: Infinity,
    retry: false,
  });
  const url = useObjectUrl(blob.data);
  if (!isImage) {
    return (
      <div className={`flex items-center justify-center rounded bg-gradient-to-br from-indigo-100 to-slate-100 text-3xl ${className}`} aria-hidden>
        ♪
      </div>
    );
  }
  if (blob.isLoading) return <Skeleton className={className} />;
  if (!url) return <div className={`flex items-center justify-center rounded bg-slate-100 text-xs text-slate-500 ${className}`}>No preview</div>;
  return <img src={url} alt={`Thumbnail of ${media.original_filename}`} className={`rounded object-contain ${className}`} />;
}

/** The whole file, for previews of originals and results. */
export function useFileBlob(url: string | undefined) {
  return useQuery({ queryKey: ['file', url], queryFn: () => fetchBlob(url!), enabled: Boolean(url), staleTime: Infinity });
}
