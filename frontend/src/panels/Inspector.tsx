// Properties of the first selected prim and its variant sets (changing one asks the server to
// recompose).

import type { PropertiesPayload, VariantsPayload } from '../protocol';
import type { ViewerStore } from '../state/store';

const MAX_CHARS = 120;

/** Rounds floats to 5 significant digits so vectors stay readable. */
function roundFloats(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(5)) : value;
}

/** A property value as one short line (arrays arrive as `{length, preview, truncated}`). */
export function showValue(value: unknown): string {
  if (value === null || value === undefined) return '—';
  let text: string;
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    text =
      'length' in record && 'preview' in record
        ? `[${String(record.length)} items] ${JSON.stringify(record.preview, roundFloats)}`
        : JSON.stringify(value, roundFloats);
  } else {
    text = typeof value === 'number' ? String(roundFloats('', value)) : String(value);
  }
  return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS - 1)}…` : text;
}

export function Inspector({
  path,
  properties,
  variants,
  store,
}: {
  path: string | null;
  properties: PropertiesPayload | null;
  variants: VariantsPayload | null;
  store: ViewerStore;
}) {
  const entries = properties ? Object.entries(properties.properties ?? {}) : [];
  const sets = variants ? Object.entries(variants.variants ?? {}) : [];
  return (
    <section className="panel" data-testid="inspector">
      <h2>Properties</h2>
      {!path && <p className="muted">Select a prim.</p>}
      {path && <p className="path" data-testid="inspector-path">{path}</p>}
      {path && !properties && <p className="muted">Loading…</p>}
      {entries.length > 0 && (
        <table className="props">
          <tbody>
            {entries.map(([name, value]) => (
              <tr key={name}>
                <th>{name}</th>
                <td title={typeof value === 'object' ? JSON.stringify(value) : String(value)}>{showValue(value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {properties?.truncated && <p className="muted">{properties.omitted_count ?? 'Some'} more properties not shown.</p>}
      {sets.length > 0 && (
        <div data-testid="variants">
          <h3>Variants</h3>
          {sets.map(([set, info]) => (
            <label key={set} className="field">
              <span>{set}</span>
              <select
                value={info.selection}
                onChange={(e) =>
                  path && store.send('setVariantRequest', { prim_path: path, variant_set: set, variant_selection: e.target.value })
                }
              >
                {info.options.map((option) => (
                  <option key={option} value={option}>
                    {option}
                  </option>
                ))}
              </select>
            </label>
          ))}
        </div>
      )}
    </section>
  );
}
