// Percentiles, timing and the printed table of `npm run bench:jobs`.
export interface Sample {
  p50: number;
  p95: number;
  n: number;
}

export function percentiles(ms: number[]): Sample {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
  return { p50: round(at(0.5)), p95: round(at(0.95)), n: s.length };
}

export const round = (n: number) => Math.round(n * 10) / 10;

/** Runs `fn` `n` times one after another (after `warmup` unmeasured runs); the wall time of each. */
export async function sequential(n: number, warmup: number, fn: (i: number) => Promise<unknown>): Promise<Sample> {
  for (let i = 0; i < warmup; i++) await fn(-1 - i);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    times.push(performance.now() - t0);
  }
  return percentiles(times);
}

/** Runs `total` calls of `fn` on `width` lanes (one call at a time each); calls per second. */
export async function saturate(total: number, width: number, fn: (i: number, lane: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: width }, async (_, lane) => {
      while (next < total) await fn(next++, lane);
    }),
  );
  return round((total / (performance.now() - t0)) * 1000);
}

export interface Contender {
  name: string;
  image?: Sample;
  pipeline?: Sample;
  audio?: Sample;
  /** Jobs per second. */
  saturation?: number;
  note?: string;
}

const cell = (s?: Sample) => (s ? `${s.p50} / ${s.p95}` : '—');
const ratio = (a?: number, b?: number) => (a && b ? `${Math.round((a / b) * 100) / 100}x` : '—');

export function formatTable(rows: Contender[]): string {
  const bare = rows[0];
  const baseline = rows.find((r) => r.name.startsWith('BullMQ'));
  const lines = [
    '| contender | image p50 / p95 (ms) | pipeline p50 / p95 (ms) | audio p50 / p95 (ms) | saturation (jobs/s) | image p50 vs bare | image p50 vs BullMQ | pipeline p50 vs BullMQ | audio p50 vs BullMQ | saturation vs bare | saturation vs BullMQ |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${cell(r.image)} | ${cell(r.pipeline)} | ${cell(r.audio)} | ${r.saturation ?? '—'} | ${ratio(r.image?.p50, bare?.image?.p50)} | ${ratio(r.image?.p50, baseline?.image?.p50)} | ${ratio(r.pipeline?.p50, baseline?.pipeline?.p50)} | ${ratio(r.audio?.p50, baseline?.audio?.p50)} | ${ratio(r.saturation, bare?.saturation)} | ${ratio(r.saturation, baseline?.saturation)} |`,
    ),
  ];
  for (const r of rows) if (r.note) lines.push(`\n${r.name}: ${r.note}`);
  return lines.join('\n');
}

/** The issue's targets, checked against the measured rows. */
export function formatTargets(rows: Contender[]): string {
  const [bare] = rows;
  const baseline = rows.find((r) => r.name.startsWith('BullMQ'));
  const mf = rows.find((r) => r.name.startsWith('Mediaflow'));
  const check = (label: string, value: number | undefined, ok: boolean | undefined) =>
    `- ${label}: ${value === undefined || Number.isNaN(value) ? 'not measured' : `${value}`} ${ok === undefined ? '' : ok ? '(met)' : '(NOT met)'}`;
  const img = mf?.image?.p50;
  const vsBull = img && baseline?.image?.p50 ? round(img / baseline.image.p50) : undefined;
  const sat = mf?.saturation && bare?.saturation ? Math.round((mf.saturation / bare.saturation) * 100) / 100 : undefined;
  return [
    'Targets:',
    check('single-step image job p50 <= 120 ms', img, img === undefined ? undefined : img <= 120),
    check('single-step image job p50 <= 5x BullMQ', vsBull, vsBull === undefined ? undefined : vsBull <= 5),
    check('three-step pipeline p50 <= 250 ms', mf?.pipeline?.p50, mf?.pipeline ? mf.pipeline.p50 <= 250 : undefined),
    check('saturation >= 0.5x bare 2-way', sat, sat === undefined ? undefined : sat >= 0.5),
  ].join('\n');
}

/**
 * What CPU alone allows at saturation: the machine's cores over the CPU all processes spent per job,
 * against half the bare action's rate (the target); and the floor no worker or API code can go
 * below: the Temporal server, Postgres and MinIO as measured, plus the bare action's own CPU.
 */
export function formatCeiling(
  cores: number,
  bare: { saturation?: number; busy?: number },
  mf: { saturation?: number; busy?: number; byRole?: Map<string, number> },
  baselineBusy: number | undefined,
): string {
  if (!mf.busy || !bare.saturation || !mf.saturation || !mf.byRole) return 'Saturation ceiling: not measured (no CPU reading)';
  const budget = cores * 1000;
  const ceiling = budget / mf.busy;
  const half = bare.saturation / 2;
  const services = ['Temporal dev server', 'Postgres', 'MinIO'].map((role) => [role, mf.byRole!.get(role) ?? 0] as const);
  const floor = services.reduce((sum, [, ms]) => sum + ms, 0) + (bare.busy ?? 0);
  return [
    `Saturation ceiling from CPU alone (${cores} cores = ${budget} ms of CPU a second, every process on this machine):`,
    `- Mediaflow, all processes: ${mf.busy.toFixed(1)} ms a job, so at most ${round(ceiling)} jobs/s (${round(ceiling / bare.saturation)}x bare); measured ${mf.saturation}`,
    `- half the bare action's rate (${round(half)} jobs/s) leaves ${(budget / half).toFixed(1)} ms of CPU a job for everything together` +
      `${baselineBusy === undefined ? '' : ` (the BullMQ baseline's processes alone used ${baselineBusy.toFixed(1)})`}`,
    `- with a worker and an API that cost nothing beyond the action: ${services.map(([role, ms]) => `${role} ${ms.toFixed(1)}`).join(' + ')}` +
      ` + the bare action ${(bare.busy ?? 0).toFixed(1)} = ${floor.toFixed(1)} ms a job, at most ${round(budget / floor)} jobs/s (${round(budget / floor / bare.saturation)}x bare)`,
  ].join('\n');
}
