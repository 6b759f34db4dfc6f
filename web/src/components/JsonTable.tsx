/** A JSON value as a readable table: objects as key/value rows, lists of objects as columns. */
export function JsonTable({ value, depth = 0 }: { value: unknown; depth?: number }) {
  if (value === null || value === undefined) return <span className="text-slate-400">—</span>;
  if (typeof value !== 'object') return <span className="break-words">{String(value)}</span>;
  if (Array.isArray(value)) {
    if (!value.length) return <span className="text-slate-400">(none)</span>;
    const objects = value.every((v) => v && typeof v === 'object' && !Array.isArray(v));
    if (objects && depth < 3) {
      const columns = [...new Set(value.flatMap((v) => Object.keys(v as object)))].slice(0, 8);
      const shown = value.slice(0, 100);
      return (
        <div className="overflow-x-auto">
          <table className="data-table">
            <thead>
              <tr>
                {columns.map((c) => (
                  <th key={c}>{c.replace(/_/g, ' ')}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {shown.map((row, i) => (
                <tr key={i}>
                  {columns.map((c) => (
                    <td key={c}>
                      <JsonTable value={(row as Record<string, unknown>)[c]} depth={depth + 1} />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {value.length > shown.length && <p className="hint">{value.length - shown.length} more rows not shown</p>}
        </div>
      );
    }
    const flat = value.slice(0, 50).map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v)));
    return <span className="break-words">{flat.join(', ')}{value.length > 50 ? ` … (${value.length} in all)` : ''}</span>;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (!entries.length) return <span className="text-slate-400">(empty)</span>;
  return (
    <table className="data-table" data-testid={depth === 0 ? 'json-table' : undefined}>
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th scope="row" className="w-1/3 normal-case">
              {k.replace(/_/g, ' ')}
            </th>
            <td>
              <JsonTable value={v} depth={depth + 1} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
