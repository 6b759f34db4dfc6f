import { useEffect, useRef, useState } from 'react';
import { useObjectUrl } from './ui';

/** Peaks of decoded audio: min/max pairs per column, from -1 to 1. */
export function peaks(samples: Float32Array, columns: number): [number, number][] {
  const out: [number, number][] = [];
  const per = Math.max(1, Math.floor(samples.length / columns));
  for (let c = 0; c < columns; c++) {
    let lo = 0;
    let hi = 0;
    const end = Math.min(samples.length, (c + 1) * per);
    for (let i = c * per; i < end; i++) {
      const v = samples[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    out.push([lo, hi]);
  }
  return out;
}

/** An audio player with the file's waveform drawn from its decoded samples; clicking seeks. */
export function AudioPlayer({ blob, label }: { blob: Blob; label: string }) {
  const url = useObjectUrl(blob);
  const canvas = useRef<HTMLCanvasElement>(null);
  const audio = useRef<HTMLAudioElement>(null);
  const [wave, setWave] = useState<[number, number][]>();
  const [position, setPosition] = useState(0);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let cancelled = false;
    const ctx = new AudioContext();
    blob
      .arrayBuffer()
      .then((buf) => ctx.decodeAudioData(buf))
      .then((decoded) => !cancelled && setWave(peaks(decoded.getChannelData(0), 600)))
      .catch(() => !cancelled && setFailed(true))
      .finally(() => void ctx.close());
    return () => {
      cancelled = true;
    };
  }, [blob]);

  useEffect(() => {
    const c = canvas.current;
    if (!c || !wave) return;
    const g = c.getContext('2d')!;
    const { width, height } = c;
    g.clearRect(0, 0, width, height);
    const col = width / wave.length;
    // Scaled to the loudest peak, so quiet recordings still show their shape.
    const scale = 1 / Math.max(0.01, ...wave.map(([lo, hi]) => Math.max(-lo, hi)));
    wave.forEach(([lo, hi], i) => {
      g.fillStyle = i / wave.length <= position ? '#4f46e5' : '#a5b4fc';
      const top = ((1 - hi * scale) / 2) * height;
      const bottom = ((1 - lo * scale) / 2) * height;
      g.fillRect(i * col, top, Math.max(1, col - 0.5), Math.max(1, bottom - top));
    });
  }, [wave, position]);

  return (
    <div className="space-y-2">
      {!failed && (
        <canvas
          ref={canvas}
          width={1200}
          height={160}
          data-testid="waveform"
          role="img"
          aria-label={`Waveform of ${label}`}
          className="h-24 w-full cursor-pointer rounded bg-slate-50"
          onClick={(e) => {
            const a = audio.current;
            if (!a || !a.duration) return;
            const rect = e.currentTarget.getBoundingClientRect();
            a.currentTime = ((e.clientX - rect.left) / rect.width) * a.duration;
          }}
        />
      )}
      {url && (
        <audio
          ref={audio}
          controls
          src={url}
          className="w-full"
          aria-label={label}
          onTimeUpdate={(e) => setPosition(e.currentTarget.duration ? e.currentTarget.currentTime / e.currentTarget.duration : 0)}
        />
      )}
    </div>
  );
}
