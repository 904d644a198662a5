// The host's plugins and their load errors (each error listed once).

import type { PluginsPayload } from '../protocol';

export function Plugins({ plugins }: { plugins: PluginsPayload | null }) {
  if (!plugins) return null;
  const errors = [...new Map(plugins.errors.map((e) => [`${e.source ?? ''}|${e.message}`, e])).values()];
  return (
    <section className="panel" data-testid="plugins">
      <h2>Plugins</h2>
      {errors.map((error) => (
        <p key={`${error.source ?? ''}|${error.message}`} className="error">
          {error.plugin ?? error.source ?? 'plugin'}: {error.message}
        </p>
      ))}
      <ul className="plugins">
        {plugins.plugins.map((plugin) => (
          <li key={plugin.name} title={plugin.description ?? undefined}>
            <strong>{plugin.name}</strong> <span className="muted">{plugin.version}</span>
            <span className="muted"> — {(plugin.objects ?? []).map((o) => `${o.kind}:${o.id}`).join(', ')}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
