import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api } from '../api/client';
import { unwrap } from '../api/errors';
import { EmptyState, ErrorBox, formatBytes, PageHeader, Skeleton } from '../components/ui';

const day = (d: Date) => d.toISOString().slice(0, 10);
const PERIODS = [
  ['7', 'Last 7 days'],
  ['30', 'Last 30 days'],
  ['90', 'Last 90 days'],
  ['custom', 'Custom'],
] as const;

/** Every UTC date of [from, to), so days without usage show as zero instead of vanishing. */
function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = new Date(`${from}T00:00:00Z`); day(d) < to && out.length < 400; d.setUTCDate(d.getUTCDate() + 1)) out.push(day(d));
  return out;
}

function Card({ label, value, testId }: { label: string; value: string | number; testId?: string }) {
  return (
    <div className="card">
      <p className="text-xs font-semibold uppercase text-slate-500">{label}</p>
      <p className="mt-1 text-2xl font-semibold" data-testid={testId}>
        {value}
      </p>
    </div>
  );
}

function Chart({ title, children, testId }: { title: string; children: React.ReactElement; testId: string }) {
  return (
    <section className="card" aria-label={title} data-testid={testId}>
      <h2 className="h2 mb-2">{title}</h2>
      <div className="h-64 w-full">
        <ResponsiveContainer width="100%" height="100%">
          {children}
        </ResponsiveContainer>
      </div>
    </section>
  );
}

export function UsagePage() {
  const [period, setPeriod] = useState<string>('30');
  const tomorrow = day(new Date(Date.now() + 86_400_000));
  const [custom, setCustom] = useState({ from: day(new Date(Date.now() - 29 * 86_400_000)), to: day(new Date()) });
  const range =
    period === 'custom'
      ? { from: custom.from, to: day(new Date(new Date(`${custom.to}T00:00:00Z`).getTime() + 86_400_000)) }
      : { from: day(new Date(Date.now() - (Number(period) - 1) * 86_400_000)), to: tomorrow };
  const valid = range.from < range.to;
  const query = { from: range.from, to: range.to };
  const summary = useQuery({ queryKey: ['usage', query], queryFn: () => unwrap(api.GET('/api/v1/usage', { params: { query } })), enabled: valid });
  const byDay = useQuery({
    queryKey: ['usage', query, 'day'],
    queryFn: () => unwrap(api.GET('/api/v1/usage/detailed', { params: { query: { ...query, group_by: 'day' } } })),
    enabled: valid,
  });
  const byAction = useQuery({
    queryKey: ['usage', query, 'action'],
    queryFn: () => unwrap(api.GET('/api/v1/usage/detailed', { params: { query: { ...query, group_by: 'action' } } })),
    enabled: valid,
  });
  const byKey = useQuery({
    queryKey: ['usage', query, 'api_key'],
    queryFn: () => unwrap(api.GET('/api/v1/usage/detailed', { params: { query: { ...query, group_by: 'api_key' } } })),
    enabled: valid,
  });
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: () => unwrap(api.GET('/api/v1/api-keys')), retry: false });
  const jobsByDay = useQuery({
    queryKey: ['usage', query, 'jobs'],
    queryFn: async () => {
      // Jobs created per day: the job list filtered to the period (first 1000 jobs).
      const counts = new Map<string, number>();
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const res = await unwrap(
          api.GET('/api/v1/jobs', { params: { query: { created_after: `${range.from}T00:00:00Z`, created_before: `${range.to}T00:00:00Z`, limit: 100, cursor } } }),
        );
        for (const j of res.data) counts.set(j.created_at.slice(0, 10), (counts.get(j.created_at.slice(0, 10)) ?? 0) + 1);
        if (!res.next_cursor) break;
        cursor = res.next_cursor;
      }
      return counts;
    },
    enabled: valid,
  });

  const days = valid ? daysBetween(range.from, range.to) : [];
  const dayGroups = new Map((byDay.data?.groups ?? []).map((g) => [g.key ?? '', g]));
  const daily = days.map((d) => ({
    day: d.slice(5),
    requests: dayGroups.get(d)?.requests ?? 0,
    errors: dayGroups.get(d)?.errors ?? 0,
    jobs: jobsByDay.data?.get(d) ?? 0,
    steps: dayGroups.get(d)?.steps ?? 0,
    credits: dayGroups.get(d)?.credits ?? 0,
  }));
  const keyName = new Map((keys.data?.api_keys ?? []).map((k) => [k.key_id, k.name]));
  const s = summary.data;
  const error = summary.error ?? byDay.error ?? byAction.error ?? byKey.error;

  return (
    <>
      <PageHeader title="Usage">
        <div className="flex flex-wrap items-end gap-2">
          <div>
            <label htmlFor="usage-period" className="label">
              Period
            </label>
            <select id="usage-period" className="input mt-1" value={period} onChange={(e) => setPeriod(e.target.value)}>
              {PERIODS.map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          </div>
          {period === 'custom' && (
            <>
              <div>
                <label htmlFor="usage-from" className="label">
                  From
                </label>
                <input id="usage-from" type="date" className="input mt-1" value={custom.from} onChange={(e) => setCustom((c) => ({ ...c, from: e.target.value }))} />
              </div>
              <div>
                <label htmlFor="usage-to" className="label">
                  To (inclusive)
                </label>
                <input id="usage-to" type="date" className="input mt-1" value={custom.to} onChange={(e) => setCustom((c) => ({ ...c, to: e.target.value }))} />
              </div>
            </>
          )}
        </div>
      </PageHeader>
      {!valid && <p className="field-error mb-4">The period must start before it ends.</p>}
      {error && <ErrorBox error={error} title="Could not load the usage" />}
      <div className="mb-6 grid grid-cols-2 gap-4 lg:grid-cols-4">
        {s ? (
          <>
            <Card label="Requests" value={s.requests.total.toLocaleString()} testId="usage-requests" />
            <Card label="Jobs" value={s.jobs.total.toLocaleString()} testId="usage-jobs" />
            <Card label="Credits" value={s.credits.toLocaleString()} testId="usage-credits" />
            <Card label="Storage" value={`${formatBytes(s.storage.used_bytes)} · ${s.storage.files} files`} />
          </>
        ) : (
          Array.from({ length: 4 }, (_, i) => <Skeleton key={i} className="h-20 w-full" />)
        )}
      </div>
      <div className="grid gap-6 lg:grid-cols-2">
        <Chart title="Requests and jobs per day" testId="chart-daily">
          <LineChart data={daily}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="day" fontSize={12} />
            <YAxis allowDecimals={false} fontSize={12} />
            <Tooltip />
            <Legend />
            <Line type="monotone" dataKey="requests" name="Requests" stroke="#4f46e5" dot={false} isAnimationActive={false} />
            <Line type="monotone" dataKey="errors" name="Errors" stroke="#dc2626" dot={false} isAnimationActive={false} />
            <Line type="monotone" dataKey="jobs" name="Jobs" stroke="#16a34a" isAnimationActive={false} />
          </LineChart>
        </Chart>
        <Chart title="Credits per day" testId="chart-credits">
          <BarChart data={daily}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="day" fontSize={12} />
            <YAxis fontSize={12} />
            <Tooltip />
            <Bar dataKey="credits" name="Credits" fill="#6366f1" isAnimationActive={false} />
          </BarChart>
        </Chart>
        <Chart title="By action" testId="chart-actions">
          {byAction.data?.groups.length ? (
            <BarChart data={byAction.data.groups.map((g) => ({ action: g.key ?? '—', steps: g.steps, credits: g.credits }))}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="action" fontSize={11} />
              <YAxis fontSize={12} />
              <Tooltip />
              <Legend />
              <Bar dataKey="steps" name="Steps" fill="#0ea5e9" isAnimationActive={false} />
              <Bar dataKey="credits" name="Credits" fill="#6366f1" isAnimationActive={false} />
            </BarChart>
          ) : (
            <EmptyChart />
          )}
        </Chart>
        <Chart title="By API key" testId="chart-keys">
          {byKey.data?.groups.length ? (
            <BarChart data={byKey.data.groups.map((g) => ({ key: g.key ? (keyName.get(g.key) ?? g.key.slice(0, 8)) : 'Signed-in users', requests: g.requests, steps: g.steps }))}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="key" fontSize={11} />
              <YAxis fontSize={12} />
              <Tooltip />
              <Legend />
              <Bar dataKey="requests" name="Requests" fill="#4f46e5" isAnimationActive={false} />
              <Bar dataKey="steps" name="Steps" fill="#0ea5e9" isAnimationActive={false} />
            </BarChart>
          ) : (
            <EmptyChart />
          )}
        </Chart>
      </div>
    </>
  );
}

// ResponsiveContainer wants one element child.
function EmptyChart() {
  return (
    <div className="flex h-full items-center justify-center">
      <EmptyState title="Nothing in this period" />
    </div>
  );
}
